package route

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol/rpp"
)

// Options control Plan.
type Options struct {
	// Start is where every route starts and ends (the district office, or
	// a point given), in the network's CRS.
	Start orb.Point
	// Managers is the number of routes to split the work into (k >= 1).
	Managers int
	// MarginM widens the box of the due pipes: deadheading may use any
	// pipe within it. Default 300 m; tripled (twice) while the due pipes
	// are not connected within it.
	MarginM float64
	// TimeLimit is the rpp improvement budget of each solve (0: rpp's
	// default; negative: construction only).
	TimeLimit time.Duration
	// OffNetFactor prices a walk off the pipe network (to and from an
	// office away from the pipes, or between parts of the network that no
	// pipe joins) at the straight-line distance times this. Default 1.4.
	OffNetFactor float64
	// Roads, when set and not empty, is the street graph managers
	// deadhead on (see the package comment); nil deadheads on the pipes.
	Roads *Roads
	// ConnectM: with Roads, a pipe junction (or the start) within this
	// distance of a road is joined to its nearest road point by a
	// straight connector. Default 60 m.
	ConnectM float64
}

// Leg is one traversal of a route: along a stretch of a pipe (From and To
// are distances along it; From > To when walked against the pipe's
// direction), along roads (Pipe == -1, Line set: the way walked, roads
// and the short connectors between pipes and roads, consecutive road legs
// merged into one), or off the network in a straight line (Pipe == -1,
// Line nil).
type Leg struct {
	Pipe     int32
	From, To float64
	Patrol   bool           // the first traversal of a due stretch: inspect it
	A, B     orb.Point      // where the leg starts and ends
	Length   float64        // metres (off-network: straight line × OffNetFactor)
	Line     orb.LineString // a road leg's geometry in walking order, A to B
}

// IsRoad reports whether the leg is a walk along roads.
func (lg *Leg) IsRoad() bool { return lg.Pipe < 0 && lg.Line != nil }

// Route is one manager's closed walk.
type Route struct {
	Legs       []Leg
	Pipes      []int32 // the due pipes it patrols, sorted
	Cost       float64 // total length, metres
	PatrolM    float64 // length of the patrol legs
	DeadheadM  float64 // Cost - PatrolM (road and off-network legs included)
	RoadM      float64 // length of the road legs (connectors included)
	OffNetM    float64 // length of the off-network legs
	LowerBound float64 // no closed walk from the start covering Pipes is shorter
}

// Plan is a district's routes for a day.
type Plan struct {
	Routes []Route // len = Managers when there is work (some may be empty)
	// One manager walking everything: the tour's cost and its lower bound.
	SingleCost, SingleLowerBound float64
	Unroutable                   []int32 // due pipes that are not walkable (no junctions)
	Vertices, Edges              int     // size of the graph routed on
	OffNetLinks                  int     // straight-line links added to join the graph
	Roads                        bool    // deadheading on Options.Roads
	Connectors                   int     // pipe-to-road connectors in the graph
}

// ErrNoStart is returned when Options.Start is not a finite point.
var ErrNoStart = errors.New("route: no start point")

// local is the graph routed on: the pipes near the due ones (or the due
// pipes, the roads near them and connectors), plus the start point and
// straight-line links where the graph does not connect.
type local struct {
	net    *Net
	vert   map[int32]int32 // junction → local vertex
	xy     []orb.Point     // per local vertex
	g      rpp.Graph
	ref    []int32 // per local edge: the Net edge, -1 for an off-network link, -2-k for road piece k
	start  int
	offNet int

	roads      *Roads
	roadVert   map[int32]int32 // road node → local vertex
	pieces     []roadPiece
	connectors int
}

// roadPiece is a local edge along roads: the stretch [from, to] of road
// edge `edge` (u: the local vertex at from), or a straight connector
// (edge -1) between its local edge's ends.
type roadPiece struct {
	edge     int32
	from, to float64
	u        int
}

// vertex is the local vertex of junction j, added on first use.
func (l *local) vertex(j int32) int { return l.vertexOf(l.vert, j, l.net.Topo.NodeXY) }

