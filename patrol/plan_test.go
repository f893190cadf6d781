package patrol_test

import (
	"context"
	"encoding/xml"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/patroltest"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

func TestPlanStoreAndReplan(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 16, NY: 12, DX: 2, DY: 1, Jitter: 5, Seed: 2}, nil)
	ctx := context.Background()
	day := e.today()
	p, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, Save: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Saved || len(p.Districts) != 2 || p.Pipes == 0 {
		t.Fatalf("plan: %+v", p)
	}
	for _, d := range p.Districts {
		if d.StartSource != "district" || len(d.Routes) != 1 || d.Routes[0].ID == 0 || d.Routes[0].Manager != "M-"+d.District {
			t.Fatalf("district %s: %+v %+v", d.District, d, d.Routes)
		}
		if d.Start.Lon < 116.9 || d.Start.Lon > 117.1 || d.Start.Lat < 36.6 || d.Start.Lat > 36.7 {
			t.Errorf("start %+v is not near Jinan", d.Start)
		}
		r := d.Routes[0]
		if r.TotalM < r.LowerBoundM-1e-6 || r.Gap < 0 || r.Minutes <= 0 || r.PatrolM+r.DeadheadM-r.TotalM > 0.5 {
			t.Errorf("route totals: %+v", r)
		}
	}
	// Stored once: a second run of the day is skipped, a forced one replaces it.
	if _, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, Save: true}); !errors.Is(err, patrol.ErrPlanned) {
		t.Fatalf("second plan of the day: %v", err)
	}
	n0 := count(t, e, "SELECT count(*) FROM patrol_plan_pipes WHERE plan_date = $1", day.Time())
	if n0 != p.Pipes {
		t.Fatalf("%d plan pipes stored, %d planned", n0, p.Pipes)
	}
	p2, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, Save: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if count(t, e, "SELECT count(*) FROM patrol_routes WHERE plan_date = $1", day.Time()) != 2 || p2.Districts[0].Routes[0].ID == p.Districts[0].Routes[0].ID {
		t.Fatal("the forced re-plan did not replace the day's routes")
	}
	// One district by hand, from a given start with two managers.
	d0 := p.Districts[0].District
	start := orb.Point{500300, 4060300}
	p3, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, District: d0, Start: &start, Managers: 2, Save: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.Districts) != 1 || len(p3.Districts[0].Routes) != 2 || p3.Districts[0].StartSource != "given" {
		t.Fatalf("district re-plan: %+v", p3.Districts[0])
	}
	if n := count(t, e, "SELECT count(*) FROM patrol_routes WHERE plan_date = $1", day.Time()); n != 3 {
		t.Fatalf("%d routes stored, want 2 + 1", n)
	}
	if n := count(t, e, "SELECT count(*) FROM patrol_plan_pipes WHERE plan_date = $1", day.Time()); n != n0 {
		t.Fatalf("%d plan pipes after the district re-plan, want %d", n, n0)
	}
	if _, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, District: "nope", Save: true, Force: true}); errCode(err) != "district.not_found" {
		t.Fatalf("unknown district: %v", err)
	}
	if _, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, Start: &start}); errCode(err) != "plan.needs_district" {
		t.Fatalf("start without district: %v", err)
	}

	// The stored route, its steps and exports.
	routes, err := e.svc.Routes(ctx, day, d0)
	if err != nil || len(routes) != 2 {
		t.Fatalf("routes: %v %v", routes, err)
	}
	v, err := e.svc.Route(ctx, routes[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Stale || len(v.Steps) == 0 || v.Steps[0].Kind != "offnet" {
		t.Fatalf("route view: stale %v, %d steps, first %+v", v.Stale, len(v.Steps), v.Steps)
	}
	sum, patrolled := 0.0, map[string]bool{}
	for i, s := range v.Steps {
		sum += s.LengthM
		if s.Seq != i+1 || s.Text == "" {
			t.Fatalf("step %d: %+v", i, s)
		}
		if s.Kind == "patrol" {
			patrolled[s.Pipe] = true
		}
	}
	if math.Abs(sum-v.TotalM) > 0.1*float64(len(v.Steps))+1 {
		t.Errorf("steps sum to %.1f, route %.1f", sum, v.TotalM)
	}
	if len(patrolled) != v.Pipes {
		t.Errorf("%d pipes patrolled in the steps, route says %d", len(patrolled), v.Pipes)
	}
	var gpx strings.Builder
	if err := e.svc.WriteGPX(ctx, &gpx, v); err != nil {
		t.Fatal(err)
	}
	var g struct {
		Wpt []struct {
			Lat float64 `xml:"lat,attr"`
			Lon float64 `xml:"lon,attr"`
		} `xml:"wpt"`
		Segs []struct {
			Pts []struct {
				Lat float64 `xml:"lat,attr"`
				Lon float64 `xml:"lon,attr"`
			} `xml:"trkpt"`
		} `xml:"trk>trkseg"`
	}
	if err := xml.Unmarshal([]byte(gpx.String()), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Wpt) != 1 || len(g.Segs) != len(v.Steps) || math.Abs(g.Wpt[0].Lon-v.Start.Lon) > 1e-6 {
		t.Fatalf("gpx: %d waypoints, %d segments for %d steps", len(g.Wpt), len(g.Segs), len(v.Steps))
	}
	coords := routeCoords(t, e, routes[0].ID)
	if len(coords) < 2 || coords[0][0] < 116.9 || coords[0][1] > 36.7 {
		t.Fatalf("geojson coordinates %v", coords[:min(2, len(coords))])
	}
	if _, err := e.svc.Route(ctx, 999999); errCode(err) != "route.not_found" {
		t.Fatalf("missing route: %v", err)
	}
}

// TestBalancedDays plans six consecutive days of a district, each fully
// patrolled as planned, and checks that the longest day's route is at most
// 1.2 × the shortest, and that the unbalanced schedule would not be.
func TestBalancedDays(t *testing.T) {
	run := func(balance bool) (lo, hi float64) {
		e := newEnv(t, patroltest.Options{NX: 36, NY: 36, Jitter: 6, Seed: 9}, func(r *patrol.Rules) { r.Balance = balance })
		ctx := context.Background()
		lo = math.Inf(1)
		start := e.today()
		var lens []float64
		for d := start; d < start+6; d++ {
			p, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: d, Save: true})
			if err != nil {
				t.Fatal(err)
			}
			l := p.Districts[0].TotalM
			lens = append(lens, l)
			lo, hi = math.Min(lo, l), math.Max(hi, l)
			e.patrolPlanned(t, d)
		}
		t.Logf("balance=%v: daily route lengths %.0f m; longest/shortest %.3f", balance, lens, hi/lo)
		return lo, hi
	}
	lo, hi := run(true)
	if hi > 1.2*lo {
		t.Errorf("balanced: longest day %.0f m > 1.2 × shortest %.0f m", hi, lo)
	}
	if testing.Short() {
		return
	}
	lo, hi = run(false)
	if hi <= 1.2*lo {
		t.Errorf("the naive schedule is balanced too (%.0f..%.0f): the test proves nothing", lo, hi)
	}
}

