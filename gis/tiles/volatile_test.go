package tiles_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
)

// openJob stores an open repair job at lon/lat the way repair.Jobs.Open
// does (only the columns the layer reads matter here).
func openJob(t *testing.T, f *fixture, pipe, kind string, lon, lat float64, holding bool) int64 {
	t.Helper()
	var id int64
	err := f.st.Pool().QueryRow(context.Background(), `INSERT INTO repair_jobs (kind, ordered_at, created_at, created_by, pipe_id, leak_at, leak_dn,
		district, lon, lat, planned_start, planned_end, network_version, plan, holding)
		VALUES ($1, now(), now(), 'test', $2, 0.5, 100, 'D1', $3, $4, CASE WHEN $1 = 'planned' THEN now() + interval '1 day' END,
		CASE WHEN $1 = 'planned' THEN now() + interval '1 day 4 hours' END, 1, '{}', $5) RETURNING id`, kind, pipe, lon, lat, holding).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pipeLonLat returns a pipe's line in lon/lat.
func pipeLonLat(t *testing.T, f *fixture, id string) orb.LineString {
	t.Helper()
	for _, p := range f.ds.Pipes {
		if p.ID != id {
			continue
		}
		var xs, ys []float64
		for _, q := range p.Geom {
			xs, ys = append(xs, q[0]), append(ys, q[1])
		}
		lon, lat, err := f.st.ToLonLat(context.Background(), xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		var out orb.LineString
		for i := range lon {
			out = append(out, orb.Point{lon[i], lat[i]})
		}
		return out
	}
	t.Fatalf("no pipe %s", id)
	return nil
}

func near(a, b orb.Point, tol float64) bool {
	return math.Abs(a[0]-b[0]) < tol && math.Abs(a[1]-b[1]) < tol
}

// TestRepairSitesLayer: open jobs are points at their leak; a job opened
// after a tile was served is in the next one (the layer is never cached);
// closed jobs are not drawn; the feature id is the job id.
func TestRepairSitesLayer(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 6, 6, 50)
	svc := tiles.New(f.st.Pool(), 4548, 1<<20)
	line := pipeLonLat(t, f, tilestest.HPipe(2, 2))
	mid := orb.Point{(line[0][0] + line[1][0]) / 2, (line[0][1] + line[1][1]) / 2}
	a := openJob(t, f, tilestest.HPipe(2, 2), "emergency", mid[0], mid[1], true)
	z, x, y := int(f.tile.Z), int(f.tile.X), int(f.tile.Y)
	get := func() []map[string]any {
		b, err := svc.Tile(ctx, "repair_sites", z, x, y, f.version)
		if err != nil {
			t.Fatal(err)
		}
		ls := decode(t, b, f.tile)
		var out []map[string]any
		if l := ls["repair_sites"]; l != nil {
			for _, ft := range l.Features {
				p := map[string]any(ft.Properties)
				p["fid"] = ft.ID
				p["geom"] = ft.Geometry
				out = append(out, p)
			}
		}
		return out
	}
	got := get()
	if len(got) != 1 || got[0]["kind"] != "emergency" || got[0]["pipe"] != tilestest.HPipe(2, 2) || got[0]["holding"] != true {
		t.Fatalf("one job: %v", got)
	}
	if fid, _ := got[0]["fid"].(float64); int64(fid) != a {
		t.Errorf("feature id %v, job %d", got[0]["fid"], a)
	}
	if p, ok := got[0]["geom"].(orb.Point); !ok || !near(p, mid, 2e-5) {
		t.Errorf("site at %v, leak at %v", got[0]["geom"], mid)
	}
	b := openJob(t, f, tilestest.VPipe(3, 1), "planned", line[0][0], line[0][1], false)
	if got := get(); len(got) != 2 {
		t.Fatalf("after a second job the tile has %d sites (cached?)", len(got))
	}
	if _, err := f.st.Pool().Exec(ctx, "UPDATE repair_jobs SET status = 'closed' WHERE id = $1", a); err != nil {
		t.Fatal(err)
	}
	got = get()
	if len(got) != 1 || got[0]["kind"] != "planned" {
		t.Errorf("after closing job %d: %v", a, got)
	}
	if st := svc.Stats(); st.Entries != 0 {
		t.Errorf("volatile tiles were cached: %+v", st)
	}
	// The GeoJSON collection.
	body, err := svc.Features(ctx, "repair_sites", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			ID         int64          `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(fc.Features) != 1 || fc.Features[0].ID != b || fc.Features[0].Properties["planned_start"] == nil {
		t.Errorf("repair_sites collection: %s", body)
	}
}

// TestPatrolRoutesLayer: a stored route is drawn leg by leg in walking
// order — a leg walked against its pipe runs backwards, an off-network leg
// ends where the next leg starts — with the route, date and sequence.
func TestPatrolRoutesLayer(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 6, 6, 50)
	svc := tiles.New(f.st.Pool(), 4548, 1<<20)
	start := f.ds.Pipes[0].Geom[0]
	// Legs: H-1-1 forwards (patrol), H-1-2 backwards from its end (walk),
	// then off the network from 10 m south of H-1-2's start to V-2-0 at
	// 20 m, which is walked forwards (patrol), then home off the network.
	var h12 gis.Pipe
	for _, p := range f.ds.Pipes {
		if p.ID == tilestest.HPipe(1, 2) {
			h12 = p
		}
	}
	off := orb.Point{h12.Geom[0][0], h12.Geom[0][1] - 10}
	v20 := tilestest.VPipe(2, 0)
	if _, err := f.st.Pool().Exec(ctx, `INSERT INTO patrol_routes (plan_date, district, idx, of, manager, network_version, start, start_source, mode,
		speed_kmh, total_m, patrol_m, deadhead_m, offnet_m, lower_bound_m, minutes, capacity_m, over_capacity, pipes, overdue,
		leg_pipe, leg_from, leg_to, leg_len, leg_kind)
		VALUES (current_date, 'D1', 1, 2, '管理员1', 1, ST_SetSRID(ST_MakePoint($1, $2), 4548), 'given', 'walk', 4, 300, 100, 200, 50, 250, 5, 24000, false, 2, 0,
		$3, $4, $5, $6, 'PWOPO')`, start[0], start[1],
		[]string{tilestest.HPipe(1, 1), tilestest.HPipe(1, 2), "", v20, ""},
		[]float64{0, 50, off[0], 20, 0}, []float64{50, 0, off[1], 50, 0}, []float64{50, 50, 20, 30, 60}); err != nil {
		t.Fatal(err)
	}
	var today string
	if err := f.st.Pool().QueryRow(ctx, "SELECT to_char(current_date, 'YYYY-MM-DD')").Scan(&today); err != nil {
		t.Fatal(err)
	}
	b, err := svc.Tile(ctx, "patrol_routes", int(f.tile.Z), int(f.tile.X), int(f.tile.Y), f.version)
	if err != nil {
		t.Fatal(err)
	}
	l := decode(t, b, f.tile)["patrol_routes"]
	if count(l) != 5 {
		t.Fatalf("%d legs drawn, want 5", count(l))
	}
	legs := map[float64]map[string]any{}
	lines := map[float64]orb.LineString{}
	for _, ft := range l.Features {
		p := ft.Properties
		seq := p["seq"].(float64)
		legs[seq] = p
		if ls, ok := ft.Geometry.(orb.LineString); ok {
			lines[seq] = ls
		}
		if p["date"] != today || p["manager"] != "管理员1" || p["of"] != 2.0 || p["id"] != fmt.Sprintf("%d-%d", int(p["route"].(float64)), int(seq)) {
			t.Errorf("leg %v properties %v", seq, p)
		}
	}
	for seq, kind := range map[float64]string{1: "patrol", 2: "walk", 3: "offnet", 4: "patrol", 5: "offnet"} {
		if legs[seq]["kind"] != kind {
			t.Errorf("leg %v is %v, want %s", seq, legs[seq]["kind"], kind)
		}
	}
	tol := 3e-5 // MVT grid at z14
	h11 := pipeLonLat(t, f, tilestest.HPipe(1, 1))
	h12ll := pipeLonLat(t, f, tilestest.HPipe(1, 2))
	if ls := lines[1]; len(ls) < 2 || !near(ls[0], h11[0], tol) || !near(ls[len(ls)-1], h11[1], tol) {
		t.Errorf("leg 1 %v, pipe %v", ls, h11)
	}
	if ls := lines[2]; len(ls) < 2 || !near(ls[0], h12ll[1], tol) || !near(ls[len(ls)-1], h12ll[0], tol) {
		t.Errorf("leg 2 (walked backwards) %v, pipe %v", ls, h12ll)
	}
	v := pipeLonLat(t, f, v20)
	at20 := orb.Point{v[0][0] + 0.4*(v[1][0]-v[0][0]), v[0][1] + 0.4*(v[1][1]-v[0][1])}
	if ls := lines[3]; len(ls) < 2 || !near(ls[len(ls)-1], at20, tol) {
		t.Errorf("leg 3 (off the network) ends at %v, the next leg starts at %v", ls, at20)
	}
	if ls := lines[4]; len(ls) < 2 || !near(ls[0], at20, tol) || !near(ls[len(ls)-1], v[1], tol) {
		t.Errorf("leg 4 %v, from %v to %v", ls, at20, v[1])
	}
	lon, lat, _ := f.st.ToLonLat(ctx, []float64{start[0]}, []float64{start[1]})
	if ls := lines[5]; len(ls) < 2 || !near(ls[len(ls)-1], orb.Point{lon[0], lat[0]}, tol) {
		t.Errorf("leg 5 (home) %v ends away from the start", ls)
	}
	// Below the layer's minimum zoom: nothing.
	p := parent(f.tile, 9)
	if b, err := svc.Tile(ctx, "patrol_routes", int(p.Z), int(p.X), int(p.Y), f.version); err != nil || len(b) != 0 {
		t.Errorf("z9: %d bytes, %v", len(b), err)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	f := setup(t, 8, 8, 50)
	svc := tiles.New(f.st.Pool(), 4548, 0)
	res, err := svc.Search(ctx, "H-3-5", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Kind != "pipe" || res[0].ID != "H-3-5" || res[0].Pipe != "H-3-5" || res[0].At == nil || *res[0].At != 0.5 || res[0].BBox == nil {
		t.Fatalf("H-3-5: %+v", res)
	}
	line := pipeLonLat(t, f, "H-3-5")
	if !near(orb.Point{res[0].Lon, res[0].Lat}, orb.Point{(line[0][0] + line[1][0]) / 2, (line[0][1] + line[1][1]) / 2}, 1e-7) {
		t.Errorf("H-3-5 at %v,%v, its middle %v", res[0].Lon, res[0].Lat, line)
	}
	// A prefix, case-insensitively: the pipes of row 3 (7 of them), bounded.
	res, err = svc.Search(ctx, "h-3-", 5)
	if err != nil || len(res) != 5 || res[0].ID != "H-3-0" {
		t.Errorf("h-3-: %+v %v", res, err)
	}
	// A valve: where it is, and the pipe it sits on.
	v := f.ds.Valves[10]
	res, err = svc.Search(ctx, v.ID, 10)
	if err != nil || len(res) == 0 || res[0].Kind != "valve" || res[0].ID != v.ID || res[0].Pipe != v.Pipe || res[0].At == nil || math.Abs(*res[0].At-0.1) > 0.01 {
		t.Errorf("valve %s on %s: %+v %v", v.ID, v.Pipe, res, err)
	}
	// An address: its customers and the pipe serving them.
	addr := tilestest.Address(3, 5, false)
	res, err = svc.Search(ctx, strings.TrimSuffix(addr, "号"), 10)
	if err != nil || len(res) == 0 || res[0].Kind != "address" || res[0].ID != addr || res[0].Pipe != "H-3-5" || res[0].Count != 1 {
		t.Errorf("address %s: %+v %v", addr, res, err)
	}
	// A district by name.
	res, err = svc.Search(ctx, "东北", 10)
	if err != nil || len(res) != 1 || res[0].Kind != "district" || res[0].ID != "D4" || res[0].BBox == nil {
		t.Errorf("东北: %+v %v", res, err)
	}
	// LIKE wildcards are literal; hostile text is just text.
	for _, q := range []string{"%", "_-3-5", `\`, "'; DROP TABLE pipes; --", "H-3-5' OR '1'='1"} {
		res, err := svc.Search(ctx, q, 10)
		if err != nil || len(res) != 0 {
			t.Errorf("%q: %+v %v", q, res, err)
		}
	}
	for _, q := range []string{"", "   ", strings.Repeat("长", tiles.MaxSearchQuery+1), "a\x00b", "\xff"} {
		_, err := svc.Search(ctx, q, 10)
		var ge *gis.Error
		if !errors.As(err, &ge) || ge.Kind != gis.Invalid || ge.Code != "search.bad_query" {
			t.Errorf("%q: %v", q, err)
		}
	}
}

func TestWarm(t *testing.T) {
	f := setup(t, 3, 3, 50)
	svc := tiles.New(f.st.Pool(), 4548, 0)
	if tj := svc.TileJSON("network", "/t/{z}/{x}/{y}.mvt"); tj["bounds"] != nil {
		t.Fatalf("bounds before anything was asked: %v", tj["bounds"])
	}
	if err := svc.Warm(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	tj := svc.TileJSON("network", "/t/{z}/{x}/{y}.mvt")
	b, ok := tj["bounds"].([4]float64)
	if !ok || !(orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}).Contains(maptile.Tile(f.tile).Center()) {
		t.Errorf("bounds after Warm: %v (tile %v)", tj["bounds"], f.tile)
	}
	if st := f.st.Pool().Stat(); st.TotalConns() < 2 {
		t.Errorf("Warm opened %d connections", st.TotalConns())
	}
}
