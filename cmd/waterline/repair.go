package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/repair"
)

// repairRules is the [repair] section of the rules (LoadRules has read and
// checked it).
func repairRules(cfg *Config) (repair.Rules, error) { return cfg.Rules.Repair, nil }

// repairService builds the shutoff planner and the repair job service on
// the live network, wired so that every plan sees the valves open jobs
// hold closed (Planner.HeldClosed). webhook may be empty.
func repairService(st *store.Store, live *store.Live, cfg *Config, log *slog.Logger, webhook string) (*repair.Planner, *repair.Jobs, error) {
	rules, err := repairRules(cfg)
	if err != nil {
		return nil, nil, err
	}
	planner := &repair.Planner{Store: st, Live: live, NoticeRules: cfg.Rules.Notice, TZ: cfg.TZ}
	jobs, err := repair.NewJobs(repair.JobsConfig{Store: st, Planner: planner, Rules: rules, TZ: cfg.TZ,
		Log: log, Webhook: webhook, Replica: replicaName()})
	if err != nil {
		return nil, nil, err
	}
	planner.HeldClosed = jobs.HeldClosed
	return planner, jobs, nil
}

// heldPollEvery is how often Jobs.RunHeld reads the held valves again
// without a notification (a backstop should one be lost).
const heldPollEvery = 30 * time.Second

// replicaName names this process in scheduled job runs: host and pid.
func replicaName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}

// repairSubcommands are the `waterline repair` subcommands.
func repairSubcommands() map[string]command {
	return map[string]command{
		"open":        {"open a repair job (or a planned shutoff) with its shutoff plan", repairOpen},
		"list":        {"list jobs with their next deadline", repairList},
		"show":        {"show a job and its timeline: due, done, late by", repairShow},
		"record":      {"record a milestone", repairRecord},
		"fail":        {"record a valve that failed on site; the plan is redone", repairFail},
		"cancel":      {"cancel a job opened by mistake", repairCancel},
		"escalations": {"list escalations of overdue milestones", repairEscalations},
		"scan":        {"run the overdue scan now (the scheduled job)", repairScan},
		"report":      {"on-time rates per milestone and month (table or CSV)", repairReport},
		"calendar":    {"show the holiday calendar, or load a year: calendar load FILE", repairCalendar},
	}
}

// cmdRepair runs `waterline repair <subcommand>`.
func cmdRepair(ctx context.Context, e *env, args []string) error {
	subs := repairSubcommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stderr
		fmt.Fprintln(w, "usage: waterline repair <subcommand> [flags]\n\nsubcommands:")
		for _, n := range []string{"open", "list", "show", "record", "fail", "cancel", "escalations", "scan", "report", "calendar"} {
			fmt.Fprintf(w, "  %-12s %s\n", n, subs[n].summary)
		}
		fmt.Fprintln(w, "\nRun 'waterline repair <subcommand> -h' for its flags.")
		if len(args) == 0 {
			return usageError{"a subcommand is needed"}
		}
		return flag.ErrHelp
	}
	c, ok := subs[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q (see waterline repair help)", args[0])}
	}
	return c.run(ctx, e, args[1:])
}

// repairFlags are the flags every repair subcommand has.
type repairFlags struct {
	fs      *flag.FlagSet
	ec      *envConfig
	asJSON  *bool
	webhook *string
}

func newRepairFlags(e *env, name, synopsis string) *repairFlags {
	fs := newFlags(e, "repair "+name, synopsis)
	return &repairFlags{fs: fs, ec: bindConfig(fs, e.getenv, false),
		asJSON:  fs.Bool("json", false, "print JSON"),
		webhook: fs.String("repair-webhook", e.getenv("WATERLINE_REPAIR_WEBHOOK"), "escalation webhook URL (env WATERLINE_REPAIR_WEBHOOK)")}
}

