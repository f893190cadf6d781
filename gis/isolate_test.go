package gis

import (
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// hand-made networks, coordinates in metres.

func pipe(id string, pts ...orb.Point) Pipe {
	return Pipe{ID: id, DN: 100, Status: StatusInService, Geom: orb.LineString(pts)}
}

func valve(id, pipe string, x, y float64) Valve {
	return Valve{ID: id, Pipe: pipe, NormallyOpen: true, Operable: true, Geom: orb.Point{x, y}}
}

func build(t *testing.T, ds *Dataset) *Network {
	t.Helper()
	topo, _ := Resolve(ds, 0)
	return NewNetwork(topo)
}

func plan(t *testing.T, n *Network, pipe string, at float64, failed ...string) Result {
	t.Helper()
	p, ok := n.PipeIndex(pipe)
	if !ok {
		t.Fatalf("no pipe %s", pipe)
	}
	var f []int32
	for _, v := range failed {
		i, ok := n.ValveIndex(v)
		if !ok {
			t.Fatalf("no valve %s", v)
		}
		f = append(f, i)
	}
	return n.Render(n.Normal().Isolate(Leak{Pipe: p, S: at * n.Topo.PipeLen[p], Failed: f}))
}

func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	g := append([]string(nil), got...)
	sort.Strings(g)
	sort.Strings(want)
	if strings.Join(g, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %v, want %v", what, g, want)
	}
}

// line: S—a—(v1)—b—(v2)—c, a source at the start.
func lineNet() *Dataset {
	return &Dataset{
		Pipes: []Pipe{
			pipe("a", orb.Point{0, 0}, orb.Point{100, 0}),
			pipe("b", orb.Point{100, 0}, orb.Point{200, 0}),
			pipe("c", orb.Point{200, 0}, orb.Point{300, 0}),
		},
		Valves:  []Valve{valve("v1", "b", 110, 0), valve("v2", "c", 250, 0)},
		Sources: []Source{{ID: "S", Geom: orb.Point{0, 0}}},
		Connections: []Connection{
			{ID: "cb", Pipe: "b", Geom: orb.Point{150, 1}},
			{ID: "c-near", Pipe: "c", Geom: orb.Point{220, 1}}, // before v2
			{ID: "c-far", Pipe: "c", Geom: orb.Point{280, 1}},  // after v2
		},
		Customers: []Customer{
			{ID: "k-near", Connection: "c-near", Households: 2},
			{ID: "k-far", Connection: "c-far", Households: 5, Critical: true, Category: "hospital"},
			{ID: "k-b", Connection: "cb", Households: 1},
		},
	}
}

func TestValveInMiddleOfPipeWithCustomersOnBothSides(t *testing.T) {
	n := build(t, lineNet())
	// Leak on c before v2: segment = b beyond v1, c up to v2. v1 closes;
	// v2 has nothing but a dead end behind it: dry side, which is cut off.
	r := plan(t, n, "c", 0.1)
	eq(t, "to close", r.ValvesToClose, "v1")
	eq(t, "dry side", r.ValvesDrySide, "v2")
	eq(t, "segment pipes", r.SegmentPipes, "b", "c")
	eq(t, "unintended pipes", r.UnintendedPipes, "c")
	eq(t, "customers", r.Customers, "k-b", "k-near", "k-far")
	eq(t, "critical", r.CriticalCustomers, "k-far")
	if r.Households != 8 || r.SegmentLengthM != 140 || r.UnintendedLengthM != 50 {
		t.Errorf("households %d, lengths %v/%v", r.Households, r.SegmentLengthM, r.UnintendedLengthM)
	}
	// Leak beyond v2: only the far customer.
	r = plan(t, n, "c", 0.9)
	eq(t, "to close", r.ValvesToClose, "v2")
	eq(t, "customers", r.Customers, "k-far")
	if len(r.UnintendedPipes) != 0 {
		t.Errorf("unintended %v", r.UnintendedPipes)
	}
}

