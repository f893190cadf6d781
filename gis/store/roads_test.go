package store_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/roads"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// roadsGeoJSON: two streets in lon/lat near Jinan (no crs member: WGS84),
// a MultiLineString of two lines, a motorway (skipped) and a point (not a
// line).
const roadsGeoJSON = `{"type": "FeatureCollection", "features": [
 {"type": "Feature", "id": 11, "properties": {"name": "经十路", "highway": "primary"},
  "geometry": {"type": "LineString", "coordinates": [[117.000, 36.660], [117.010, 36.660]]}},
 {"type": "Feature", "properties": {"name": "two", "highway": "residential", "bridge": "yes"},
  "geometry": {"type": "MultiLineString", "coordinates": [[[117.000, 36.661], [117.000, 36.670]], [[117.005, 36.661], [117.005, 36.670]]]}},
 {"type": "Feature", "properties": {"highway": "motorway"},
  "geometry": {"type": "LineString", "coordinates": [[117.0, 36.65], [117.1, 36.65]]}},
 {"type": "Feature", "properties": {"name": "a stop"}, "geometry": {"type": "Point", "coordinates": [117.0, 36.66]}}
]}`

// roadsOSM is an OSM XML extract: a residential street, a footway, a
// trunk (skipped by default) and a river (not a road).
const roadsOSM = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <node id="1" lat="36.660" lon="117.000" version="1"/>
 <node id="2" lat="36.660" lon="117.005" version="1"/>
 <node id="3" lat="36.660" lon="117.010" version="1"/>
 <node id="4" lat="36.665" lon="117.005" version="1"/>
 <node id="5" lat="36.655" lon="117.000" version="1"/>
 <node id="6" lat="36.655" lon="117.010" version="1"/>
 <node id="7" lat="36.650" lon="117.000" version="1"/>
 <node id="8" lat="36.650" lon="117.010" version="1"/>
 <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="Quancheng Rd"/></way>
 <way id="101" version="1"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/><tag k="bridge" v="yes"/><tag k="layer" v="2"/></way>
 <way id="102" version="1"><nd ref="5"/><nd ref="6"/><tag k="highway" v="trunk"/></way>
 <way id="103" version="1"><nd ref="7"/><nd ref="8"/><tag k="waterway" v="river"/></way>
</osm>
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func roadStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	pool, _ := testdb.New(t, 4548)
	return store.New(pool, 4548, gis.DefaultGradeRules(), nil), pool
}

type roadRow struct {
	name, highway string
	layer         int
	x0, y0        float64
	length        float64
}

func storedRoads(t *testing.T, pool *pgxpool.Pool) []roadRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT name, highway, layer, ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)),
		ST_Length(geom) FROM roads ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []roadRow
	for rows.Next() {
		var r roadRow
		if err := rows.Scan(&r.name, &r.highway, &r.layer, &r.x0, &r.y0, &r.length); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestImportRoadsGeoJSON(t *testing.T) {
	ctx := context.Background()
	st, pool := roadStore(t)
	path := writeFile(t, "roads.geojson", roadsGeoJSON)
	res, err := roads.Read(ctx, path, roads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.SRID != 4326 || len(res.Roads) != 3 || res.Counts["skipped:motorway"] != 1 || res.Counts["skipped:not a line"] != 1 || res.Counts["features"] != 4 {
		t.Fatalf("read: srid %d, %d roads, counts %v", res.SRID, len(res.Roads), res.Counts)
	}
	v0, _ := st.Version(ctx)
	out, err := st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: "roads.geojson", Format: res.Format, SRID: res.SRID, Counts: res.Counts})
	if err != nil {
		t.Fatal(err)
	}
	if out.Version != 1 || out.Roads != 3 {
		t.Fatalf("import: %+v", out)
	}
	if v, _ := st.Version(ctx); v != v0 {
		t.Errorf("a road import changed the network version %d → %d", v0, v)
	}
	got := storedRoads(t, pool)
	if len(got) != 3 || got[0].name != "经十路" || got[0].highway != "primary" || got[1].layer != 1 || got[2].layer != 1 {
		t.Fatalf("stored: %+v", got)
	}
	// Transformed into EPSG:4548 (CGCS2000 / 3-degree GK CM 117E): on the
	// central meridian x is the false easting, and 0.01° of longitude at
	// 36.66° N is about 892 m.
	if math.Abs(got[0].x0-500000) > 0.01 || got[0].y0 < 4.05e6 || got[0].y0 > 4.07e6 {
		t.Errorf("start of the first road at (%.2f, %.2f) in EPSG:4548", got[0].x0, got[0].y0)
	}
	if math.Abs(got[0].length-892.6) > 2 {
		t.Errorf("first road %.1f m long, want about 892.6", got[0].length)
	}
	var srid int
	if err := pool.QueryRow(ctx, "SELECT ST_SRID(geom) FROM roads LIMIT 1").Scan(&srid); err != nil || srid != 4548 {
		t.Fatalf("stored SRID %d (%v)", srid, err)
	}
	var rv int64
	var file string
	if err := pool.QueryRow(ctx, "SELECT (SELECT version FROM roads_version), (SELECT file FROM road_imports)").Scan(&rv, &file); err != nil || rv != 1 || file != "roads.geojson" {
		t.Fatalf("roads version %d, import %q (%v)", rv, file, err)
	}
	// A second import replaces the table whole.
	res.Roads = res.Roads[:1]
	if out, err = st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: "one.geojson", SRID: 4326}); err != nil || out.Version != 2 {
		t.Fatalf("re-import: %+v %v", out, err)
	}
	if n := len(storedRoads(t, pool)); n != 1 {
		t.Fatalf("%d roads after replacing with one", n)
	}
	lines, v, err := st.LoadRoads(ctx)
	if err != nil || v != 2 || len(lines) != 1 || len(lines[0].Geom) != 2 {
		t.Fatalf("load: %d lines, version %d, %v", len(lines), v, err)
	}
}

