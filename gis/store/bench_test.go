package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

func benchPipes(def int) int {
	if v, err := strconv.Atoi(os.Getenv("WATERLINE_BENCH_PIPES")); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkImport imports a generated city (topology and validation
// included) into an empty store. WATERLINE_BENCH_PIPES sets its size.
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	pool, _ := testdb.New(b, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	n := benchPipes(100_000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ds, err := gen.Generate(gen.Options{Pipes: n, Seed: 3})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := st.Import(ctx, ds, store.ImportOptions{File: "bench", Replace: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve is the topology step alone.
func BenchmarkResolve(b *testing.B) {
	ds, err := gen.Generate(gen.Options{Pipes: benchPipes(100_000), Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, _ := gis.Resolve(ds, 0)
		gis.NewNetwork(t)
	}
}
