// Command waterline is the Waterline service and its tools: one binary with
// subcommands. `waterline help` lists them; each has -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations"
	"github.com/waterline-gis/waterline/web"
)

// env is what a subcommand gets from main: no globals.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	isTTY  bool
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the HTTP service (map UI, API, scheduled jobs)", cmdServe},
		"migrate":  {"apply database migrations", cmdMigrate},
		"import":   {"import a network file (Network GeoJSON or EPANET .inp), a survey, or roads (--roads)", cmdImport},
		"export":   {"export the stored network as Network GeoJSON", cmdExport},
		"gen":      {"generate a synthetic city network", cmdGen},
		"shutoff":  {"plan the shutoff of a leak: valves to close, range, customers", cmdShutoff},
		"segments": {"every valve-bounded segment, and the worst ones", cmdSegments},
		"rules":    {"print the rules file with its defaults", cmdRules},
		"patrol":   {"patrol routes: plan a day (patrol plan), solve RPP benchmarks (patrol rpp)", cmdPatrol},
		"asbuilt":  {"as-built survey batches: list, show, preview, approve, reject, commit, rollback, history, crs", cmdAsbuilt},
		"repair":   {"repair jobs: open, list, show, record milestones, escalations, report, calendar", cmdRepair},
		"bench":    {"measure the performance figures on a generated city (replaces the network!)", cmdBench},
		"user":     {"users, roles and API tokens: user add|list|passwd|set|disable|enable|token|ensure-admin", cmdUser},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "waterline: patrol and repair planning for a water network\n\nusage: waterline <command> [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "  help      show this list\n\nRun 'waterline <command> -h' for a command's flags.")
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "waterline: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return 2
	}
	if err := c.run(ctx, e, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "waterline %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(e.stderr, "waterline %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("waterline "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: waterline %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// logger logs JSON lines to standard error, scrubbed of secrets and phone
// numbers (web.Scrub).
func logger(e *env) *slog.Logger {
	return slog.New(web.Scrub(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
}

// open connects to the database and applies migrations.
func open(ctx context.Context, cfg *Config, log *slog.Logger) (*pgxpool.Pool, *store.Store, error) {
	pool, err := store.Connect(ctx, cfg.DatabaseURL, 15*time.Second)
	if err != nil {
		return nil, nil, err
	}
	applied, err := migrations.Apply(ctx, pool, cfg.SRID)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "names", applied)
		// Reconnect so every pooled connection knows the geometry type.
		pool.Close()
		if pool, err = store.Connect(ctx, cfg.DatabaseURL, 15*time.Second); err != nil {
			return nil, nil, err
		}
	}
	return pool, store.New(pool, cfg.SRID, cfg.Rules.Grades, log), nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "[flags]")
	ec := bindConfig(fs, e.getenv, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	pool, err := store.Connect(ctx, cfg.DatabaseURL, 15*time.Second)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := migrations.Apply(ctx, pool, cfg.SRID)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "migrations: up to date")
	}
	for _, a := range applied {
		fmt.Fprintln(e.stdout, "applied", a)
	}
	return nil
}

func cmdRules(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rules", "[-rules FILE]")
	file := fs.String("rules", e.getenv("WATERLINE_RULES"), "rules file to check and print (default: the built-in rules)")
	if err := parse(fs, args); err != nil {
		return err
	}
	r, err := LoadRules(*file)
	if err != nil {
		return err
	}
	b, err := EncodeRules(r)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		isTTY: isTerminal(os.Stderr),
	}))
}

// spareProc lets the Go runtime run one more goroutine at once than its
// default (the CPUs it may use), unless GOMAXPROCS is set in the
// environment, and returns that default, for web.Config.PlanSlots. While
// every P is busy the runtime looks for requests that have arrived only
// when a P runs out of work (or every 10 ms), so under load requests wait
// unread and are then served in a random order; with shutoff plans gated
// at the number of CPUs, the spare P is mostly idle and reads each request
// when it comes, and plans are served first come, first served. Calling it
// again gives the same setting.
func spareProc(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	runtime.SetDefaultGOMAXPROCS()
	n := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(n + 1)
	return n
}
