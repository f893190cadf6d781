package route

import (
	"sort"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// nearRoad is a pipe junction's nearest road point (ok false: none within
// the connector distance).
type nearRoad struct {
	e    int32
	s, d float64
	ok   bool
}

// subgraphRoads builds the graph of a plan on roads: within the due pipes'
// box (and the start) widened by margin,
//   - every stretch of a due pipe (required);
//   - every road edge (deadhead), cut where connectors meet it;
//   - a straight connector from each pipe junction of the graph that has a
//     road within connectM to its nearest road point, and from the start;
//   - the stretches of other pipes with an end farther than connectM from
//     any road (off-road pipes, e.g. across a park), so that a due pipe
//     far from the streets is reached along the pipes from the nearest
//     junction that has a road nearby.
func (n *Net) subgraphRoads(pipes []int32, req map[int32]bool, start orb.Point, margin float64, roads *Roads, connectM float64) *local {
	b := n.areaBound(pipes, start, margin)
	l := &local{net: n, vert: make(map[int32]int32, 2*len(pipes)), roads: roads, roadVert: map[int32]int32{}}
	near := map[int32]nearRoad{}
	nearOf := func(j int32) nearRoad {
		if x, ok := near[j]; ok {
			return x
		}
		x := attachPoint(roads, n.Vertex(j), connectM)
		near[j] = x
		return x
	}
	// Pipes: the due ones, and the off-road stretches of the others.
	n.PipesIn(b, func(p int32) bool {
		for e := n.pipeEdge[p]; e < n.pipeEdge[p+1]; e++ {
			if !req[p] && nearOf(n.eU[e]).ok && nearOf(n.eV[e]).ok {
				continue
			}
			l.addStretch(e, req[p])
		}
		return true
	})
	// Road edges in the box, and where connectors meet roads.
	type attach struct {
		s float64
		v int // local vertex of the connector's far end (the junction or start)
		d float64
	}
	used := map[int32][]attach{}
	var order []int32
	use := func(e int32) {
		if _, ok := used[e]; !ok {
			used[e] = nil
			order = append(order, e)
		}
	}
	roads.EdgesIn(b, func(e int32) bool { use(e); return true })
	juncs := make([]int32, 0, len(l.vert))
	for j := range l.vert {
		juncs = append(juncs, j)
	}
	sort.Slice(juncs, func(a, b int) bool { return juncs[a] < juncs[b] })
	for _, j := range juncs {
		x := nearOf(j)
		if !x.ok {
			continue
		}
		use(x.e)
		used[x.e] = append(used[x.e], attach{x.s, int(l.vert[j]), x.d})
	}
	// The start: connected to its nearest road, else the junction it is on,
	// else a vertex of its own (join links it).
	if x := attachPoint(roads, start, connectM); x.ok {
		l.start = len(l.xy)
		l.xy = append(l.xy, start)
		use(x.e)
		used[x.e] = append(used[x.e], attach{x.s, l.start, x.d})
	} else {
		l.placeStart(start)
	}
	roadVertex := func(v int32) int { return l.vertexOf(l.roadVert, v, roads.nodeXY) }
	addPiece := func(u, v int, cost float64, pc roadPiece) {
		l.addEdge(u, v, cost, false, int32(-2-len(l.pieces)))
		l.pieces = append(l.pieces, pc)
	}
	for _, e := range order {
		at := used[e]
		ru, rv, line, length := roads.Edge(e)
		sort.Slice(at, func(a, b int) bool { return at[a].s < at[b].s || (at[a].s == at[b].s && at[a].v < at[b].v) })
		cur, curS := roadVertex(ru), 0.0
		endV := roadVertex(rv)
		for k := 0; k < len(at); k++ {
			s := at[k].s
			// The road point: an end node, the previous point, or a new vertex.
			var w int
			switch {
			case s <= 1e-6:
				w, s = roadVertex(ru), 0
			case s >= length-1e-6:
				w, s = endV, length
			case s-curS <= 1e-6 && cur != roadVertex(ru):
				w, s = cur, curS
			default:
				w = len(l.xy)
				l.xy = append(l.xy, gis.PointAt(line, s))
			}
			if w != cur && s > curS {
				addPiece(cur, w, s-curS, roadPiece{edge: e, from: curS, to: s, u: cur})
				cur, curS = w, s
			} else if w != cur && s == curS {
				// Same place as cur (s = 0 at the U node): keep cur.
				w = cur
			}
			// The connector.
			addPiece(at[k].v, w, at[k].d, roadPiece{edge: -1})
			l.connectors++
		}
		if cur != endV || curS < length {
			if cur != endV {
				addPiece(cur, endV, length-curS, roadPiece{edge: e, from: curS, to: length, u: cur})
			}
		}
	}
	l.g.N = len(l.xy)
	return l
}

// attachPoint is where a connector from p meets the roads: the nearest
// road point within connectM (ok false: none).
func attachPoint(roads *Roads, p orb.Point, connectM float64) nearRoad {
	e, s, d, ok := roads.Nearest(p, connectM)
	if !ok {
		return nearRoad{e: -1}
	}
	return nearRoad{e: e, s: s, d: d, ok: true}
}