func TestFailedAndInoperableValves(t *testing.T) {
	ds := lineNet()
	n := build(t, ds)
	// v2 fails: the segment grows through it; nothing beyond needs closing.
	r := plan(t, n, "c", 0.9, "v2")
	eq(t, "failed", r.ValvesFailed, "v2")
	eq(t, "to close", r.ValvesToClose, "v1")
	eq(t, "customers", r.Customers, "k-b", "k-near", "k-far")
	// Naming a valve the segment never reaches changes nothing.
	r = plan(t, n, "c", 0.9, "v1")
	eq(t, "failed (unreached)", r.ValvesFailed)
	eq(t, "to close", r.ValvesToClose, "v2")
	// Inoperable in the data: the same as failed.
	ds = lineNet()
	ds.Valves[1].Operable = false
	r = plan(t, build(t, ds), "c", 0.9)
	eq(t, "inoperable grown through", r.ValvesFailed, "v2")
	eq(t, "to close", r.ValvesToClose, "v1")
}

func TestNormallyClosedBoundaryValve(t *testing.T) {
	ds := lineNet()
	ds.Valves[1].NormallyOpen = false // v2 closed: beyond it is dry anyway
	n := build(t, ds)
	r := plan(t, n, "c", 0.1, "v2") // named failed: a closed valve stays closed
	eq(t, "already closed", r.ValvesAlreadyClosed, "v2")
	eq(t, "failed", r.ValvesFailed)
	eq(t, "to close", r.ValvesToClose, "v1")
	eq(t, "customers", r.Customers, "k-b", "k-near") // k-far was dry before: not counted
	eq(t, "unintended", r.UnintendedPipes)
}

// A loop fed from two sources: a leak between two valves needs both closed
// and cuts nobody off.
func TestLoopFedFromTwoSources(t *testing.T) {
	ds := &Dataset{
		Pipes: []Pipe{
			pipe("n", orb.Point{0, 100}, orb.Point{100, 100}),
			pipe("e", orb.Point{100, 100}, orb.Point{100, 0}),
			pipe("s", orb.Point{100, 0}, orb.Point{0, 0}),
			pipe("w", orb.Point{0, 0}, orb.Point{0, 100}),
		},
		Valves: []Valve{valve("v-e1", "e", 100, 90), valve("v-e2", "e", 100, 10),
			valve("v-w1", "w", 0, 10), valve("v-w2", "w", 0, 90)},
		Sources:     []Source{{ID: "S1", Geom: orb.Point{50, 100}}, {ID: "S2", Geom: orb.Point{50, 0}}},
		Connections: []Connection{{ID: "ce", Pipe: "e", Geom: orb.Point{101, 50}}, {ID: "cn", Pipe: "n", Geom: orb.Point{20, 101}}},
	}
	n := build(t, ds)
	r := plan(t, n, "e", 0.5)
	eq(t, "to close", r.ValvesToClose, "v-e1", "v-e2")
	eq(t, "connections", r.Connections, "ce")
	eq(t, "unintended", r.UnintendedPipes)
	// If v-e2 fails, the segment grows to s and its other end, v-w1 closes;
	// S2 is in the drained segment, S1 still feeds the rest.
	r = plan(t, n, "e", 0.5, "v-e2")
	eq(t, "to close", r.ValvesToClose, "v-e1", "v-w1")
	eq(t, "failed", r.ValvesFailed, "v-e2")
	eq(t, "segment", r.SegmentPipes, "e", "s", "w")
	eq(t, "unintended", r.UnintendedPipes)
}