// parse parses flags and positional arguments in any order and checks the
// number of positional arguments.
func (f *repairFlags) parse(args []string, npos int) ([]string, error) {
	var pos []string
	for {
		if err := parse(f.fs, args); err != nil {
			return nil, err
		}
		if f.fs.NArg() == 0 {
			break
		}
		pos = append(pos, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	if len(pos) != npos {
		return nil, usageError{fmt.Sprintf("%d arguments given, %d expected (see -h)", len(pos), npos)}
	}
	return pos, nil
}

// connect opens the database and the job service; network loads the live
// network too (for planning). close releases it all.
func (f *repairFlags) connect(ctx context.Context, e *env, network bool) (jobs *repair.Jobs, cfg *Config, close func(), err error) {
	if cfg, err = f.ec.resolve(); err != nil {
		return nil, nil, nil, err
	}
	log := logger(e)
	pool, st, err := open(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	live := store.NewLive(st)
	if network {
		if err := live.Reload(ctx); err != nil {
			pool.Close()
			return nil, nil, nil, err
		}
	}
	_, jobs, err = repairService(st, live, cfg, log, *f.webhook)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return jobs, cfg, pool.Close, nil
}

func (f *repairFlags) printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// timeFlag is an optional RFC 3339 time flag.
type timeFlag struct{ t *time.Time }

func (t *timeFlag) String() string {
	if t.t == nil {
		return ""
	}
	return t.t.Format(time.RFC3339)
}

func (t *timeFlag) Set(v string) error {
	p, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time (2026-03-10T14:00:00+08:00)", v)
	}
	t.t = &p
	return nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%q is not a job id", s)}
	}
	return id, nil
}

func fmtLocal(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02 15:04")
}

func repairOpen(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "open", "--pipe ID [--at F] | --point X,Y [--point-crs EPSG:N]  --source S --content C --by NAME [flags]")
	var req repair.OpenRequest
	fs := f.fs
	pipe := fs.String("pipe", "", "id of the leaking pipe (or of the work site)")
	at := fs.Float64("at", 0.5, "where along the pipe, as a fraction of its length [0,1]")
	point := fs.String("point", "", "the leak as a point X,Y (an address's coordinates)")
	pointCRS := fs.String("point-crs", "EPSG:4326", "CRS of --point")
	var fail multiFlag
	fs.Var(&fail, "fail", "a valve known to be broken (repeatable)")
	fs.StringVar(&req.Order.Source, "source", "", "work order: information source (hotline, patrol, …)")
	fs.StringVar(&req.Order.Address, "address", "", "work order: address")
	fs.StringVar(&req.Order.Contact, "contact", "", "work order: contact")
	fs.StringVar(&req.Order.Reporter, "reporter", "", "work order: reporter")
	fs.StringVar(&req.Order.Content, "content", "", "work order: content")
	fs.StringVar(&req.Order.FaultCategory, "fault", "", "work order: fault category")
	fs.StringVar(&req.Order.ResponsibleUnit, "unit", "", "work order: responsible unit")
	fs.StringVar(&req.Order.CustomerContactTime, "contact-time", "", "work order: customer contact time")
	deadline := &timeFlag{}
	fs.Var(deadline, "deadline", "work order: deadline (RFC 3339)")
	ordered := &timeFlag{}
	fs.Var(ordered, "ordered-at", "when the order came in (RFC 3339; default now)")
	fs.StringVar(&req.By, "by", "", "who opens the job")
	fs.BoolVar(&req.CallbackAtNight, "callback-at-night", false, "the customer asked to be called back even at night")
	start, end := &timeFlag{}, &timeFlag{}
	fs.Var(start, "planned-start", "a planned shutoff: its start (RFC 3339)")
	fs.Var(end, "planned-end", "a planned shutoff: its end (RFC 3339)")
	reason := fs.String("reason", "", "a planned shutoff: its reason")
	fs.BoolVar(&req.AcceptConflict, "accept-conflict", false, "open a planned shutoff despite a conflict")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	req.Leak = repair.PlanRequest{Pipe: *pipe, FailedValves: fail}
	if *pipe != "" {
		req.Leak.At = at
	}
	if *point != "" {
		p, err := parsePair(*point, "--point")
		if err != nil {
			return err
		}
		req.Leak.Point = &[2]float64{p[0], p[1]}
		if req.Leak.PointSRID, err = parseCRS(*pointCRS); err != nil {
			return err
		}
	}
	req.Order.Deadline, req.OrderedAt = deadline.t, ordered.t
	if start.t != nil || end.t != nil {
		req.Kind = repair.Planned
		req.Planned = &repair.Window{Reason: *reason}
		if start.t != nil {
			req.Planned.Start = *start.t
		}
		if end.t != nil {
			req.Planned.End = *end.t
		}
	}
	jobs, _, closeDB, err := f.connect(ctx, e, true)
	if err != nil {
		return err
	}
	defer closeDB()
	jb, err := jobs.Open(ctx, req, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, jb)
	}
	fmt.Fprintf(e.stdout, "opened %s job %d: pipe %s (DN%d), district %s; %d valves to close %v, %d customers\n",
		jb.Kind, jb.ID, jb.Leak.Pipe, jb.Leak.DN, jb.District, len(jb.Valves), jb.Valves, jb.Customers)
	if jb.Next != nil {
		fmt.Fprintf(e.stdout, "next: %s due %s (%s)\n", jb.Next.Milestone, fmtLocal(jb.Next.Due), jb.Next.Rule)
	}
	if jb.Notice != nil {
		fmt.Fprintf(e.stdout, "notice (%d customers, %d reached too late):\n%s\n", jb.Notice.Count, len(jb.Notice.Late), jb.Notice.ZH)
	}
	return nil
}

