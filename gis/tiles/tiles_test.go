package tiles_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// fixture is a small grid imported into a fresh database, placed in the
// middle of one z14 tile so that the tile (and its parents) hold all of it.
type fixture struct {
	st      *store.Store
	ds      *gis.Dataset
	tile    maptile.Tile // z14 tile holding the whole grid
	version int64
}

func setup(t testing.TB, nx, ny int, spacing float64) *fixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	tile := maptile.At(orb.Point{117.0, 36.67}, 14)
	c := tile.Center()
	var x, y float64
	if err := pool.QueryRow(ctx, "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 4548) p", c[0], c[1]).Scan(&x, &y); err != nil {
		t.Fatal(err)
	}
	ds := tilestest.Grid(tilestest.GridOptions{NX: nx, NY: ny, Spacing: spacing,
		Origin: orb.Point{x - float64(nx-1)*spacing/2, y - float64(ny-1)*spacing/2}})
	res, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Format: "test", Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, ds: ds, tile: tile, version: res.Version}
}

func decode(t *testing.T, b []byte, tile maptile.Tile) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	ls.ProjectToWGS84(tile)
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		if out[l.Name] != nil {
			t.Fatalf("layer %s twice in a tile", l.Name)
		}
		out[l.Name] = l
	}
	return out
}

func count(l *mvt.Layer) int {
	if l == nil {
		return 0
	}
	return len(l.Features)
}

func parent(t maptile.Tile, z maptile.Zoom) maptile.Tile {
	for t.Z > z {
		t = t.Parent()
	}
	return t
}

func TestNetworkTile(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 6, 6, 60)
	svc := tiles.New(f.st.Pool(), 4548, 1<<20)
	b, err := svc.Tile(ctx, "network", int(f.tile.Z), int(f.tile.X), int(f.tile.Y), f.version)
	if err != nil {
		t.Fatal(err)
	}
	ls := decode(t, b, f.tile)
	want := map[string]int{"pipes": len(f.ds.Pipes), "valves": len(f.ds.Valves), "hydrants": len(f.ds.Hydrants), "sources": len(f.ds.Sources)}
	for name, n := range want {
		if got := count(ls[name]); got != n || n == 0 {
			t.Errorf("layer %s: %d features, want %d", name, got, n)
		}
	}
	if len(ls) != len(want) {
		t.Errorf("layers %v, want %v", keys(ls), want)
	}

	// Properties, and geometry in the right place.
	props := func(layer, id string) map[string]any {
		for _, ft := range ls[layer].Features {
			if ft.Properties["id"] == id {
				if ft.ID == nil {
					t.Errorf("%s %s has no feature id", layer, id)
				}
				return ft.Properties
			}
		}
		t.Fatalf("%s %s not in the tile", layer, id)
		return nil
	}
	p := props("pipes", tilestest.HPipe(0, 0))
	wantP := map[string]any{"id": "H-0-0", "dn": 600.0, "grade": "special", "status": "in_service", "crossing": "", "material": "steel", "district": "D1"}
	for k, v := range wantP {
		if p[k] != v {
			t.Errorf("pipe H-0-0 %s = %#v, want %#v", k, p[k], v)
		}
	}
	if len(p) != len(wantP) {
		t.Errorf("pipe properties %v, want exactly %v", p, wantP)
	}
	crossings := 0
	for _, ft := range ls["pipes"].Features {
		if ft.Properties["crossing"] != "" {
			crossings++
		}
	}
	if crossings == 0 {
		t.Error("no crossing pipe in the tile")
	}
	v := props("valves", f.ds.Valves[0].ID)
	if v["dn"] != float64(f.ds.Valves[0].DN) || v["normally_open"] != true || v["operable"] != true || len(v) != 4 {
		t.Errorf("valve properties %v", v)
	}
	if s := props("sources", "S2"); s["type"] != "reservoir" {
		t.Errorf("source properties %v", s)
	}
	// S1 sits on the grid's origin: compare its position with PostGIS's.
	lon, lat, err := f.st.ToLonLat(ctx, []float64{f.ds.Sources[0].Geom[0]}, []float64{f.ds.Sources[0].Geom[1]})
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range ls["sources"].Features {
		if ft.Properties["id"] == "S1" {
			pt := ft.Geometry.(orb.Point)
			if math.Abs(pt[0]-lon[0]) > 2e-5 || math.Abs(pt[1]-lat[0]) > 2e-5 {
				t.Errorf("S1 drawn at %v, stored at %v,%v", pt, lon[0], lat[0])
			}
		}
	}

	// The districts layer, on its own.
	b, err = svc.Tile(ctx, "districts", int(f.tile.Z), int(f.tile.X), int(f.tile.Y), f.version)
	if err != nil {
		t.Fatal(err)
	}
	dl := decode(t, b, f.tile)
	if count(dl["districts"]) != 4 || len(dl) != 1 {
		t.Errorf("districts tile: %v", keys(dl))
	}
	if d := dl["districts"].Features[0].Properties; d["name"] == "" || d["id"] == "" {
		t.Errorf("district properties %v", d)
	}
}