// vertexOf is the local vertex of node id of a graph whose node positions
// xy holds (x, y pairs), m mapping that graph's nodes to local vertices:
// on first use of id the vertex is added at its position and recorded in m.
func (l *local) vertexOf(m map[int32]int32, id int32, xy []float64) int {
	if v, ok := m[id]; ok {
		return int(v)
	}
	v := int32(len(l.xy))
	m[id] = v
	l.xy = append(l.xy, orb.Point{xy[2*id], xy[2*id+1]})
	return int(v)
}

// addEdge appends a local edge from u to v and its ref (see local.ref: a
// Net edge, -1 off the network, -2-k road piece k), which is also its rpp
// ID, so that l.g.Edges and l.ref stay parallel.
func (l *local) addEdge(u, v int, cost float64, required bool, ref int32) {
	l.g.Edges = append(l.g.Edges, rpp.Edge{U: u, V: v, Cost: cost, Required: required, ID: int(ref)})
	l.ref = append(l.ref, ref)
}

// addStretch appends Net edge e (a stretch of a pipe) between the local
// vertices of its junctions, required when its pipe is due.
func (l *local) addStretch(e int32, required bool) {
	n := l.net
	u, v := l.vertex(n.eU[e]), l.vertex(n.eV[e])
	l.addEdge(u, v, n.eTo[e]-n.eFrom[e], required, e)
}

// placeStart makes l.start the vertex already in l.xy nearest to start if
// it is within 1 m (the first such on ties), else a new vertex at start.
func (l *local) placeStart(start orb.Point) {
	best, bestD := -1, math.Inf(1)
	for v, q := range l.xy {
		if d := math.Hypot(q[0]-start[0], q[1]-start[1]); d < bestD {
			best, bestD = v, d
		}
	}
	if best >= 0 && bestD <= 1 {
		l.start = best
	} else {
		l.start = len(l.xy)
		l.xy = append(l.xy, start)
	}
}

// areaBound is the box the local graph is taken from: the due pipes' boxes
// and the start, widened by margin on every side.
func (n *Net) areaBound(pipes []int32, start orb.Point, margin float64) orb.Bound {
	b := orb.Bound{Min: start, Max: start}
	for _, p := range pipes {
		b = b.Union(n.PipeBound(p))
	}
	b.Min[0] -= margin
	b.Min[1] -= margin
	b.Max[0] += margin
	b.Max[1] += margin
	return b
}

// Plan covers the due pipes with opt.Managers closed walks from opt.Start,
// minimising the longest one. Method: the Rural Postman tour of all the
// due pipes (rpp.Solve, with its lower bound) is split into k consecutive
// pieces minimising the longest piece closed by shortest paths to and
// from the start (Frederickson-Hecht-Kim tour splitting, by bisection on
// the limit); each piece's pipes are then re-solved as an RPP on their own
// and the shorter of the two walks kept. Pipes that are not walkable are
// returned in Unroutable. Errors: ErrNoStart, ctx's error.
func (n *Net) Plan(ctx context.Context, due []int32, opt Options) (*Plan, error) {
	if math.IsNaN(opt.Start[0]) || math.IsNaN(opt.Start[1]) || math.IsInf(opt.Start[0], 0) || math.IsInf(opt.Start[1], 0) {
		return nil, ErrNoStart
	}
	if opt.Managers < 1 {
		opt.Managers = 1
	}
	if opt.MarginM <= 0 {
		opt.MarginM = 300
	}
	if opt.OffNetFactor <= 0 {
		opt.OffNetFactor = 1.4
	}
	if opt.ConnectM <= 0 {
		opt.ConnectM = 60
	}
	if opt.Roads != nil && opt.Roads.NumEdges() == 0 {
		opt.Roads = nil
	}
	plan := &Plan{Roads: opt.Roads != nil}
	req := make(map[int32]bool, len(due))
	var pipes []int32
	for _, p := range due {
		if p < 0 || int(p) >= n.Topo.NumPipes() || req[p] {
			continue
		}
		if !n.Walkable(p) {
			plan.Unroutable = append(plan.Unroutable, p)
			continue
		}
		req[p] = true
		pipes = append(pipes, p)
	}
	if len(pipes) == 0 {
		plan.Routes = make([]Route, opt.Managers)
		return plan, nil
	}
	var l *local
	for try, margin := 0, opt.MarginM; ; try, margin = try+1, margin*3 {
		if opt.Roads != nil {
			l = n.subgraphRoads(pipes, req, opt.Start, margin, opt.Roads, opt.ConnectM)
		} else {
			l = n.subgraph(pipes, req, opt.Start, margin)
		}
		if l.connected() || try == 2 {
			break
		}
	}
	l.join(opt.OffNetFactor)
	plan.Vertices, plan.Edges, plan.OffNetLinks, plan.Connectors = len(l.xy), len(l.g.Edges), l.offNet, l.connectors

	sol, err := rpp.Solve(ctx, l.g, rpp.Options{Depot: l.start, TimeLimit: opt.TimeLimit})
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	plan.SingleCost, plan.SingleLowerBound = sol.Cost, sol.LowerBound
	if opt.Managers == 1 || len(pipes) == 1 {
		r := l.route(sol)
		plan.Routes = append(plan.Routes, r)
		for len(plan.Routes) < opt.Managers {
			plan.Routes = append(plan.Routes, Route{})
		}
		return plan, nil
	}
	routes, err := l.split(ctx, sol, opt.Managers, opt.TimeLimit)
	if err != nil {
		return nil, err
	}
	plan.Routes = routes
	return plan, nil
}