func repairList(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "list", "[--status S] [--district D] [--kind K] [--overdue] [--limit N]")
	var flt repair.Filter
	f.fs.StringVar(&flt.Status, "status", "", "open, closed or cancelled")
	f.fs.StringVar(&flt.District, "district", "", "district id")
	kind := f.fs.String("kind", "", "emergency or planned")
	f.fs.BoolVar(&flt.Overdue, "overdue", false, "only open jobs with a milestone past due")
	f.fs.IntVar(&flt.Limit, "limit", 100, "at most this many")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	flt.Kind = repair.Kind(*kind)
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	l, err := jobs.List(ctx, flt, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, l)
	}
	fmt.Fprintf(e.stdout, "%d jobs\n", l.Total)
	for _, jb := range l.Jobs {
		next := "-"
		if jb.Next != nil {
			next = fmt.Sprintf("%s due %s (%s)", jb.Next.Milestone, fmtLocal(jb.Next.Due), jb.Next.State)
		}
		over := ""
		if len(jb.Overdue) > 0 {
			over = fmt.Sprintf("  OVERDUE %v", jb.Overdue)
		}
		fmt.Fprintf(e.stdout, "%6d  %-9s %-9s %-8s %s  next %s%s  %s\n", jb.ID, jb.Kind, jb.Status, jb.District,
			fmtLocal(&jb.OrderedAt), next, over, jb.Order.Address)
	}
	return nil
}

func repairShow(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "show", "ID [--json]")
	pos, err := f.parse(args, 1)
	if err != nil {
		return err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	jb, err := jobs.Get(ctx, id, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, jb)
	}
	printJob(e.stdout, jb)
	return nil
}

