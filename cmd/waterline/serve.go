package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/web"
	"github.com/waterline-gis/waterline/web/auth"
)

// cmdServe runs the service until ctx ends (SIGINT/SIGTERM), then shuts
// down in order: HTTP server (in-flight requests finish), background jobs,
// database pool.
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[flags]")
	ec := bindConfig(fs, e.getenv, true)
	basemap := fs.String("basemap", e.getenv("WATERLINE_BASEMAP"), "optional base map raster tile URL template, e.g. https://…/{z}/{x}/{y}.png (env WATERLINE_BASEMAP)")
	webhook := fs.String("repair-webhook", e.getenv("WATERLINE_REPAIR_WEBHOOK"), "URL that escalations of overdue repair milestones are POSTed to (env WATERLINE_REPAIR_WEBHOOK)")
	sc := bindServeConfig(fs, e.getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sc.check(); err != nil {
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
	var background sync.WaitGroup // of the goroutines bg ends
	background.Go(func() {
		live.Run(bg) //nolint:errcheck // returns when bg ends
	})

	// Services and the scheduled jobs, on one cron in the utility's zone.
	fail := func(err error) error { stopBG(); background.Wait(); return err }
	planner, jobs, err := repairService(st, live, cfg, log, *webhook)
	if err != nil {
		return fail(err)
	}
	// Plans see the valves repair jobs hold closed from memory, kept
	// current by notifications.
	background.Go(func() {
		jobs.RunHeld(bg, heldPollEvery) //nolint:errcheck // returns when bg ends
	})
	patrolSvc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: cfg.Rules.Grades, Rules: cfg.Rules.Patrol,
		TZ: cfg.TZ, Log: log, Replica: replicaName()})
	if err != nil {
		return fail(err)
	}
	// Sign-in: the first start of a database makes an administrator and
	// prints its password once (make demo shows it).
	users := auth.New(pool, auth.Options{Log: log})
	welcome, err := firstAdmin(ctx, users)
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
	// A morning job that failed (the database was away) is retried: the
	// catch-up runs it if its time has passed and the day is not planned
	// (store.RunOnce: once across replicas).
	if sc.catchUp > 0 {
		if _, err := sched.AddFunc(fmt.Sprintf("@every %s", sc.catchUp), func() {
			rctx, cancel := context.WithTimeout(bg, 30*time.Minute)
			defer cancel()
			patrolSvc.CatchUp(rctx) //nolint:errcheck // logged by the patrol service
		}); err != nil {
			return fail(err)
		}
	}
	// The job history (job_run_log, for /metrics and proofs of "once per
	// slot") keeps 30 days; any replica may prune it.
	if _, err := sched.AddFunc("17 3 * * *", func() {
		rctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		if _, err := pool.Exec(rctx, "DELETE FROM job_run_log WHERE at < now() - interval '30 days'"); err != nil {
			log.Warn("prune job history", "err", err)
		}
	}); err != nil {
		return fail(err)
	}
	sched.Start()
	stopJobs := func() { <-sched.Stop().Done() }
	go patrolSvc.CatchUp(bg) //nolint:errcheck // logged; a replica that missed the morning slot plans the day

	// Open tile connections (each new backend sets up PostGIS and PROJ on
	// its first transform) and find the data extent in the background, so
	// the first map paint is not a cold one.
	tilesSvc := tiles.New(pool, cfg.SRID, 256<<20)
	go func() {
		if err := tilesSvc.Warm(bg, 8); err != nil && bg.Err() == nil {
			log.Warn("warm tiles", "err", err)
		}
	}()

	limits := web.DefaultLimits(int(pool.Config().MaxConns))
	limits.TrustProxy = sc.trustProxy
	srv := web.New(web.Config{
		Store: st, Live: live, Tiles: tilesSvc,
		Planner: planner, Jobs: jobs, Patrol: patrolSvc,
		Log: log, TZ: cfg.TZ, Basemap: *basemap,
		Auth: users, Limits: &limits, TrustedOrigins: sc.origins, Replica: replicaName(),
		PlanSlots: spareProc(e.getenv),
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		stopJobs()
		return fail(err)
	}
	// Deadlines: headers within 10 s; each route's class then sets its own
	// read and write deadlines (web.Limits); these are the outer bounds.
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       6 * time.Minute,
		WriteTimeout:      6 * time.Minute,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var ms *http.Server
	if sc.metricsAddr != "" {
		mln, err := net.Listen("tcp", sc.metricsAddr)
		if err != nil {
			ln.Close()
			stopJobs()
			return fail(fmt.Errorf("metrics listener: %w", err))
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go ms.Serve(mln) //nolint:errcheck // ends with Shutdown
		log.Info("metrics", "addr", mln.Addr().String())
	}
	log.Info("serving", "addr", ln.Addr().String(), "srid", cfg.SRID, "tz", cfg.TZ.String())
	fmt.Fprintf(e.stdout, "waterline: serving on http://%s\n", displayAddr(ln.Addr()))
	if welcome != "" {
		fmt.Fprint(e.stdout, welcome)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = hs.Shutdown(sctx)
		if ms != nil {
			ms.Shutdown(sctx) //nolint:errcheck // best effort
		}
		cancel()
	}
	// Order: HTTP server (done above), scheduler (running jobs reach a safe
	// point), the network listener; the pool closes last (deferred).
	stopJobs()
	stopBG()
	background.Wait()
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

// firstAdmin creates the administrator "admin" with a random password
// when the database has no user yet, and returns the lines that tell it
// (printed once, on standard output, never logged).
func firstAdmin(ctx context.Context, users *auth.Service) (string, error) {
	has, err := users.HasUsers(ctx)
	if err != nil || has {
		return "", err
	}
	pw, created, err := users.EnsureAdmin(ctx, "admin", false)
	if err != nil || !created {
		return "", err // another replica made it
	}
	users.Record(ctx, auth.Entry{Actor: "waterline serve", Via: auth.ViaCLI, Action: "user.add", //nolint:errcheck // best effort
		Target: map[string]any{"user": "admin", "role": "admin", "first_start": true}})
	return fmt.Sprintf("waterline: first start: created the administrator \"admin\" with password %s\n"+
		"waterline: sign in at /login; it is not shown again (`waterline user passwd admin` sets a new one)\n", pw), nil
}