// subgraph collects the walkable pipes whose box meets the due pipes' box
// (and the start) widened by margin.
func (n *Net) subgraph(pipes []int32, req map[int32]bool, start orb.Point, margin float64) *local {
	b := n.areaBound(pipes, start, margin)
	l := &local{net: n, vert: make(map[int32]int32, 2*len(pipes))}
	n.PipesIn(b, func(p int32) bool {
		for e := n.pipeEdge[p]; e < n.pipeEdge[p+1]; e++ {
			l.addStretch(e, req[p])
		}
		return true
	})
	// The start: the junction it is on, or a vertex of its own.
	l.placeStart(start)
	l.g.N = len(l.xy)
	return l
}

// components labels the vertices by connected component.
func (l *local) components() []int32 {
	uf := make([]int32, l.g.N)
	for i := range uf {
		uf[i] = int32(i)
	}
	var find func(x int32) int32
	find = func(x int32) int32 {
		for uf[x] != x {
			uf[x] = uf[uf[x]]
			x = uf[x]
		}
		return x
	}
	for _, e := range l.g.Edges {
		a, b := find(int32(e.U)), find(int32(e.V))
		if a != b {
			uf[a] = b
		}
	}
	lab := make([]int32, l.g.N)
	for v := range lab {
		lab[v] = find(int32(v))
	}
	return lab
}

// terminals are the components holding a due pipe or the start.
func (l *local) terminals(lab []int32) map[int32]bool {
	t := map[int32]bool{lab[l.start]: true}
	for _, e := range l.g.Edges {
		if e.Required {
			t[lab[e.U]] = true
		}
	}
	return t
}

func (l *local) connected() bool { return len(l.terminals(l.components())) == 1 }