// printJob prints a job and its timeline as a table.
func printJob(w io.Writer, jb *repair.Job) {
	fmt.Fprintf(w, "job %d (%s, %s), ordered %s by %s\n", jb.ID, jb.Kind, jb.Status, fmtLocal(&jb.OrderedAt), jb.CreatedBy)
	o := jb.Order
	fmt.Fprintf(w, "order: %s | %s | %s | %s | %s | %s | %s\n", o.Source, o.Address, o.Contact, o.Reporter, o.Content, o.FaultCategory, o.ResponsibleUnit)
	fmt.Fprintf(w, "leak: pipe %s (DN%d), district %s; valves %v (holding: %v); %d customers, %d households\n",
		jb.Leak.Pipe, jb.Leak.DN, jb.District, jb.Valves, jb.Holding, jb.Customers, jb.Households)
	if len(jb.FailedValves) > 0 {
		fmt.Fprintf(w, "failed valves: %v\n", jb.FailedValves)
	}
	fmt.Fprintf(w, "%-16s %-16s %-16s %-14s %-9s %s\n", "milestone", "due", "done", "state", "late by", "by / note")
	for _, s := range jb.Timeline {
		who := strings.TrimSpace(s.By + " " + s.Note)
		if s.Warning != "" {
			who += "  ! " + s.Warning
		}
		fmt.Fprintf(w, "%-16s %-16s %-16s %-14s %-9s %s\n", s.Milestone, fmtLocal(s.Due), fmtLocal(s.Done), s.State, s.LateBy, who)
	}
	if a := jb.ValveActions; a != nil {
		fmt.Fprintf(w, "valves (%s): close %v, open %v, held by other jobs %v %v\n", a.Stage, a.Close, a.Open, a.AlreadyClosed, a.KeepClosed)
	}
}

func repairRecord(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "record", "ID MILESTONE --by NAME [--at T] [--note N] [--photo URL] [--na]")
	var req repair.RecordRequest
	at := &timeFlag{}
	f.fs.Var(at, "at", "when it happened (RFC 3339; default now)")
	f.fs.StringVar(&req.By, "by", "", "who records it")
	f.fs.StringVar(&req.Note, "note", "", "a note")
	f.fs.StringVar(&req.Photo, "photo", "", "a photo's URL")
	f.fs.BoolVar(&req.NotApplicable, "na", false, "the milestone does not apply to this job (callback, site_restored, road_notice)")
	pos, err := f.parse(args, 2)
	if err != nil {
		return err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return err
	}
	req.Milestone, req.At = repair.Milestone(pos[1]), at.t
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := jobs.Record(ctx, id, req, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "recorded %s on job %d\n", req.Milestone, id)
	if v := res.Valves; v != nil && req.Milestone == repair.ValvesClosed {
		fmt.Fprintf(e.stdout, "close: %v; already held closed by other jobs: %v\n", v.Close, v.AlreadyClosed)
	}
	if v := res.Valves; v != nil && req.Milestone == repair.ValvesReopened {
		fmt.Fprintf(e.stdout, "open: %v; keep closed (another open job holds them): %v\n", v.Open, v.KeepClosed)
	}
	if n := res.Job.Next; n != nil {
		fmt.Fprintf(e.stdout, "next: %s due %s (%s)\n", n.Milestone, fmtLocal(n.Due), n.State)
	}
	return nil
}

func repairFail(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "fail", "ID VALVE --by NAME [--at T] [--note N]")
	var req repair.FailureRequest
	at := &timeFlag{}
	f.fs.Var(at, "at", "when it failed (RFC 3339; default now)")
	f.fs.StringVar(&req.By, "by", "", "who records it")
	f.fs.StringVar(&req.Note, "note", "", "a note")
	pos, err := f.parse(args, 2)
	if err != nil {
		return err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return err
	}
	req.Valve, req.At = pos[1], at.t
	jobs, _, closeDB, err := f.connect(ctx, e, true)
	if err != nil {
		return err
	}
	defer closeDB()
	jb, err := jobs.FailValve(ctx, id, req, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, jb)
	}
	last := jb.Failures[len(jb.Failures)-1]
	for _, fl := range jb.Failures {
		if fl.Valve == req.Valve {
			last = fl
		}
	}
	fmt.Fprintf(e.stdout, "valve %s failed on job %d: plan redone; extra valves %v, extra customers %d; valves now %v\n",
		req.Valve, id, last.ExtraValves, len(last.ExtraCustomers), jb.Valves)
	return nil
}

func repairCancel(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "cancel", "ID --by NAME --reason R")
	by := f.fs.String("by", "", "who cancels")
	reason := f.fs.String("reason", "", "why")
	pos, err := f.parse(args, 1)
	if err != nil {
		return err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	jb, err := jobs.Cancel(ctx, id, *by, *reason, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, jb)
	}
	fmt.Fprintf(e.stdout, "job %d cancelled\n", id)
	return nil
}