func TestImportRoadsOSM(t *testing.T) {
	ctx := context.Background()
	st, pool := roadStore(t)
	path := writeFile(t, "extract.osm", roadsOSM)
	res, err := roads.Read(ctx, path, roads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != "osm" || res.SRID != 4326 || len(res.Roads) != 2 || res.Counts["skipped:trunk"] != 1 {
		t.Fatalf("read: format %s srid %d, %d roads, counts %v", res.Format, res.SRID, len(res.Roads), res.Counts)
	}
	if _, err := st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: "extract.osm", Format: res.Format, SRID: res.SRID}); err != nil {
		t.Fatal(err)
	}
	got := storedRoads(t, pool)
	byName := map[string]roadRow{}
	for _, r := range got {
		byName[r.highway] = r
	}
	res0, foot := byName["residential"], byName["footway"]
	if len(got) != 2 || res0.name != "Quancheng Rd" || foot.layer != 2 {
		t.Fatalf("stored: %+v", got)
	}
	if math.Abs(res0.x0-500000) > 0.01 || math.Abs(res0.length-892.6) > 2 || math.Abs(foot.length-555) > 3 {
		t.Errorf("residential from (%.2f, %.2f), %.1f m; footway %.1f m", res0.x0, res0.y0, res0.length, foot.length)
	}
	// --highways all keeps the trunk too (never the river).
	all, err := roads.Read(ctx, path, roads.Options{Classes: []string{"all"}})
	if err != nil || len(all.Roads) != 3 {
		t.Fatalf("all classes: %v %v", all, err)
	}
}

func TestImportRoadsBadInput(t *testing.T) {
	ctx := context.Background()
	st, pool := roadStore(t)
	good := writeFile(t, "good.geojson", roadsGeoJSON)
	res, err := roads.Read(ctx, good, roads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: "good.geojson", SRID: res.SRID}); err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		var n int
		var v int64
		if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM roads), (SELECT version FROM roads_version)").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if n != 3 || v != 1 {
			t.Fatalf("%s: %d roads at version %d, want the 3 of version 1", what, n, v)
		}
	}
	readErr := func(name, body string, opt roads.Options, want ...string) {
		t.Helper()
		_, err := roads.Read(ctx, writeFile(t, name, body), opt)
		var re *roads.Error
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v, want a *roads.Error", name, err)
		}
		for _, w := range append(want, name) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", name, err, w)
			}
		}
	}
	readErr("notjson.geojson", "this is not JSON", roads.Options{}, "not GeoJSON")
	readErr("nolines.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[117,36]}}]}`,
		roads.Options{}, "no road lines")
	readErr("short.geojson", `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[117,36],[117.1,36]]}},
		{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[117,36]]}}]}`,
		roads.Options{}, "feature 2", "at least two positions")
	readErr("badcrs.geojson", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:FOO::1"}},"features":[]}`,
		roads.Options{}, "unknown CRS")
	readErr("projected.geojson", `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[500000,4060000],[500100,4060000]]}}]}`,
		roads.Options{}, "feature 1", "not WGS84")
	readErr("broken.osm", "<osm><way", roads.Options{}, "no road lines")
	// An EPSG code PostGIS does not know: refused before anything is written.
	res.Roads = res.Roads[:1]
	_, err = st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: "unknown.geojson", SRID: 999999})
	var ce *store.CRSError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "EPSG:999999") || !strings.Contains(err.Error(), "unknown.geojson") {
		t.Fatalf("unknown CRS: %v", err)
	}
	unchanged("unknown CRS")
	// Coordinates that do not fit the CRS: the transaction rolls back.
	_, err = st.ImportRoads(ctx, []store.Road{{Geom: res.Roads[0].Geom, Feature: "feature 1"},
		{Geom: orb.LineString{{1e10, 1e10}, {2e10, 2e10}}, Feature: "feature 7"}}, store.RoadImportOptions{File: "far.geojson", SRID: 4326})
	if err == nil || !strings.Contains(err.Error(), "far.geojson") {
		t.Fatalf("untransformable coordinates: %v", err)
	}
	unchanged("untransformable coordinates")
	_, err = st.ImportRoads(ctx, nil, store.RoadImportOptions{File: "empty.geojson", SRID: 4326})
	if err == nil || !strings.Contains(err.Error(), "no road lines") {
		t.Fatalf("empty: %v", err)
	}
	unchanged("empty")
}