// TestNoPipeLate runs three weeks of plans, executes each day's plan
// except for a few missed pipes, and checks that no pipe planned every
// day is ever late by more than its misses, and that missed pipes are
// overdue and planned the next day.
func TestNoPipeLate(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 12, NY: 12, Seed: 3}, nil)
	ctx := context.Background()
	start := e.today()
	last := map[string]schedule.Day{}
	every := map[string]int{}
	for d := start; d < start+21; d++ {
		e.clock.Set(d.Start(e.loc).Add(5*time.Hour + 30*time.Minute))
		if err := e.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RunDaily(ctx); err != nil { // skipped: already planned
			t.Fatal(err)
		}
		st, err := e.svc.Status(ctx, d, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range st.Pipes {
			every[p.Pipe] = p.EveryDays
			if l, ok := last[p.Pipe]; ok && int(d-l) > p.EveryDays && p.Status != "overdue" {
				t.Fatalf("day %d: pipe %s last patrolled %d days ago (every %d) but %s", d-start, p.Pipe, d-l, p.EveryDays, p.Status)
			}
		}
		// Miss one pipe on day 5: it must be overdue and planned on day 6.
		if d == start+5 {
			var miss string
			if err := e.pool.QueryRow(ctx, "SELECT pipe_id FROM patrol_plan_pipes WHERE plan_date = $1 AND every_days = 3 ORDER BY pipe_id LIMIT 1", d.Time()).Scan(&miss); err != nil {
				t.Fatal(err)
			}
			e.patrolPlanned(t, d)
			if _, err := e.pool.Exec(ctx, "UPDATE patrol_pipe_state SET last_day = $2 WHERE pipe_id = $1", miss, (d - 3).Time()); err != nil {
				t.Fatal(err)
			}
			if _, err := e.pool.Exec(ctx, "DELETE FROM patrol_pipe_days WHERE pipe_id = $1 AND day = $2", miss, d.Time()); err != nil {
				t.Fatal(err)
			}
			delete(last, miss)
			next, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: d + 1})
			if err != nil {
				t.Fatal(err)
			}
			if next.Districts[0].Overdue != 1 {
				t.Fatalf("the missed pipe %s: %d overdue on the next day's plan", miss, next.Districts[0].Overdue)
			}
			cov, err := e.svc.Coverage(ctx, patrol.CoverageQuery{Day: d})
			if err != nil {
				t.Fatal(err)
			}
			if len(cov.Missed) != 1 || cov.Missed[0].Pipe != miss || cov.Rate >= 1 {
				t.Fatalf("coverage of day 5: %+v", cov.Missed)
			}
		} else {
			e.patrolPlanned(t, d)
		}
		rows, err := e.pool.Query(ctx, "SELECT pipe_id FROM patrol_plan_pipes WHERE plan_date = $1", d.Time())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id) //nolint:errcheck
			last[id] = d
		}
		rows.Close()
	}
	if count(t, e, "SELECT count(*) FROM job_runs WHERE job = $1 AND status = 'done'", patrol.JobName) != 21 {
		t.Fatal("want one done run per day")
	}
	rep, err := e.svc.CoverageReport(ctx, patrol.ReportQuery{From: start, To: start + 20, By: "week"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) < 3 {
		t.Fatalf("weekly report: %+v", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r["coverage_rate"].(float64) < 0.99 || r["on_time_rate"].(float64) < 0.99 {
			t.Errorf("week %v: %+v", r["period"], r)
		}
	}
	t.Logf("weekly: %+v", rep.Rows)
}

// TestDailyJobOnceAcrossReplicas runs the morning job on three replicas at
// once: one plans, the others skip.
func TestDailyJobOnceAcrossReplicas(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 10, NY: 10, DX: 2, DY: 2}, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		svc, err := patrol.New(patrol.Config{Store: e.st, Live: e.live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(), TZ: e.loc,
			Now: e.clock.Now, Replica: string(rune('a' + i))})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.RunDaily(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := count(t, e, "SELECT count(*) FROM patrol_routes WHERE plan_date = $1", e.today().Time()); n != 4 {
		t.Fatalf("%d routes, want one per district", n)
	}
	if n := count(t, e, "SELECT count(*) FROM job_runs WHERE job = $1 AND slot = $2 AND status = 'done'", patrol.JobName, e.today().String()); n != 1 {
		t.Fatalf("job runs: %d", n)
	}
}

func TestCatchUp(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 5, NY: 5}, nil)
	ctx := context.Background()
	e.clock.Set(time.Date(2026, 3, 2, 4, 0, 0, 0, e.loc)) // before 05:30: nothing
	if err := e.svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e, "SELECT count(*) FROM patrol_routes"); n != 0 {
		t.Fatalf("planned before the scheduled time: %d routes", n)
	}
	e.clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, e.loc)) // after: the day is planned
	if err := e.svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e, "SELECT count(*) FROM patrol_routes WHERE plan_date = '2026-03-02'"); n != 1 {
		t.Fatalf("catch-up: %d routes", n)
	}
}

