package tiles_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// benchPipes is the size of the benchmark network.
const benchPipes = 40000

type benchNet struct {
	st      *store.Store
	version int64
	center  orb.Point // lon/lat of the network's middle
}

// benchNetwork imports a generated city of benchPipes pipes (gis/gen) into a
// fresh database.
func benchNetwork(b *testing.B) *benchNet {
	b.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(b, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds, err := gen.Generate(gen.Options{Pipes: benchPipes, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	res, err := st.Import(ctx, ds, store.ImportOptions{File: "bench grid", Replace: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d pipes, %d valves, %d hydrants in %s", len(ds.Pipes), len(ds.Valves), len(ds.Hydrants), time.Since(start).Round(time.Millisecond))
	info, err := st.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The middle of the city's extent: the dense centre.
	mid := orb.Point{(info.BBox[0] + info.BBox[2]) / 2, (info.BBox[1] + info.BBox[3]) / 2}
	return &benchNet{st: st, version: res.Version, center: mid}
}

// around returns the 3×3 tiles at z around the network's middle.
func (n *benchNet) around(z maptile.Zoom) []maptile.Tile {
	c := maptile.At(n.center, z)
	var out []maptile.Tile
	for dx := -1; dx <= 1; dx++ {
		for dy := -1; dy <= 1; dy++ {
			out = append(out, maptile.New(uint32(int(c.X)+dx), uint32(int(c.Y)+dy), z))
		}
	}
	return out
}

// describe reports the size of the tiles (and warms a cache).
func describe(b *testing.B, svc *tiles.Service, version int64, ts []maptile.Tile) (bytesPerTile, featuresPerTile float64) {
	ctx := context.Background()
	var bytes, feats int
	for _, t := range ts {
		tb, err := svc.Tile(ctx, "network", int(t.Z), int(t.X), int(t.Y), version)
		if err != nil {
			b.Fatal(err)
		}
		ls, err := mvt.Unmarshal(tb)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(tb)
		for _, l := range ls {
			feats += len(l.Features)
		}
	}
	return float64(bytes) / float64(len(ts)), float64(feats) / float64(len(ts))
}

// runTiles times fetching the tiles ts in turn, reporting their size.
func runTiles(b *testing.B, svc *tiles.Service, version int64, ts []maptile.Tile) {
	ctx := context.Background()
	bpt, fpt := describe(b, svc, version, ts)
	i := 0
	for b.Loop() {
		t := ts[i%len(ts)]
		i++
		if _, err := svc.Tile(ctx, "network", int(t.Z), int(t.X), int(t.Y), version); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(bpt, "bytes/tile")
	b.ReportMetric(fpt, "features/tile")
}

// BenchmarkTileZ14 renders the network tile (pipes, valves, hydrants,
// sources) of a dense z14 tile, from PostGIS and from the cache.
func BenchmarkTileZ14(b *testing.B) {
	n := benchNetwork(b)
	ts := n.around(14)
	b.Run("uncached", func(b *testing.B) {
		svc := tiles.New(n.st.Pool(), 4548, 0)
		runTiles(b, svc, n.version, ts)
	})
	b.Run("cached", func(b *testing.B) {
		svc := tiles.New(n.st.Pool(), 4548, 64<<20)
		runTiles(b, svc, n.version, ts)
	})
}

// BenchmarkTileZ10 renders the z10 network tile holding the whole city
// (only DN ≥ 600 pipes are drawn there), uncached.
func BenchmarkTileZ10(b *testing.B) {
	n := benchNetwork(b)
	ts := []maptile.Tile{maptile.At(n.center, 10)}
	svc := tiles.New(n.st.Pool(), 4548, 0)
	runTiles(b, svc, n.version, ts)
}
