package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/rpp"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// cmdPatrol runs `waterline patrol plan|rpp`.
func cmdPatrol(ctx context.Context, e *env, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, `usage: waterline patrol <command> [flags]

commands:
  plan   plan a day's patrol routes (replaces that day's stored plan)
  rpp    solve Rural Postman instances in Corberán's format (benchmark)

Run 'waterline patrol <command> -h' for a command's flags.`)
	}
	if len(args) == 0 {
		usage(e.stderr)
		return usageError{"patrol: a command is needed"}
	}
	switch args[0] {
	case "plan":
		return cmdPatrolPlan(ctx, e, args[1:])
	case "rpp":
		return cmdPatrolRPP(ctx, e, args[1:])
	case "-h", "--help", "help":
		usage(e.stderr)
		return nil
	}
	usage(e.stderr)
	return usageError{fmt.Sprintf("patrol: unknown command %q", args[0])}
}

// patrolRules is the [patrol] section of the rules (LoadRules has read and
// checked it).
func patrolRules(cfg *Config) (patrol.Rules, error) { return cfg.Rules.Patrol, nil }

func cmdPatrolPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "patrol plan", "[--date YYYY-MM-DD] [--district ID [--managers K] [--start LON,LAT]] [--dry-run] [--json]")
	ec := bindConfig(fs, e.getenv, false)
	date := fs.String("date", "", "the day to plan, in the utility's zone (default: today)")
	district := fs.String("district", "", "plan only this district (default: every district)")
	managers := fs.Int("managers", 0, "split the district's work among this many managers (default: its managers)")
	start := fs.String("start", "", "start and end the district's routes here, WGS84 LON,LAT (default: its office)")
	dry := fs.Bool("dry-run", false, "compute and print the plan; store nothing")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	rules, err := patrolRules(cfg)
	if err != nil {
		return err
	}
	opt := patrol.PlanOptions{District: *district, Managers: *managers, Save: !*dry, Force: true}
	if *start != "" {
		p, err := parsePair(*start, "--start")
		if err != nil {
			return err
		}
		opt.StartLonLat = &[2]float64{p[0], p[1]}
	}
	log := logger(e)
	pool, st, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return err
	}
	host, _ := os.Hostname()
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: cfg.Rules.Grades, Rules: rules, TZ: cfg.TZ, Log: log,
		Replica: "cli@" + host})
	if err != nil {
		return err
	}
	opt.Day = svc.Today()
	if *date != "" {
		if opt.Day, err = schedule.ParseDay(*date); err != nil {
			return usageError{fmt.Sprintf("--date %q: want YYYY-MM-DD", *date)}
		}
	}
	p, err := svc.Plan(ctx, opt)
	if errors.Is(err, patrol.ErrPlanned) {
		return fmt.Errorf("the day %s is being planned by another process right now; try again shortly", opt.Day)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(p)
	}
	w := e.stdout
	what := "stored (replacing the day's plan)"
	if *dry {
		what = "dry run, nothing stored"
	}
	fmt.Fprintf(w, "patrol plan for %s (network version %d): %d districts, %d pipes; %s; %.1f s\n",
		p.Date, p.NetworkVersion, len(p.Districts), p.Pipes, what, p.ElapsedMS/1000)
	for _, d := range p.Districts {
		flag := ""
		if d.OverCapacity {
			flag = fmt.Sprintf("  OVER CAPACITY (%.1f km a manager; the day needs %d)", d.CapacityM/1000, d.NeededManagers)
		}
		fmt.Fprintf(w, "%s %s: %d pipes (%d overdue), %.1f km due; one manager %.1f km (bound %.1f km)%s\n",
			d.District, d.Name, d.Pipes, d.Overdue, d.DueM/1000, d.SingleM/1000, d.LowerBoundM/1000, flag)
		for _, r := range d.Routes {
			id := ""
			if r.ID != 0 {
				id = fmt.Sprintf("  route %d", r.ID)
			}
			mgr := r.Manager
			if mgr == "" {
				mgr = "-"
			}
			fmt.Fprintf(w, "  %d/%d %-10s %7.1f km (patrol %.1f, walk %.1f)  gap ≤ %.1f%%  %5.1f h by %s%s\n",
				r.Index, r.Of, mgr, r.TotalM/1000, r.PatrolM/1000, r.DeadheadM/1000, 100*r.Gap, r.Minutes/60, r.Mode, id)
		}
		if len(d.Unroutable) > 0 {
			fmt.Fprintf(w, "  not on the walkable network: %s\n", abbrev(d.Unroutable, 5))
		}
	}
	if len(p.OverCapacity) > 0 {
		fmt.Fprintf(w, "%d districts over capacity: %s\n", len(p.OverCapacity), abbrev(p.OverCapacity, 10))
	}
	return nil
}