// TestBalancedDaysGeneratedCity checks the 1.2 target on every district of
// a generated city (gis/gen: irregular blocks, parks, missing links).
func TestBalancedDaysGeneratedCity(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	ds, err := gen.Generate(gen.Options{Pipes: 15000, Seed: 3, Districts: 3})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := testdb.New(t, gen.DefaultSRID)
	st := store.New(pool, gen.DefaultSRID, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "gen", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := shanghai(t)
	clk := &clock{t: time.Date(2026, 3, 2, 5, 30, 0, 0, loc)}
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(), TZ: loc, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, st: st, live: live, pool: pool, clock: clk, loc: loc}
	lens := map[string][]float64{}
	start := e.today()
	for d := start; d < start+6; d++ {
		p, err := svc.Plan(ctx, patrol.PlanOptions{Day: d, Save: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, dp := range p.Districts {
			lens[dp.District] = append(lens[dp.District], dp.TotalM)
		}
		e.patrolPlanned(t, d)
	}
	for id, ls := range lens {
		lo, hi := math.Inf(1), 0.0
		for _, l := range ls {
			lo, hi = math.Min(lo, l), math.Max(hi, l)
		}
		t.Logf("district %s: daily routes %.0f m, longest/shortest %.3f", id, ls, hi/lo)
		if hi > 1.2*lo {
			t.Errorf("district %s: longest day %.0f m > 1.2 × shortest %.0f m", id, hi, lo)
		}
	}
}
