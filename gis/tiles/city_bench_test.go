package tiles_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// BenchmarkCityTiles measures tiles of a generated city (gis/gen) of
// WATERLINE_BENCH_PIPES pipes — the README's figures are for 1,000,000 —
// and compares them with the query pg_tileserv runs for a table layer
// (its layer_table.go: ST_AsMVTGeom over ST_Intersects with the tile
// envelope transformed into the table's CRS, LIMIT 10000 features, no
// thinning, JIT on as a default server has it; "-jit-off" as the
// service runs) over the same table and tiles, in
// the same run. Each sub-benchmark reports the median and p95 of its
// iterations in ms, and the features in its tiles.
//
// The city takes about 1.5 minutes to generate and import, so the
// benchmark is skipped unless WATERLINE_BENCH_PIPES is set:
//
//	WATERLINE_BENCH_PIPES=1000000 go test ./gis/tiles -run '^$' -bench CityTiles -benchtime 200x -timeout 30m
//
// WATERLINE_BENCH_DB_URL instead names a database that already holds a
// generated city (waterline gen --pipes 1000000 --import): nothing is
// imported, and the database is left as it is.
func BenchmarkCityTiles(b *testing.B) {
	ctx := context.Background()
	var pool *pgxpool.Pool
	var srid = gen.DefaultSRID
	if u := os.Getenv("WATERLINE_BENCH_DB_URL"); u != "" {
		var err error
		if pool, err = store.Connect(ctx, u, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
	} else {
		v := os.Getenv("WATERLINE_BENCH_PIPES")
		if v == "" {
			b.Skip("set WATERLINE_BENCH_PIPES (e.g. 1000000) or WATERLINE_BENCH_DB_URL to run the city benchmark")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < gen.MinPipes {
			b.Fatalf("WATERLINE_BENCH_PIPES=%q", v)
		}
		t0 := time.Now()
		ds, err := gen.Generate(gen.Options{Pipes: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		pool, _ = testdb.New(b, srid)
		st := store.New(pool, srid, gis.DefaultGradeRules(), nil)
		if _, err := st.Import(ctx, ds, store.ImportOptions{File: "gen", Replace: true}); err != nil {
			b.Fatal(err)
		}
		ds = nil
		runtime.GC()
		if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated and imported %d pipes in %s", n, time.Since(t0).Round(time.Second))
	}
	var version, npipes int64
	if err := pool.QueryRow(ctx, "SELECT (SELECT version FROM network_version), (SELECT count(*) FROM pipes)").Scan(&version, &npipes); err != nil {
		b.Fatal(err)
	}
	// The densest tile of each zoom (counting pipes by their middle).
	dense := map[int]maptile.Tile{}
	for _, z := range []int{10, 11, 12, 13, 14} {
		dense[z] = densestTile(b, pool, z)
	}
	// The thinned zooms are much faster with partial indexes on the big
	// pipes (CREATE INDEX … ON pipes USING gist (geom) WHERE dn >= 600, and
	// >= 300): say whether the schema has them.
	var partial []string
	if err := pool.QueryRow(ctx, `SELECT COALESCE(array_agg(indexname ORDER BY indexname), '{}') FROM pg_indexes
		WHERE tablename = 'pipes' AND indexdef LIKE '%gist%' AND indexdef LIKE '%WHERE%'`).Scan(&partial); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d pipes; densest tiles %v; partial GiST indexes on pipes: %v", npipes, dense, partial)

	uncached := tiles.New(pool, srid, 0)
	cached := tiles.New(pool, srid, 256<<20)
	ours := func(svc *tiles.Service, layer string, z int) func() ([]byte, error) {
		t := dense[z]
		return func() ([]byte, error) { return svc.Tile(ctx, layer, int(t.Z), int(t.X), int(t.Y), version) }
	}
	base := func(z int, jitOff bool) func() ([]byte, error) {
		return func() ([]byte, error) { return baselineTile(ctx, pool, srid, dense[z], jitOff) }
	}
	for _, c := range []struct {
		name string
		get  func() ([]byte, error)
	}{
		{"z14-pipes/uncached", ours(uncached, "pipes", 14)},
		{"z14-pipes/cached", ours(cached, "pipes", 14)},
		{"z14-network/uncached", ours(uncached, "network", 14)},
		{"z14-pipes/pg_tileserv", base(14, false)},
		{"z14-pipes/pg_tileserv-jit-off", base(14, true)},
		{"z13-pipes/uncached", ours(uncached, "pipes", 13)},
		{"z13-pipes/cached", ours(cached, "pipes", 13)},
		{"z13-network/uncached", ours(uncached, "network", 13)},
		{"z13-pipes/pg_tileserv", base(13, false)},
		{"z13-pipes/pg_tileserv-jit-off", base(13, true)},
		{"z12-pipes/uncached", ours(uncached, "pipes", 12)},
		{"z12-pipes/pg_tileserv", base(12, false)},
		{"z12-pipes/pg_tileserv-jit-off", base(12, true)},
		{"z11-pipes/uncached", ours(uncached, "pipes", 11)},
		{"z10-pipes/uncached", ours(uncached, "pipes", 10)},
		{"z10-pipes/cached", ours(cached, "pipes", 10)},
		{"z10-network/uncached", ours(uncached, "network", 10)},
		{"z10-pipes/pg_tileserv", base(10, false)},
		{"z10-pipes/pg_tileserv-jit-off", base(10, true)},
	} {
		b.Run(c.name, func(b *testing.B) {
			first, err := c.get() // warms the cache and the extent
			if err != nil {
				b.Fatal(err)
			}
			feats, size := features(b, first)
			var ds []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := c.get(); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			p50, p95 := percentile(ds, 0.5), percentile(ds, 0.95)
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p95, "p95-ms")
			b.ReportMetric(float64(feats["pipes"]), "pipes/tile")
			b.ReportMetric(float64(size), "bytes/tile")
			if len(ds) > 1 {
				b.Logf("%s: %d runs, p50 %.3f ms, p95 %.3f ms, %v features, %d bytes", c.name, len(ds), p50, p95, feats, size)
			}
		})
	}
}

// densestTile returns the tile at z holding the middles of most pipes.
func densestTile(b *testing.B, pool *pgxpool.Pool, z int) maptile.Tile {
	b.Helper()
	const half = 20037508.342789244
	size := 2 * half / math.Exp2(float64(z))
	var x, y, n int64
	err := pool.QueryRow(context.Background(), `SELECT floor((ST_X(m) + $1) / $2)::bigint AS x, floor(($1 - ST_Y(m)) / $2)::bigint AS y, count(*) AS n
		FROM (SELECT ST_Transform(ST_LineInterpolatePoint(geom, 0.5), 3857) AS m FROM pipes) p
		GROUP BY 1, 2 ORDER BY n DESC, x, y LIMIT 1`, half, size).Scan(&x, &y, &n)
	if err != nil {
		b.Fatal(err)
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z))
}

// baselineTile is pg_tileserv's query for a table layer (pipes, every
// column but the geometry as an attribute, seq as the feature id).
func baselineTile(ctx context.Context, pool *pgxpool.Pool, srid int, t maptile.Tile, jitOff bool) ([]byte, error) {
	q := fmt.Sprintf(`SELECT ST_AsMVT(mvtgeom, 'pipes', 4096, 'geom', 'seq') FROM (
	SELECT ST_AsMVTGeom(ST_Transform(ST_Force2D(t.geom), 3857), bounds.geom_clip, 4096, 256) AS geom,
		t.seq, t.id, t.dn, t.grade, t.status, t.crossing, t.material, t.district
	FROM pipes t, (SELECT ST_TileEnvelope($1, $2, $3) AS geom_clip,
		ST_TileEnvelope($1, $2, $3, margin => (256.0 / 4096)) AS geom_query) bounds
	WHERE ST_Intersects(t.geom, ST_Transform(bounds.geom_query, %d::integer))
	LIMIT 10000) mvtgeom`, srid)
	var out []byte
	jit := "on" // pg_tileserv on a default server; the service's pool turns it off
	if jitOff {
		jit = "off"
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL jit = "+jit); err != nil {
			return err
		}
		return tx.QueryRow(ctx, q, int(t.Z), int(t.X), int(t.Y)).Scan(&out)
	})
	return out, err
}

func features(b *testing.B, tile []byte) (map[string]int, int) {
	b.Helper()
	ls, err := mvt.Unmarshal(tile)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range ls {
		out[l.Name] = len(l.Features)
	}
	return out, len(tile)
}

// percentile returns the p-quantile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Nanoseconds()) / 1e6
}
