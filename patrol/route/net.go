// Package route plans patrol routes: the walk that covers every pipe due
// today in a district and returns to its start, as a Rural Postman Problem
// (solved by patrol/rpp) on a walkable graph, split among k managers so
// that the longest route is short.
//
// The required edges are always the due pipes, cut at their tees (a
// manager walks along the pipe's route above ground). Deadheading — the
// walk between them — runs on one of two graphs:
//
//   - Without roads (Options.Roads nil), on the in-service pipe network:
//     every pipe near the due ones (Net), cut at its tees, joined at
//     junctions.
//   - With an imported road network (Roads: e.g. an OSM extract imported
//     with `waterline import --roads`, noded at its intersections), on the
//     roads: the graph is the road edges near the due pipes, the due pipes,
//     and straight connectors from each pipe junction to its nearest road
//     point within Options.ConnectM (60 m). Pipes with an end farther than
//     that from any road (across a park, under a river) keep pipe
//     deadheading, so a due pipe away from the streets is reached along the
//     pipes from the nearest junction that has a road nearby. Road legs
//     carry their geometry (Leg.Line), which follows the roads.
//
// Either way, what the graph does not join (an office away from the
// network, separate parts) is joined by straight off-network links priced
// at Options.OffNetFactor times their length. Plan's contract is the same
// on both: legs along required pipes, deadhead legs between them, the
// tour's lower bound and hence its gap reported.
package route

import (
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Net is the walkable graph of a network: every in-service pipe, cut at
// its tees, is an edge between junctions (vertices are the topology's
// junctions). It holds a grid index of pipes for spatial look-ups. A Net is
// immutable once built and safe for concurrent use.
type Net struct {
	Topo *gis.Topology

	eU, eV     []int32   // junctions of each edge
	ePipe      []int32   // the pipe the edge is a stretch of
	eFrom, eTo []float64 // distances along the pipe, eFrom < eTo (eU is at eFrom)
	pipeEdge   []int32   // edges of pipe p: pipeEdge[p] .. pipeEdge[p+1]
	bounds     []float64 // per pipe: minX, minY, maxX, maxY (see box)

	grid boxGrid // over bounds
}

// NewNet builds the walkable graph of t. It does not copy t.
func NewNet(t *gis.Topology) *Net {
	np := t.NumPipes()
	n := &Net{Topo: t, pipeEdge: make([]int32, np+1)}
	// Tees per pipe, sorted by distance.
	teeOff := make([]int32, np+1)
	for _, p := range t.TeePipe {
		teeOff[p+1]++
	}
	for i := 0; i < np; i++ {
		teeOff[i+1] += teeOff[i]
	}
	tees := make([]int32, len(t.TeePipe))
	pos := append([]int32(nil), teeOff[:np]...)
	for i, p := range t.TeePipe {
		tees[pos[p]] = int32(i)
		pos[p]++
	}
	for p := 0; p < np; p++ {
		ts := tees[teeOff[p]:teeOff[p+1]]
		sort.Slice(ts, func(a, b int) bool { return t.TeeS[ts[a]] < t.TeeS[ts[b]] })
	}
	for p := 0; p < np; p++ {
		n.pipeEdge[p] = int32(len(n.eU))
		if !t.PipeInService[p] || t.PipeFrom[p] < 0 || t.PipeTo[p] < 0 {
			continue
		}
		cur, s := t.PipeFrom[p], 0.0
		for _, k := range tees[teeOff[p]:teeOff[p+1]] {
			n.addEdge(int32(p), cur, t.TeeNode[k], s, t.TeeS[k])
			cur, s = t.TeeNode[k], t.TeeS[k]
		}
		n.addEdge(int32(p), cur, t.PipeTo[p], s, math.Max(s, t.PipeLen[p]))
	}
	n.pipeEdge[np] = int32(len(n.eU))
	n.bounds = make([]float64, 4*np)
	for p := 0; p < np; p++ {
		b := emptyBox()
		for k := t.PipeOff[p]; k < t.PipeOff[p+1]; k++ {
			b.add(t.PipeXY[2*k], t.PipeXY[2*k+1])
		}
		copy(n.bounds[4*p:], b[:])
	}
	n.grid = newBoxGrid(n.bounds)
	return n
}

func (n *Net) addEdge(p, a, b int32, from, to float64) {
	n.eU = append(n.eU, a)
	n.eV = append(n.eV, b)
	n.ePipe = append(n.ePipe, p)
	n.eFrom = append(n.eFrom, from)
	n.eTo = append(n.eTo, to)
}

// NumVertices is the number of junctions.
func (n *Net) NumVertices() int { return len(n.Topo.NodeXY) / 2 }

// Walkable reports whether pipe p is part of the walkable graph (in
// service, with both ends placed).
func (n *Net) Walkable(p int32) bool { return n.pipeEdge[p+1] > n.pipeEdge[p] }

// Vertex is the position of junction v.
func (n *Net) Vertex(v int32) orb.Point {
	return orb.Point{n.Topo.NodeXY[2*v], n.Topo.NodeXY[2*v+1]}
}

// Midpoint is the point halfway along pipe p.
func (n *Net) Midpoint(p int32) orb.Point {
	return gis.PointAt(n.Topo.PipeLine(int(p)), n.Topo.PipeLen[p]/2)
}

// PipeBound is the bounding box of pipe p.
func (n *Net) PipeBound(p int32) orb.Bound { return boundAt(n.bounds, p) }

// PipesIn calls fn for every pipe whose bounding box meets b (each once).
// fn returns false to stop.
func (n *Net) PipesIn(b orb.Bound, fn func(p int32) bool) {
	n.grid.search(n.bounds, b, fn)
}