func keys(m map[string]*mvt.Layer) map[string]int {
	out := map[string]int{}
	for k, l := range m {
		out[k] = count(l)
	}
	return out
}

func TestThinning(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 12, 12, 40)
	svc := tiles.New(f.st.Pool(), 4548, 0)
	pipesAtLeast := func(dn int) int {
		n := 0
		for _, p := range f.ds.Pipes {
			if p.DN >= dn {
				n++
			}
		}
		return n
	}
	cases := []struct {
		layer string
		z     maptile.Zoom
		want  map[string]int
	}{
		{"network", 16, map[string]int{"pipes": len(f.ds.Pipes), "valves": len(f.ds.Valves), "hydrants": len(f.ds.Hydrants), "sources": 2}},
		{"network", 14, map[string]int{"pipes": len(f.ds.Pipes), "valves": len(f.ds.Valves), "hydrants": len(f.ds.Hydrants), "sources": 2}},
		{"network", 13, map[string]int{"pipes": len(f.ds.Pipes), "hydrants": len(f.ds.Hydrants), "sources": 2}},
		{"network", 12, map[string]int{"pipes": len(f.ds.Pipes), "sources": 2}},
		{"network", 11, map[string]int{"pipes": pipesAtLeast(300), "sources": 2}},
		{"network", 10, map[string]int{"pipes": pipesAtLeast(600), "sources": 2}},
		{"network", 9, map[string]int{"pipes": pipesAtLeast(600), "sources": 2}},
		// At z0 the whole grid is a fraction of a pixel: its lines collapse
		// (ST_AsMVTGeom drops them), its points remain. The world tile's
		// envelope does not transform into EPSG:4548: this checks the clip.
		{"network", 0, map[string]int{"sources": 2}},
		{"connections", 15, map[string]int{}},
		{"connections", 16, map[string]int{"connections": len(f.ds.Connections)}},
		{"valves", 13, map[string]int{}},
		{"pipes", 11, map[string]int{"pipes": pipesAtLeast(300)}},
	}
	if pipesAtLeast(600) == 0 || pipesAtLeast(300) == pipesAtLeast(600) || pipesAtLeast(300) == len(f.ds.Pipes) {
		t.Fatal("the grid does not exercise thinning")
	}
	for _, c := range cases {
		var tile maptile.Tile
		if c.z > f.tile.Z {
			// The child tile holding the grid's south-west corner (S1).
			lon, lat, _ := f.st.ToLonLat(ctx, []float64{f.ds.Sources[0].Geom[0] + 40}, []float64{f.ds.Sources[0].Geom[1] + 40})
			tile = maptile.At(orb.Point{lon[0], lat[0]}, c.z)
		} else {
			tile = parent(f.tile, c.z)
		}
		b, err := svc.Tile(ctx, c.layer, int(tile.Z), int(tile.X), int(tile.Y), f.version)
		if err != nil {
			t.Fatalf("%s z%d: %v", c.layer, c.z, err)
		}
		ls := decode(t, b, tile)
		if c.z > f.tile.Z {
			// Only part of the grid: just check which layers are there.
			for name := range c.want {
				if count(ls[name]) == 0 {
					t.Errorf("%s z%d: no %s", c.layer, c.z, name)
				}
			}
			if len(ls) != len(c.want) {
				t.Errorf("%s z%d: layers %v, want %v", c.layer, c.z, keys(ls), c.want)
			}
			continue
		}
		if got := keys(ls); !equal(got, c.want) {
			t.Errorf("%s z%d: %v, want %v", c.layer, c.z, got, c.want)
		}
		if c.z < 12 && ls["pipes"] != nil {
			for _, ft := range ls["pipes"].Features {
				if dn := ft.Properties["dn"].(float64); dn < 300 || (c.z < 11 && dn < 600) {
					t.Errorf("z%d has a DN%v pipe", c.z, dn)
				}
			}
		}
	}
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestTileErrors(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 3, 3, 50)
	svc := tiles.New(f.st.Pool(), 4548, 1<<20)
	for _, c := range []struct {
		layer   string
		z, x, y int
		want    error
	}{
		{"network", -1, 0, 0, tiles.ErrOutOfRange},
		{"network", 23, 0, 0, tiles.ErrOutOfRange},
		{"pipes", 0, 1, 0, tiles.ErrOutOfRange},
		{"pipes", 0, 0, 1, tiles.ErrOutOfRange},
		{"pipes", 3, -1, 0, tiles.ErrOutOfRange},
		{"pipes", 3, 0, 8, tiles.ErrOutOfRange},
		{"pipes", 22, 1 << 22, 0, tiles.ErrOutOfRange},
		{"customers", 14, 0, 0, tiles.ErrUnknownLayer},
		{"pipes; DROP TABLE pipes", 14, 0, 0, tiles.ErrUnknownLayer},
		{"", 14, 0, 0, tiles.ErrUnknownLayer},
		{"Pipes", 14, 0, 0, tiles.ErrUnknownLayer},
	} {
		_, err := svc.Tile(ctx, c.layer, c.z, c.x, c.y, f.version)
		if !errors.Is(err, c.want) {
			t.Errorf("Tile(%q, %d/%d/%d) = %v, want %v", c.layer, c.z, c.x, c.y, err, c.want)
		}
	}
	// The corners of the valid range are tiles (empty: nothing is there).
	for _, zxy := range [][3]int{{0, 0, 0}, {22, 0, 0}, {22, 1<<22 - 1, 1<<22 - 1}} {
		b, err := svc.Tile(ctx, "network", zxy[0], zxy[1], zxy[2], f.version)
		if err != nil {
			t.Errorf("tile %v: %v", zxy, err)
		}
		if zxy[0] == 22 && len(b) != 0 {
			t.Errorf("tile %v far from the network has %d bytes", zxy, len(b))
		}
	}
	if _, err := svc.Features(ctx, "network", nil, 10); !errors.Is(err, tiles.ErrUnknownLayer) {
		t.Errorf("Features(network): %v, want ErrUnknownLayer", err)
	}
	if _, err := svc.Features(ctx, "pipes", &[4]float64{10, 10, 5, 20}, 10); !errors.Is(err, tiles.ErrOutOfRange) {
		t.Errorf("Features with an inverted bbox: %v, want ErrOutOfRange", err)
	}
	if _, err := svc.Features(ctx, "pipes", &[4]float64{0, 0, 500, 20}, 10); !errors.Is(err, tiles.ErrOutOfRange) {
		t.Errorf("Features with a bbox beyond 180°: %v, want ErrOutOfRange", err)
	}
	if svc.TileJSON("nope", "/x/{z}/{x}/{y}.mvt") != nil {
		t.Error("TileJSON of an unknown layer is not nil")
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 4, 4, 50)
	svc := tiles.New(f.st.Pool(), 4548, 1<<20)
	z, x, y := int(f.tile.Z), int(f.tile.X), int(f.tile.Y)
	a, err := svc.Tile(ctx, "network", z, x, y, f.version)
	if err != nil {
		t.Fatal(err)
	}
	s0 := svc.Stats()
	b, err := svc.Tile(ctx, "network", z, x, y, f.version)
	if err != nil {
		t.Fatal(err)
	}
	s1 := svc.Stats()
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("cached tile differs (%d vs %d bytes)", len(a), len(b))
	}
	if &a[0] != &b[0] || s1.Hits != s0.Hits+1 {
		t.Errorf("second fetch was not a cache hit: %+v → %+v", s0, s1)
	}
	// A new network version is not answered from the old one's entry.
	ds := tilestest.Grid(tilestest.GridOptions{NX: 3, NY: 3, Spacing: 50, Origin: f.ds.Pipes[0].Geom[0]})
	res, err := f.st.Import(ctx, ds, store.ImportOptions{File: "smaller", Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Tile(ctx, "network", z, x, y, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Error("the tile of a new version equals the old one")
	}
	if got := count(decode(t, c, f.tile)["pipes"]); got != len(ds.Pipes) {
		t.Errorf("new version: %d pipes, want %d", got, len(ds.Pipes))
	}
	if st := svc.Stats(); st.Entries != 2 || st.Bytes <= int64(len(a)+len(c)) || st.Bytes > st.Max {
		t.Errorf("cache stats %+v", st)
	}
	// Concurrent requests for one uncached tile all get the same bytes.
	const n = 16
	got := make(chan []byte, n)
	for range n {
		go func() {
			b, err := svc.Tile(ctx, "network", z, x, y, res.Version+1)
			if err != nil {
				t.Error(err)
			}
			got <- b
		}()
	}
	first := <-got
	for range n - 1 {
		if b := <-got; !bytes.Equal(b, first) || len(b) == 0 {
			t.Fatal("concurrent fetches of one tile differ")
		}
	}
}

type featureCollection struct {
	Type           string `json:"type"`
	NumberReturned int    `json:"numberReturned"`
	Features       []struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func TestFeatures(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 6, 6, 60)
	svc := tiles.New(f.st.Pool(), 4548, 0)

	// Every pipe's lon/lat bounding box, from PostGIS.
	var xs, ys []float64
	for _, p := range f.ds.Pipes {
		for _, q := range p.Geom {
			xs, ys = append(xs, q[0]), append(ys, q[1])
		}
	}
	lon, lat, err := f.st.ToLonLat(ctx, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	all := orb.Bound{Min: orb.Point{lon[0], lat[0]}, Max: orb.Point{lon[0], lat[0]}}
	for i := range lon {
		all = all.Extend(orb.Point{lon[i], lat[i]})
	}
	// The south-west quarter of the grid, inset so that no pipe touches its edge.
	c := all.Center()
	q := [4]float64{all.Min[0] - 1e-4, all.Min[1] - 1e-4, c[0] - 1e-5, c[1] - 1e-5}
	want := map[string]bool{}
	k := 0
	for _, p := range f.ds.Pipes {
		b := orb.Bound{Min: orb.Point{lon[k], lat[k]}, Max: orb.Point{lon[k], lat[k]}}
		for range p.Geom {
			b = b.Extend(orb.Point{lon[k], lat[k]})
			k++
		}
		if b.Intersects(orb.Bound{Min: orb.Point{q[0], q[1]}, Max: orb.Point{q[2], q[3]}}) {
			want[p.ID] = true
		}
	}
	body, err := svc.Features(ctx, "pipes", &q, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var fc featureCollection
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if fc.Type != "FeatureCollection" || fc.NumberReturned != len(fc.Features) || len(fc.Features) != len(want) || len(want) == 0 || len(want) == len(f.ds.Pipes) {
		t.Fatalf("bbox %v: %d features (numberReturned %d), want %d of %d", q, len(fc.Features), fc.NumberReturned, len(want), len(f.ds.Pipes))
	}
	for _, ft := range fc.Features {
		if !want[ft.ID] {
			t.Errorf("pipe %s is outside the bbox", ft.ID)
		}
		var coords [][2]float64
		if err := json.Unmarshal(ft.Geometry.Coordinates, &coords); err != nil || ft.Geometry.Type != "LineString" || len(coords) != 2 {
			t.Errorf("pipe %s geometry %s %s", ft.ID, ft.Geometry.Type, ft.Geometry.Coordinates)
		}
		for _, pt := range coords {
			if !all.Pad(1e-6).Contains(orb.Point(pt)) {
				t.Errorf("pipe %s point %v is not in lon/lat near the network", ft.ID, pt)
			}
		}
		if ft.Properties["dn"] == nil || ft.Properties["grade"] == nil || ft.Properties["length_m"] == nil || ft.Properties["id"] != nil {
			t.Errorf("pipe %s properties %v", ft.ID, ft.Properties)
		}
	}

	// No bbox: everything, up to the limit, ordered by id.
	body, err = svc.Features(ctx, "valves", nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	fc = featureCollection{}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 5 || fc.Features[0].ID > fc.Features[1].ID || fc.Features[0].Properties["operable"] == nil {
		t.Errorf("valves limit 5: %s", body)
	}
	// A bbox away from the network: nothing (and no transformation trouble).
	for _, far := range [][4]float64{{-80, -10, -70, 10}, {-180, -90, 180, 90}} {
		body, err = svc.Features(ctx, "districts", &far, 10)
		if err != nil {
			t.Fatal(err)
		}
		fc = featureCollection{}
		json.Unmarshal(body, &fc) //nolint:errcheck
		want := 0
		if far[0] == -180 {
			want = 4
		}
		if len(fc.Features) != want || fc.Type != "FeatureCollection" {
			t.Errorf("bbox %v: %s", far, body)
		}
	}
}

func TestTileJSON(t *testing.T) {
	svc := tiles.New(nil, 4548, 0)
	tj := svc.TileJSON("network", "/tiles/network/{z}/{x}/{y}.mvt")
	if tj == nil || tj["tilejson"] != "3.0.0" || tj["tiles"].([]string)[0] != "/tiles/network/{z}/{x}/{y}.mvt" {
		t.Fatalf("TileJSON %v", tj)
	}
	vls := tj["vector_layers"].([]map[string]any)
	var ids []string
	for _, vl := range vls {
		ids = append(ids, vl["id"].(string))
	}
	if len(ids) != 4 || ids[0] != "pipes" || ids[1] != "valves" || vls[1]["minzoom"] != 14 {
		t.Errorf("vector layers %v", vls)
	}
	if got := svc.Layers(); len(got) != 8 || got[0] != "pipes" || got[5] != "districts" || got[6] != "repair_sites" || got[7] != "patrol_routes" {
		t.Errorf("Layers %v", got)
	}
	if !svc.Volatile("repair_sites") || !svc.Volatile("patrol_routes") || svc.Volatile("network") || svc.Volatile("pipes") || svc.Volatile("nope") {
		t.Error("Volatile: only repair_sites and patrol_routes are")
	}
}
