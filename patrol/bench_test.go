package patrol_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
)

// BenchmarkMorningJob plans every district of a generated city
// (gis/gen; WATERLINE_BENCH_PIPES pipes, default 100,000, one district per
// 5,000 pipes) and stores the plan: the whole morning job, from a cold
// start (pipe attributes loaded) on the first iteration, warm after.
//
//	WATERLINE_BENCH_PIPES=1000000 go test ./patrol -run '^$' -bench MorningJob -benchtime 2x -timeout 60m
func BenchmarkMorningJob(b *testing.B) { benchMorningJob(b, false) }

// BenchmarkMorningJobRoads is BenchmarkMorningJob with the generated
// city's streets imported as the road network (gen.GenerateWithStreets:
// the block grid 5 m beside the pipes), so that every district deadheads
// on roads. The first iteration includes loading and noding the roads.
//
//	WATERLINE_BENCH_PIPES=1000000 go test ./patrol -run '^$' -bench MorningJobRoads -benchtime 2x -timeout 60m
func BenchmarkMorningJobRoads(b *testing.B) { benchMorningJob(b, true) }

func benchMorningJob(b *testing.B, withRoads bool) {
	n := 100_000
	if v := os.Getenv("WATERLINE_BENCH_PIPES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	t0 := time.Now()
	ds, streets, err := gen.GenerateWithStreets(gen.Options{Pipes: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	pool, _ := testdb.New(b, gen.DefaultSRID)
	st := store.New(pool, gen.DefaultSRID, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "gen", Replace: true}); err != nil {
		b.Fatal(err)
	}
	if withRoads {
		rs := make([]store.Road, len(streets))
		segs := 0
		for i, s := range streets {
			rs[i] = store.Road{Name: s.Name, Highway: s.Highway, Geom: s.Geom}
			segs += len(s.Geom) - 1
		}
		t1 := time.Now()
		if _, err := st.ImportRoads(ctx, rs, store.RoadImportOptions{File: "gen streets", Format: "gen", SRID: gen.DefaultSRID}); err != nil {
			b.Fatal(err)
		}
		b.Logf("roads: %d streets, %d segments, imported in %v", len(rs), segs, time.Since(t1))
	}
	nd := len(ds.Districts)
	ds, streets = nil, nil
	runtime.GC()
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d pipes, %d districts, generated and imported in %v", n, nd, time.Since(t0))
	loc := shanghai(b)
	clk := &clock{t: time.Date(2026, 3, 2, 5, 30, 0, 0, loc)}
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(),
		TZ: loc, Now: clk.Now, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		p, err := svc.Plan(ctx, patrol.PlanOptions{Day: svc.Today(), Save: true, Force: true})
		if err != nil {
			b.Fatal(err)
		}
		routes, over := 0, len(p.OverCapacity)
		for _, d := range p.Districts {
			routes += len(d.Routes)
		}
		var dead, road float64
		for _, d := range p.Districts {
			for _, r := range d.Routes {
				dead += r.DeadheadM
				road += r.RoadM
			}
		}
		b.Logf("run %d: %d districts, %d routes, %d pipes planned, %d over capacity, deadhead on %s: %.0f km (%.0f km on roads): %v",
			i+1, len(p.Districts), routes, p.Pipes, over, p.Deadhead, dead/1000, road/1000, time.Since(start))
	}
}
