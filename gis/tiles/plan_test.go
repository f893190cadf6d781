package tiles

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// TestTileQueryUsesIndexes checks that the row filter of every layer can use
// its GiST index: with sequential scans disabled, the plan of a tile query
// must not scan any table sequentially.
func TestTileQueryUsesIndexes(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds := tilestest.Grid(tilestest.GridOptions{NX: 20, NY: 20, Spacing: 50})
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Replace: true}); err != nil {
		t.Fatal(err)
	}
	svc := New(pool, 4548, 0)
	ext, err := svc.extent(ctx, 1)
	if err != nil || !ext.ok {
		t.Fatalf("extent: %v %+v", err, ext)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET enable_seqscan") //nolint:errcheck
	c := ext.lonlat
	for _, z := range []maptile.Zoom{9, 14, 16} {
		tile := maptile.At([2]float64{(c[0] + c[2]) / 2, (c[1] + c[3]) / 2}, z)
		q, args := tileQuery(allLayers, int(z), int(tile.X), int(tile.Y), ext.merc, 4548)
		explain := "EXPLAIN (ANALYZE, FORMAT TEXT) "
		rows, err := conn.Query(ctx, explain+q, args...)
		if err != nil {
			t.Fatalf("z%d: %v\n%s", z, err, q)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if os.Getenv("TILES_SHOW_PLANS") != "" {
			t.Logf("z%d:\n%s\n%s", z, q, text)
		}
		if strings.Contains(text, "Seq Scan") {
			t.Errorf("z%d: a table is scanned sequentially:\n%s", z, text)
		}
		for _, l := range allLayers {
			if !strings.Contains(text, l.table+"_geom") {
				t.Errorf("z%d: the plan does not use %s_geom:\n%s", z, l.table, text)
			}
		}
	}
}

// TestQueriesRunWithoutJIT: tile and GeoJSON queries turn JIT compilation
// off for their own transaction only.
func TestQueriesRunWithoutJIT(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	svc := New(pool, 4548, 0)
	var jit string
	if err := svc.queryRow(ctx, "SELECT current_setting('jit')", nil, &jit); err != nil {
		t.Fatal(err)
	}
	if jit != "off" {
		t.Errorf("jit = %s in a tile query", jit)
	}
	var after string
	if err := pool.QueryRow(ctx, "SELECT current_setting('jit')").Scan(&after); err != nil {
		t.Fatal(err)
	}
	var def string
	if err := pool.QueryRow(ctx, "SELECT reset_val FROM pg_settings WHERE name = 'jit'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if after != def {
		t.Errorf("jit = %s after a tile query, want the session's %s", after, def)
	}
	// An error inside leaves no transaction open on a pooled connection.
	var x int
	if err := svc.queryRow(ctx, "SELECT 1/0", nil, &x); err == nil {
		t.Fatal("division by zero succeeded")
	}
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&x); err != nil {
		t.Fatalf("the pool is unusable after a failed tile query: %v", err)
	}
}
