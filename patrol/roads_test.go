package patrol_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// roadCity is a hand-worked network (EPSG:4548, metres from x0, y0):
//
//	due pipes (district D1, DN300: due every day)
//	  A: (0,0)–(100,0)      B: (0,50)–(100,50)
//	other pipes (district D2) joining them only at their east ends:
//	  (100,0)–(400,0)–(400,50)–(100,50)   650 m
//	a street along x = -10 from y = -100 to y = 150, 10 m west of the
//	pipes' west ends; the start is the point (-20, 25).
//
// On roads (connectors within 60 m: A's and B's west ends and the start,
// 10 m each) the best closed walk is start → road → A and back along A →
// road → B and back along B → road → start: 200 m patrolled, deadhead
// 100 + 100 (back along A and B) + 160 on roads (road 25 + 50 + 25,
// connectors 6 × 10) = 360 m, 560 m in all. On the pipes alone the two
// due pipes are joined only through the 650 m loop.
var x0, y0 = 500000.0, 4060000.0

func at(x, y float64) orb.Point { return orb.Point{x0 + x, y0 + y} }

func roadCity() *gis.Dataset {
	pipe := func(id, d string, dn int, pts ...orb.Point) gis.Pipe {
		return gis.Pipe{ID: id, DN: dn, District: d, Status: gis.StatusInService, Geom: orb.LineString(pts)}
	}
	return &gis.Dataset{SRID: 4548, Pipes: []gis.Pipe{
		pipe("A", "D1", 300, at(0, 0), at(100, 0)),
		pipe("B", "D1", 300, at(0, 50), at(100, 50)),
		pipe("C1", "D2", 100, at(100, 0), at(400, 0)),
		pipe("C2", "D2", 100, at(400, 0), at(400, 50)),
		pipe("C3", "D2", 100, at(400, 50), at(100, 50)),
	}}
}

