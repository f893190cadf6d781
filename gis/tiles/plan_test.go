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

// TestTileQueryUsesIndexes checks that the row filter of every stored layer
// can use its GiST index: with sequential scans disabled, the plan of a tile query
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
	// The layers read from their tables (the derived ones are checked by
	// TestDerivedLayersUseThePipeIndex).
	var stored []*layer
	for _, l := range allLayers {
		if l.from == "" {
			stored = append(stored, l)
		}
	}
	c := ext.lonlat
	for _, z := range []maptile.Zoom{9, 14, 16} {
		tile := maptile.At([2]float64{(c[0] + c[2]) / 2, (c[1] + c[3]) / 2}, z)
		q, args := tileQuery(stored, int(z), int(tile.X), int(tile.Y), ext.merc, 4548)
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
		for _, l := range stored {
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

// TestDerivedLayersUseThePipeIndex: a patrol_routes tile finds the pipes of
// its legs through the pipes' spatial index, not by joining every pipe (a
// city has a million), and repair_sites reads only open jobs.
func TestDerivedLayersUseThePipeIndex(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds := tilestest.Grid(tilestest.GridOptions{NX: 40, NY: 40, Spacing: 50})
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Replace: true}); err != nil {
		t.Fatal(err)
	}
	// A route along the grid's first row.
	legs := 20
	var ids []string
	var from, to, ln []float64
	for c := range legs {
		ids = append(ids, tilestest.HPipe(0, c))
		from, to, ln = append(from, 0), append(to, 50), append(ln, 50)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO patrol_routes (plan_date, district, idx, of, network_version, start, start_source, mode,
		speed_kmh, total_m, patrol_m, deadhead_m, offnet_m, lower_bound_m, minutes, capacity_m, over_capacity, pipes, overdue,
		leg_pipe, leg_from, leg_to, leg_len, leg_kind)
		VALUES (current_date, 'D1', 1, 1, 1, ST_SetSRID(ST_MakePoint(500000, 4060000), 4548), 'given', 'walk', 4, 1000, 1000, 0, 0, 1000, 15, 24000, false, 20, 0,
		$1, $2, $3, $4, $5)`, ids, from, to, ln, strings.Repeat("P", legs)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	svc := New(pool, 4548, 0)
	ext, err := svc.extent(ctx, 1)
	if err != nil || !ext.ok {
		t.Fatalf("extent: %v", err)
	}
	var routes *layer
	for _, l := range allLayers {
		if l.name == "patrol_routes" {
			routes = l
		}
	}
	c := ext.lonlat
	tile := maptile.At([2]float64{(c[0] + c[2]) / 2, (c[1] + c[3]) / 2}, 16)
	q, args := tileQuery([]*layer{routes}, 16, int(tile.X), int(tile.Y), ext.merc, 4548)
	rows, err := pool.Query(ctx, "EXPLAIN (FORMAT TEXT) "+q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "pipes_geom") || strings.Contains(text, "Seq Scan on pipes") {
		t.Errorf("the patrol_routes tile does not find its pipes by the spatial index:\n%s", text)
	}
}