// A dead-end branch behind the segment, with no source of its own, is cut
// off: unintended isolation.
func TestDeadEndBranchCutOff(t *testing.T) {
	ds := &Dataset{
		Pipes: []Pipe{
			pipe("main", orb.Point{0, 0}, orb.Point{200, 0}),
			pipe("branch", orb.Point{200, 0}, orb.Point{200, 100}),
			pipe("spur", orb.Point{200, 100}, orb.Point{300, 100}),
		},
		Valves:      []Valve{valve("vm", "main", 10, 0), valve("vb", "branch", 200, 50)},
		Sources:     []Source{{ID: "S", Geom: orb.Point{0, 0}}},
		Connections: []Connection{{ID: "c-spur", Pipe: "spur", Geom: orb.Point{250, 101}}},
		Customers:   []Customer{{ID: "k", Connection: "c-spur", Households: 4}},
	}
	r := plan(t, build(t, ds), "main", 0.5)
	eq(t, "to close", r.ValvesToClose, "vm")
	eq(t, "dry side", r.ValvesDrySide, "vb")
	eq(t, "unintended", r.UnintendedPipes, "branch", "spur")
	eq(t, "customers", r.Customers, "k")
	if r.Households != 4 {
		t.Errorf("households %d", r.Households)
	}
}

// Topology rules: ends within 5 cm snap, an end on a pipe's inside is a
// tee, a valve within 5 cm of an end sits at that end.
func TestTopologyRules(t *testing.T) {
	ds := &Dataset{
		Pipes: []Pipe{
			pipe("trunk", orb.Point{0, 0}, orb.Point{200, 0}),
			pipe("tee", orb.Point{100, 0.03}, orb.Point{100, 100}),                                       // end 3 cm off the trunk's inside: a tee
			pipe("snap", orb.Point{200.04, 0}, orb.Point{300, 0}),                                        // 4 cm from trunk's end: joined
			pipe("gap", orb.Point{300.2, 0}, orb.Point{400, 0}),                                          // 20 cm: not joined
			pipe("own", orb.Point{0, -50}, orb.Point{50, -50}, orb.Point{50, -10}, orb.Point{0.03, -50}), // touches itself only
		},
		Valves: []Valve{
			valve("vt", "tee", 100, 0.06), // 3 cm from the tee end: at that end
			valve("10", "trunk", 150, 0),  // two valves at one spot: in series, 9 before 10
			valve("9", "trunk", 150, 0),
		},
		Sources: []Source{{ID: "S", Geom: orb.Point{0, 0}}},
	}
	topo, warns := Resolve(ds, 0)
	// The 20 cm gap is a near miss, reported from both sides; the other
	// loose ends are dead ends, summed up in one warning.
	var codes []string
	for _, w := range warns {
		codes = append(codes, w.Code)
	}
	if strings.Join(codes, ",") != "topology.near_miss,topology.near_miss,topology.dead_end" || !strings.Contains(warns[0].Msg, "0.20 m") {
		t.Errorf("warnings: %v", warns)
	}
	if len(topo.TeePipe) != 1 || topo.PipeID.At(int(topo.TeePipe[0])) != "trunk" || topo.TeeS[0] != 100 {
		t.Fatalf("tees: %v %v", topo.TeePipe, topo.TeeS)
	}
	if topo.ValveS[0] != 0 {
		t.Errorf("valve near the tee end at s=%v, want 0", topo.ValveS[0])
	}
	if topo.PipeTo[0] != topo.PipeFrom[2] {
		t.Error("ends 4 cm apart were not joined")
	}
	if topo.PipeTo[2] == topo.PipeFrom[3] {
		t.Error("ends 20 cm apart were joined")
	}
	n := NewNetwork(topo)
	// Leak on the tee pipe: vt at its end separates it from the trunk.
	r := plan(t, n, "tee", 0.5)
	eq(t, "to close", r.ValvesToClose, "vt")
	eq(t, "segment", r.SegmentPipes, "tee")
	// Leak on the trunk past the series valves: the one nearer the leak
	// (10, after 9 in natural order) bounds the segment.
	r = plan(t, n, "trunk", 0.9)
	eq(t, "to close", r.ValvesToClose, "10")
	eq(t, "segment", r.SegmentPipes, "trunk", "snap")
	// If 10 fails, 9 right behind it closes.
	r = plan(t, n, "trunk", 0.9, "10")
	eq(t, "to close", r.ValvesToClose, "9")
	// From the source side, 9 bounds it — and the segment holds the source,
	// so nothing is left to close: both boundary valves are dry-side.
	r = plan(t, n, "trunk", 0.6)
	eq(t, "to close", r.ValvesToClose)
	eq(t, "dry side", r.ValvesDrySide, "9", "vt")
	eq(t, "unintended", r.UnintendedPipes, "tee", "trunk", "snap")
}