// rppRun is one solved instance, as printed by `patrol rpp --json`.
type rppRun struct {
	Name       string   `json:"name"`
	File       string   `json:"file"`
	Cost       float64  `json:"cost"`
	Optimum    *float64 `json:"optimum"` // from OPTIMA.tsv beside the file; null when unknown
	Gap        *float64 `json:"gap"`     // (cost - optimum) / optimum; null when unknown
	LowerBound float64  `json:"lower_bound"`
	MS         float64  `json:"ms"`
	Tour       []int    `json:"tour"` // the closed walk, 1-based vertices, first = last
}

// readOptima reads an OPTIMA.tsv: instance name → optimal cost.
func readOptima(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Split(t, "\t")
		if len(fields) < 5 {
			return nil, fmt.Errorf("%s:%d: want name, vertices, required, non-required, optimum separated by tabs", path, line)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(fields[4]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: optimum %q is not a number", path, line, fields[4])
		}
		out[strings.TrimSpace(fields[0])] = v
	}
	return out, sc.Err()
}

func cmdPatrolRPP(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "patrol rpp", "[--json] [--time-limit D] FILE|DIR…")
	asJSON := fs.Bool("json", false, "print one JSON object per instance (name, cost, optimum, gap, ms, tour)")
	limit := fs.Duration("time-limit", rpp.DefaultTimeLimit, "improvement budget per instance (0: the default, negative: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"give instance files (Corberán's format) or directories of them"}
	}
	// Expand directories; OPTIMA.tsv and README files are not instances.
	var files []string
	for _, a := range fs.Args() {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			if base := filepath.Base(a); base != "OPTIMA.tsv" && !strings.HasPrefix(strings.ToUpper(base), "README") {
				files = append(files, a)
			}
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return err
		}
		for _, en := range ents {
			n := en.Name()
			if en.IsDir() || n == "OPTIMA.tsv" || strings.HasPrefix(strings.ToUpper(n), "README") || strings.HasPrefix(n, ".") {
				continue
			}
			files = append(files, filepath.Join(a, n))
		}
	}
	optima := map[string]map[string]float64{} // directory → table
	var runs []rppRun
	failed := 0
	w := e.stdout
	if !*asJSON {
		fmt.Fprintf(w, "%-10s %8s %8s %8s %9s\n", "instance", "cost", "optimum", "gap", "ms")
	}
	enc := json.NewEncoder(w)
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			fmt.Fprintf(e.stderr, "waterline patrol rpp: %v\n", err)
			failed++
			continue
		}
		g, name, err := rpp.ReadCorberan(f, file)
		f.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "waterline patrol rpp: %v\n", err)
			failed++
			continue
		}
		dir := filepath.Dir(file)
		if _, ok := optima[dir]; !ok {
			t, err := readOptima(filepath.Join(dir, "OPTIMA.tsv"))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			optima[dir] = t
		}
		t0 := time.Now()
		sol, err := rpp.Solve(ctx, g, rpp.Options{Depot: -1, TimeLimit: *limit})
		el := time.Since(t0)
		if err != nil {
			fmt.Fprintf(e.stderr, "waterline patrol rpp: %s: %v\n", file, err)
			failed++
			continue
		}
		run := rppRun{Name: name, File: file, Cost: sol.Cost, LowerBound: sol.LowerBound,
			MS: math.Round(float64(el.Microseconds())/10) / 100, Tour: make([]int, len(sol.Walk))}
		for i, v := range sol.Walk {
			run.Tour[i] = v + 1
		}
		opt, ok := optima[dir][name]
		if !ok {
			opt, ok = optima[dir][filepath.Base(file)]
		}
		if ok && opt > 0 {
			gap := (sol.Cost - opt) / opt
			run.Optimum, run.Gap = &opt, &gap
		}
		runs = append(runs, run)
		if *asJSON {
			if err := enc.Encode(run); err != nil {
				return err
			}
			continue
		}
		optS, gapS := "-", "-"
		if run.Optimum != nil {
			optS, gapS = strconv.FormatFloat(*run.Optimum, 'f', -1, 64), fmt.Sprintf("%.2f%%", 100**run.Gap)
		}
		fmt.Fprintf(w, "%-10s %8.0f %8s %8s %9.1f\n", run.Name, run.Cost, optS, gapS, run.MS)
	}
	if !*asJSON && len(runs) > 0 {
		known, sum, worstGap, worst, slowest := 0, 0.0, math.Inf(-1), "", 0.0
		for _, r := range runs {
			if r.Gap != nil {
				known++
				sum += *r.Gap
				if *r.Gap > worstGap {
					worstGap, worst = *r.Gap, r.Name
				}
			}
			slowest = math.Max(slowest, r.MS)
		}
		if known > 0 {
			if worstGap > 0 {
				worst = " (" + worst + ")"
			} else {
				worst = ""
			}
			fmt.Fprintf(w, "%d instances, %d with a known optimum: mean gap %.2f%%, worst %.2f%%%s; slowest %.1f ms\n",
				len(runs), known, 100*sum/float64(known), 100*worstGap, worst, slowest)
		} else {
			fmt.Fprintf(w, "%d instances; slowest %.1f ms\n", len(runs), slowest)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d instances failed", failed, len(files))
	}
	return nil
}