func repairEscalations(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "escalations", "[--job ID] [--unresolved] [--limit N]")
	var flt repair.EscalationFilter
	f.fs.Int64Var(&flt.JobID, "job", 0, "only this job's")
	f.fs.BoolVar(&flt.Unresolved, "unresolved", false, "only milestones still not recorded")
	f.fs.IntVar(&flt.Limit, "limit", 100, "at most this many")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	es, err := jobs.Escalations(ctx, flt)
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, es)
	}
	for _, x := range es {
		fmt.Fprintf(e.stdout, "%6d  job %-6d %-16s due %s  detected %s  %s (%d attempts)  resolved %s  %s\n", x.ID, x.JobID, x.Milestone,
			fmtLocal(&x.Due), fmtLocal(&x.DetectedAt), x.Delivery, x.Attempts, fmtLocal(x.ResolvedAt), x.Address)
	}
	return nil
}

func repairScan(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "scan", "[--repair-webhook URL]")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := jobs.Scan(ctx, time.Now())
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "scan: %d open jobs, %d overdue milestones, %d escalated now, %d sent, %d failed\n",
		res.OpenJobs, res.Overdue, len(res.Escalated), res.Sent, res.Failed)
	return nil
}

func repairReport(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "report", "[--from YYYY-MM] [--to YYYY-MM] [--csv]")
	from := f.fs.String("from", "", "first month (default: 11 months before this one)")
	to := f.fs.String("to", "", "last month (default: this one)")
	asCSV := f.fs.Bool("csv", false, "print CSV (UTF-8 with BOM, for Excel)")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	rep, err := jobs.Report(ctx, *from, *to, time.Now())
	if err != nil {
		return err
	}
	switch {
	case *asCSV:
		return rep.WriteCSV(e.stdout)
	case *f.asJSON:
		return f.printJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "on-time report %s – %s\n%-7s %-9s %-16s %5s %7s %5s %7s %7s\n", rep.From, rep.To,
		"month", "kind", "milestone", "due", "on time", "late", "overdue", "rate")
	for _, r := range rep.Rows {
		fmt.Fprintf(e.stdout, "%-7s %-9s %-16s %5d %7d %5d %7d %6.1f%%\n", r.Month, r.Kind, r.Milestone, r.Due, r.OnTime, r.Late, r.Overdue, *r.OnTimeRate*100)
	}
	return nil
}

func repairCalendar(ctx context.Context, e *env, args []string) error {
	f := newRepairFlags(e, "calendar", "[load FILE --by NAME]")
	by := f.fs.String("by", "", "who loads the calendar")
	var pos []string
	var err error
	if len(args) > 0 && args[0] == "load" {
		if pos, err = f.parse(args[1:], 1); err != nil {
			return err
		}
	} else if _, err = f.parse(args, 0); err != nil {
		return err
	}
	jobs, _, closeDB, err := f.connect(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeDB()
	if pos != nil {
		b, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		cy, err := repair.ParseCalendarYear(b)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		if err := jobs.LoadCalendarYear(ctx, cy, *by); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "loaded the %s calendar for %d (%d holiday ranges, %d swapped working days)\n",
			cy.Calendar, cy.Year, len(cy.Holidays), len(cy.Workdays))
		return nil
	}
	cal, err := jobs.Calendar(ctx)
	if err != nil {
		return err
	}
	if *f.asJSON {
		return f.printJSON(e.stdout, cal.Years())
	}
	for _, y := range cal.Years() {
		p := ""
		if y.Provisional {
			p = " PROVISIONAL"
		}
		fmt.Fprintf(e.stdout, "%s %d%s: %d holiday ranges, %d swapped working days — %s\n", y.Calendar, y.Year, p, len(y.Holidays), len(y.Workdays), y.Source)
	}
	return nil
}