// Valves held closed by an active job are closed for every other plan.
func TestHeldClosedValves(t *testing.T) {
	n := build(t, lineNet())
	v1, _ := n.ValveIndex("v1")
	c, _ := n.PipeIndex("c")
	st := n.WithClosed([]int32{v1})
	r := n.Render(st.Isolate(Leak{Pipe: c, S: 90}))
	eq(t, "already closed", r.ValvesAlreadyClosed)
	eq(t, "to close", r.ValvesToClose) // behind v2 there is no water while v1 is held
	eq(t, "dry side", r.ValvesDrySide, "v2")
	eq(t, "customers", r.Customers, "k-far")
	r = n.Render(st.Isolate(Leak{Pipe: c, S: 10}))
	eq(t, "already closed (held)", r.ValvesAlreadyClosed, "v1")
}

// WithClosed remembers states per set of valves: the same set (in any
// order, with repeats) gives the same state, another set another one, and
// more sets than it remembers still give right answers.
func TestWithClosedRemembersSets(t *testing.T) {
	n := build(t, lineNet())
	v1, _ := n.ValveIndex("v1")
	v2, _ := n.ValveIndex("v2")
	c, _ := n.PipeIndex("c")
	a := n.WithClosed([]int32{v1, v2})
	if b := n.WithClosed([]int32{v2, v1, v2}); a != b {
		t.Error("the same set of valves gave two states")
	}
	only1 := n.WithClosed([]int32{v1})
	if only1 == a || only1 == n.Normal() {
		t.Fatal("another set of valves gave a remembered state")
	}
	for i := 0; i < 3*maxClosedStates; i++ {
		n.WithClosed([]int32{v2})
		n.WithClosed([]int32{v1, v2})
	}
	// Held v1 as in TestHeldClosedValves, after the memo was refilled.
	r := n.Render(n.WithClosed([]int32{v1}).Isolate(Leak{Pipe: c, S: 90}))
	eq(t, "to close", r.ValvesToClose)
	eq(t, "dry side", r.ValvesDrySide, "v2")
}

func TestNaturalOrder(t *testing.T) {
	ids := []string{"b", "10", "9", "a", "010", "V2"}
	SortIDs(ids)
	if got := strings.Join(ids, ","); got != "9,010,10,V2,a,b" {
		t.Errorf("natural order: %s", got)
	}
}

func TestSegmentStats(t *testing.T) {
	ds := lineNet()
	ds.Valves = append(ds.Valves, valve("v3", "a", 50, 0))
	ds.Valves[2].Operable = false // v3 cannot close: a and b's start are one unit
	n := build(t, ds)
	st := n.SegmentStats(10)
	// Units: [a, b up to v1] (v3 inoperable joins a's two halves; holds the
	// source), [b after v1, c up to v2], [c after v2].
	if st.Units != 3 || st.WithSource != 1 || st.DryUnits != 0 || st.WithoutValves != 0 {
		t.Fatalf("stats: %+v", st)
	}
	w := st.Worst[0]
	// The worst shutoff: the source's unit drains everything.
	if w.TotalCustomers != 3 || w.TotalHouseholds != 8 || !w.HasSource {
		t.Errorf("worst: %+v", w)
	}
	if len(st.Unisolable) != 1 || strings.Join(st.Unisolable[0].Pipes, ",") != "a,b" {
		t.Errorf("unisolable: %+v", st.Unisolable)
	}
}
