package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/web"
)

// cmdServe runs the service until ctx ends (SIGINT/SIGTERM), then shuts
// down in order: HTTP server (in-flight requests finish), background jobs,
// database pool.
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[flags]")
	ec := bindConfig(fs, e.getenv, true)
	basemap := fs.String("basemap", e.getenv("WATERLINE_BASEMAP"), "optional base map raster tile URL template, e.g. https://…/{z}/{x}/{y}.png (env WATERLINE_BASEMAP)")
	webhook := fs.String("repair-webhook", e.getenv("WATERLINE_REPAIR_WEBHOOK"), "URL that escalations of overdue repair milestones are POSTed to (env WATERLINE_REPAIR_WEBHOOK)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	log := logger(e)
	pool, st, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()

	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return fmt.Errorf("load network: %w", err)
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		live.Run(bg) //nolint:errcheck // returns when bg ends
	}()

	// Services and the scheduled jobs, on one cron in the utility's zone.
	fail := func(err error) error { stopBG(); <-done; return err }
	planner, jobs, err := repairService(st, live, cfg, log, *webhook)
	if err != nil {
		return fail(err)
	}
	patrolSvc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: cfg.Rules.Grades, Rules: cfg.Rules.Patrol,
		TZ: cfg.TZ, Log: log, Replica: replicaName()})
	if err != nil {
		return fail(err)
	}
	sched := cron.New(cron.WithLocation(cfg.TZ))
	if _, err := patrolSvc.Schedule(bg, sched); err != nil {
		return fail(err)
	}
	if _, err := jobs.Schedule(bg, sched); err != nil {
		return fail(err)
	}
	sched.Start()
	stopJobs := func() { <-sched.Stop().Done() }
	go patrolSvc.CatchUp(bg) //nolint:errcheck // logged; a replica that missed the morning slot plans the day

	srv := web.New(web.Config{
		Store: st, Live: live, Tiles: tiles.New(pool, cfg.SRID, 256<<20),
		Planner: planner, Jobs: jobs, Patrol: patrolSvc,
		Log: log, TZ: cfg.TZ, Basemap: *basemap,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		stopJobs()
		return fail(err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Info("serving", "addr", ln.Addr().String(), "srid", cfg.SRID, "tz", cfg.TZ.String())
	fmt.Fprintf(e.stdout, "waterline: serving on http://%s\n", displayAddr(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	// Order: HTTP server (done above), scheduler (running jobs reach a safe
	// point), the network listener; the pool closes last (deferred).
	stopJobs()
	stopBG()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func displayAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && t.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}
