package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/migrations/testdb"
)

// TestImportRoadsCommand runs `waterline import --roads` on GeoJSON (with
// --crs and --highways) and checks what the road table holds; bad input
// fails naming the file and leaves the table as it was.
func TestImportRoadsCommand(t *testing.T) {
	pool, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_SRID": "4548"}
	dir := t.TempDir()
	good := filepath.Join(dir, "streets.geojson")
	// Projected coordinates (EPSG:4548, named with --crs): a residential
	// street, a footway and a trunk.
	if err := os.WriteFile(good, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"highway":"residential","name":"A"},"geometry":{"type":"LineString","coordinates":[[500000,4060000],[500100,4060000]]}},
		{"type":"Feature","properties":{"highway":"footway"},"geometry":{"type":"LineString","coordinates":[[500000,4060000],[500000,4060050]]}},
		{"type":"Feature","properties":{"highway":"trunk"},"geometry":{"type":"LineString","coordinates":[[500000,4060100],[500300,4060100]]}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, envs, "import", "--roads", "--crs", "EPSG:4548", "--highways", "residential,trunk", good)
	if code != 0 || !strings.Contains(out, "2 road lines") || !strings.Contains(out, "0.4 km") || !strings.Contains(out, "roads version 1") ||
		!strings.Contains(out, "footway 1") {
		t.Fatalf("import --roads: %d\n%s\n%s", code, out, errs)
	}
	var n int
	var km float64
	if err := pool.QueryRow(context.Background(), "SELECT count(*), sum(ST_Length(geom)) / 1000 FROM roads").Scan(&n, &km); err != nil || n != 2 || km < 0.399 || km > 0.401 {
		t.Fatalf("roads: %d, %.3f km (%v)", n, km, err)
	}
	bad := filepath.Join(dir, "bad.geojson")
	if err := os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[1]]}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd(t, envs, "import", "--roads", bad)
	if code != 1 || !strings.Contains(errs, "bad.geojson: feature 1") {
		t.Fatalf("bad roads: %d %s", code, errs)
	}
	code, _, errs = runCmd(t, envs, "import", "--roads", "--crs", "EPSG:999999", good)
	if code != 1 || !strings.Contains(errs, "EPSG:999999") {
		t.Fatalf("unknown CRS: %d %s", code, errs)
	}
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM roads").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d roads after failed imports, want 2 (%v)", n, err)
	}
}
