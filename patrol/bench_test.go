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
func BenchmarkMorningJob(b *testing.B) {
	n := 100_000
	if v := os.Getenv("WATERLINE_BENCH_PIPES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	t0 := time.Now()
	ds, err := gen.Generate(gen.Options{Pipes: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	pool, _ := testdb.New(b, gen.DefaultSRID)
	st := store.New(pool, gen.DefaultSRID, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "gen", Replace: true}); err != nil {
		b.Fatal(err)
	}
	nd := len(ds.Districts)
	ds = nil
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
		b.Logf("run %d: %d districts, %d routes, %d pipes planned, %d over capacity: %v", i+1, len(p.Districts), routes, p.Pipes, over, time.Since(start))
	}
}