// join links the terminal components by straight-line off-network edges
// (Borůvka: each round, every component but the largest is linked to the
// nearest vertex of another; at most log2(k) rounds).
func (l *local) join(factor float64) {
	for {
		lab := l.components()
		term := l.terminals(lab)
		if len(term) <= 1 {
			return
		}
		size := map[int32]int{}
		for v := range lab {
			if term[lab[v]] {
				size[lab[v]]++
			}
		}
		largest, ls := int32(-1), -1
		for c, s := range size {
			if s > ls || (s == ls && c < largest) {
				largest, ls = c, s
			}
		}
		// A grid over the terminal components' vertices.
		cell := 100.0
		type key struct{ x, y int64 }
		grid := map[key][]int32{}
		kx := func(p orb.Point) key { return key{int64(math.Floor(p[0] / cell)), int64(math.Floor(p[1] / cell))} }
		var lo, hi key
		first := true
		for v := range lab {
			if term[lab[v]] {
				k := kx(l.xy[v])
				grid[k] = append(grid[k], int32(v))
				if first {
					lo, hi, first = k, k, false
				}
				lo = key{min(lo.x, k.x), min(lo.y, k.y)}
				hi = key{max(hi.x, k.x), max(hi.y, k.y)}
			}
		}
		span := max(hi.x-lo.x, hi.y-lo.y) + 1
		type link struct {
			u, v int32
			d    float64
		}
		best := map[int32]link{}
		for u := range lab {
			c := lab[u]
			if !term[c] || c == largest {
				continue
			}
			p := l.xy[u]
			k := kx(p)
			cur, ok := best[c]
			found := ok
			for r := int64(0); ; r++ {
				// Ring r holds points at least (r-1)·cell away.
				if found && float64(r-1)*cell > cur.d {
					break
				}
				if r > span {
					break
				}
				for dx := -r; dx <= r; dx++ {
					for dy := -r; dy <= r; dy++ {
						if max(abs64(dx), abs64(dy)) != r {
							continue
						}
						for _, w := range grid[key{k.x + dx, k.y + dy}] {
							if lab[w] == c {
								continue
							}
							d := math.Hypot(l.xy[w][0]-p[0], l.xy[w][1]-p[1])
							if !found || d < cur.d {
								cur, found = link{int32(u), w, d}, true
							}
						}
					}
				}
			}
			if found {
				best[c] = cur
			}
		}
		if len(best) == 0 {
			return // cannot happen with two or more terminal components
		}
		cs := make([]int32, 0, len(best))
		for c := range best {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(a, b int) bool { return cs[a] < cs[b] })
		for _, c := range cs {
			k := best[c]
			l.addEdge(int(k.u), int(k.v), k.d*factor, false, -1)
			l.offNet++
		}
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// leg converts step i of a walk into a Leg.
func (l *local) leg(walk []int, edge int, i int, serviced bool) Leg {
	e := l.g.Edges[edge]
	a, b := walk[i], walk[i+1]
	lg := Leg{Pipe: -1, A: l.xy[a], B: l.xy[b], Length: e.Cost, Patrol: serviced}
	if ge := l.ref[edge]; ge >= 0 {
		n := l.net
		lg.Pipe = n.ePipe[ge]
		if int(l.vert[n.eU[ge]]) == a {
			lg.From, lg.To = n.eFrom[ge], n.eTo[ge]
		} else {
			lg.From, lg.To = n.eTo[ge], n.eFrom[ge]
		}
	} else if ge <= -2 {
		pc := l.pieces[-2-ge]
		if pc.edge >= 0 {
			lg.Line = gis.SubLine(l.roads.line(pc.edge), pc.from, pc.to)
			if a != pc.u {
				slices.Reverse(lg.Line)
			}
		} else {
			lg.Line = orb.LineString{l.xy[a], l.xy[b]}
		}
		if len(lg.Line) < 2 {
			lg.Line = orb.LineString{l.xy[a], l.xy[b]}
		}
		lg.Line[0], lg.Line[len(lg.Line)-1] = l.xy[a], l.xy[b]
	}
	return lg
}

// route converts an rpp solution into a Route.
func (l *local) route(s rpp.Solution) Route {
	var r Route
	seen := map[int32]bool{}
	for i, e := range s.EdgeSeq {
		lg := l.leg(s.Walk, e, i, s.Serviced[i])
		r.add(lg)
		if lg.Patrol && !seen[lg.Pipe] {
			seen[lg.Pipe] = true
			r.Pipes = append(r.Pipes, lg.Pipe)
		}
	}
	sort.Slice(r.Pipes, func(a, b int) bool { return r.Pipes[a] < r.Pipes[b] })
	r.LowerBound = s.LowerBound
	return r
}

// add appends a leg; a road leg continuing the previous road leg is
// merged into it.
func (r *Route) add(lg Leg) {
	r.Cost += lg.Length
	if lg.Patrol {
		r.PatrolM += lg.Length
	} else {
		r.DeadheadM += lg.Length
	}
	switch {
	case lg.IsRoad():
		r.RoadM += lg.Length
		if k := len(r.Legs) - 1; k >= 0 && r.Legs[k].IsRoad() && r.Legs[k].B == lg.A {
			prev := &r.Legs[k]
			prev.Line = append(prev.Line[:len(prev.Line):len(prev.Line)], lg.Line[1:]...)
			prev.B = lg.B
			prev.Length += lg.Length
			return
		}
	case lg.Pipe < 0:
		r.OffNetM += lg.Length
	}
	r.Legs = append(r.Legs, lg)
}