func roadEnv(t *testing.T, deadhead string) (*patrol.Service, *store.Store) {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, roadCity(), store.ImportOptions{File: "roadcity", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := shanghai(t)
	clk := &clock{t: time.Date(2026, 3, 2, 5, 30, 0, 0, loc)}
	r := patrol.DefaultRules()
	r.Deadhead = deadhead
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: r, TZ: loc,
		Now: clk.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func importStreet(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := st.ImportRoads(context.Background(), []store.Road{{Name: "West St", Highway: "residential",
		Geom: orb.LineString{at(-10, -100), at(-10, 150)}}}, store.RoadImportOptions{File: "street", Format: "test", SRID: 4548}); err != nil {
		t.Fatal(err)
	}
}

func TestRoadsShortenDeadhead(t *testing.T) {
	ctx := context.Background()
	svc, st := roadEnv(t, "auto")
	start := at(-20, 25)
	day := schedule.DayOf(time.Date(2026, 3, 2, 5, 30, 0, 0, shanghai(t)), shanghai(t))
	planD1 := func(save bool) *patrol.DistrictPlan {
		t.Helper()
		p, err := svc.Plan(ctx, patrol.PlanOptions{Day: day, District: "D1", Start: &start, Managers: 1, Save: save, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Districts) != 1 || p.Districts[0].Pipes != 2 || len(p.Districts[0].Routes) != 1 {
			t.Fatalf("plan: %+v", p.Districts[0])
		}
		return p.Districts[0]
	}
	// No roads yet: "auto" deadheads on the pipes, through the 650 m loop.
	before := planD1(false)
	if r := before.Routes[0]; r.RoadM != 0 || r.DeadheadM < 650 {
		t.Fatalf("on pipes: %+v", r)
	}
	importStreet(t, st)
	d := planD1(true)
	r := d.Routes[0]
	if math.Abs(r.TotalM-560) > 0.05 || math.Abs(r.PatrolM-200) > 0.05 || math.Abs(r.DeadheadM-360) > 0.05 ||
		math.Abs(r.RoadM-160) > 0.05 || r.OffNetM != 0 {
		t.Fatalf("on roads: total %.1f patrol %.1f deadhead %.1f road %.1f offnet %.1f; want 560/200/360/160/0",
			r.TotalM, r.PatrolM, r.DeadheadM, r.RoadM, r.OffNetM)
	}
	if r.LowerBoundM > r.TotalM+1e-6 || r.LowerBoundM < r.PatrolM {
		t.Errorf("bound %.1f for a %.1f m route", r.LowerBoundM, r.TotalM)
	}
	// The stored route: road legs keep their geometry, which lies on the
	// street except for the 10 m connectors at their ends.
	v, err := svc.Route(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	roadLen := 0.0
	for _, s := range v.Steps {
		kinds = append(kinds, s.Kind)
		if s.Kind == "road" {
			roadLen += s.LengthM
			if !strings.Contains(s.Text, "streets") {
				t.Errorf("road step text %q", s.Text)
			}
		}
	}
	// Road to one pipe, along it and back, road to the other, along it and
	// back, road home (which traversal of a pipe is the patrol is the
	// solver's choice).
	got := strings.Join(kinds, " ")
	if len(kinds) != 7 || kinds[0] != "road" || kinds[3] != "road" || kinds[6] != "road" ||
		strings.Count(got, "patrol") != 2 || strings.Count(got, "walk") != 2 {
		t.Fatalf("steps %q, want road, patrol and walk along a pipe, road, patrol and walk along the other, road", got)
	}
	if math.Abs(roadLen-160) > 0.3 {
		t.Errorf("road steps sum to %.1f m, want 160", roadLen)
	}
	var buf strings.Builder
	if err := svc.WriteGeoJSON(ctx, &buf, v); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry *struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(buf.String()), &fc); err != nil {
		t.Fatal(err)
	}
	var onRoad, checked int
	for _, f := range fc.Features {
		if f.Properties["kind"] != "road" {
			continue
		}
		var cs [][2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &cs); err != nil {
			t.Fatal(err)
		}
		if len(cs) < 3 {
			t.Fatalf("road step with %d points: %v", len(cs), cs)
		}
		// Inner points (the connectors' road ends and the road between) lie
		// on the street: checked in PostGIS, back in EPSG:4548.
		for _, c := range cs[1 : len(cs)-1] {
			var dist float64
			if err := st.Pool().QueryRow(ctx, `SELECT ST_Distance(ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 4548),
				(SELECT geom FROM roads))`, c[0], c[1]).Scan(&dist); err != nil {
				t.Fatal(err)
			}
			checked++
			if dist < 0.05 {
				onRoad++
			}
		}
	}
	if checked < 6 || onRoad != checked {
		t.Fatalf("%d of %d inner points of the road steps lie on the street", onRoad, checked)
	}
	// The stored lines: one per road leg, 160 m, 100 m of it on the street.
	var n int
	var total, along float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_NumGeometries(leg_roads), ST_Length(leg_roads),
		(SELECT sum(ST_Length(ST_Intersection(d.geom, ST_Buffer((SELECT geom FROM roads), 0.01)))) FROM ST_Dump(leg_roads) d)
		FROM patrol_routes WHERE id = $1`, r.ID).Scan(&n, &total, &along); err != nil {
		t.Fatal(err)
	}
	if n != 3 || math.Abs(total-160) > 0.01 || math.Abs(along-100) > 0.1 {
		t.Fatalf("stored road legs: %d lines, %.2f m, %.2f m on the street; want 3, 160, 100", n, total, along)
	}

	// deadhead = "pipes" ignores the roads.
	pipesSvc, pst := roadEnv(t, "pipes")
	importStreet(t, pst)
	p, err := pipesSvc.Plan(ctx, patrol.PlanOptions{Day: day, District: "D1", Start: &start, Managers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Deadhead != "pipes" || p.Districts[0].Routes[0].RoadM != 0 || p.Districts[0].Routes[0].DeadheadM < 650 {
		t.Fatalf("deadhead = pipes: %s %+v", p.Deadhead, p.Districts[0].Routes[0])
	}
}

func TestRoadsRequiredButMissing(t *testing.T) {
	svc, _ := roadEnv(t, "roads")
	start := at(-20, 25)
	day := schedule.DayOf(time.Date(2026, 3, 2, 5, 30, 0, 0, shanghai(t)), shanghai(t))
	_, err := svc.Plan(context.Background(), patrol.PlanOptions{Day: day, District: "D1", Start: &start})
	if errCode(err) != "roads.none" {
		t.Fatalf("deadhead = roads without roads: %v", err)
	}
}
