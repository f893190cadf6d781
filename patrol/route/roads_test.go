package route_test

import (
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/patrol/route"
)

// NewRoads nodes lines where they share a vertex, cross on one layer, or
// one ends on another; a bridge crosses without meeting.
func TestRoadsNoding(t *testing.T) {
	r := route.NewRoads([]route.RoadLine{
		{Geom: orb.LineString{{0, 0}, {100, 0}, {200, 0}}},      // an OSM-like way through (100,0)
		{Geom: orb.LineString{{100, -50}, {100, 0}, {100, 50}}}, // shares the vertex (100,0)
		{Geom: orb.LineString{{150, -50}, {150, 50}}},           // crosses the first at (150,0)
		{Geom: orb.LineString{{50, 30}, {50, 0.3}}},             // ends 0.3 m short of the first: a T at (50,0.3)
		{Geom: orb.LineString{{180, -50}, {180, 50}}, Layer: 1}, // a bridge: no junction
		{Geom: orb.LineString{{300, 0}, {300, 0}}},              // degenerate: ignored
	})
	// Edges: first line cut at 50, 100, 150 → 4; second cut at (100,0) → 2;
	// third cut at (150,0) → 2; the T stub 1; the bridge 1.
	if r.NumEdges() != 10 {
		t.Fatalf("%d edges, want 10", r.NumEdges())
	}
	deg := map[orb.Point]int{}
	total := 0.0
	for e := int32(0); int(e) < r.NumEdges(); e++ {
		u, v, line, length := r.Edge(e)
		if line[0] != r.Node(u) || line[len(line)-1] != r.Node(v) {
			t.Fatalf("edge %d: line %v does not run from node %v to %v", e, line, r.Node(u), r.Node(v))
		}
		deg[r.Node(u)]++
		deg[r.Node(v)]++
		total += length
	}
	for p, want := range map[orb.Point]int{{100, 0}: 4, {150, 0}: 4, {50, 0.3}: 3, {180, 50}: 1} {
		if deg[p] != want {
			t.Errorf("node %v has degree %d, want %d (degrees %v)", p, deg[p], want, deg)
		}
	}
	if _, ok := deg[orb.Point{180, 0}]; ok {
		t.Error("the bridge meets the road it crosses")
	}
	if want := 200 + 100 + 100 + 29.7 + 100 + 2*math.Hypot(50, 0.3) - 100; math.Abs(total-want) > 1e-6 {
		t.Errorf("total length %.6f, want %.6f", total, want)
	}
	// Nearest road point.
	e, s, d, ok := r.Nearest(orb.Point{120, 7}, 60)
	if u, v, _, _ := r.Edge(e); !ok || math.Abs(d-7) > 1e-9 || r.Node(u) != (orb.Point{100, 0}) || r.Node(v) != (orb.Point{150, 0}) || math.Abs(s-20) > 1e-9 {
		t.Fatalf("nearest to (120, 7): edge %d s %v d %v ok %v", e, s, d, ok)
	}
	if _, _, _, ok := r.Nearest(orb.Point{120, 100}, 40); ok {
		t.Fatal("a road found 50 m away within 40 m")
	}
}
