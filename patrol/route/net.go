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
	bounds     []float64 // per pipe: minX, minY, maxX, maxY

	grid grid
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
		b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for k := t.PipeOff[p]; k < t.PipeOff[p+1]; k++ {
			x, y := t.PipeXY[2*k], t.PipeXY[2*k+1]
			b[0], b[1] = math.Min(b[0], x), math.Min(b[1], y)
			b[2], b[3] = math.Max(b[2], x), math.Max(b[3], y)
		}
		copy(n.bounds[4*p:], b[:])
	}
	n.grid = newGrid(t)
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
func (n *Net) PipeBound(p int32) orb.Bound {
	b := n.bounds[4*p : 4*p+4]
	return orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
}

// PipesIn calls fn for every pipe whose bounding box meets b (each once).
// fn returns false to stop.
func (n *Net) PipesIn(b orb.Bound, fn func(p int32) bool) {
	n.grid.search(n, b, fn)
}

// grid is a uniform grid over the pipes' extent: each cell lists the pipes
// whose bounding box meets it.
type grid struct {
	x0, y0, size float64
	nx, ny       int
	off          []int32
	pipes        []int32
}

const gridTarget = 4 // pipes per cell aimed at

func newGrid(t *gis.Topology) grid {
	np := t.NumPipes()
	g := grid{}
	if np == 0 || len(t.PipeXY) == 0 {
		g.nx, g.ny, g.size = 1, 1, 1
		g.off = make([]int32, 2)
		return g
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i+1 < len(t.PipeXY); i += 2 {
		minX, maxX = math.Min(minX, t.PipeXY[i]), math.Max(maxX, t.PipeXY[i])
		minY, maxY = math.Min(minY, t.PipeXY[i+1]), math.Max(maxY, t.PipeXY[i+1])
	}
	area := math.Max((maxX-minX)*(maxY-minY), 1)
	g.size = math.Max(math.Sqrt(area*gridTarget/float64(np)), 10)
	g.x0, g.y0 = minX, minY
	g.nx = int((maxX-minX)/g.size) + 1
	g.ny = int((maxY-minY)/g.size) + 1
	cells := func(p int, fn func(c int)) {
		bx0, by0, bx1, by1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for k := t.PipeOff[p]; k < t.PipeOff[p+1]; k++ {
			x, y := t.PipeXY[2*k], t.PipeXY[2*k+1]
			bx0, bx1 = math.Min(bx0, x), math.Max(bx1, x)
			by0, by1 = math.Min(by0, y), math.Max(by1, y)
		}
		if bx0 > bx1 {
			return
		}
		c0, r0 := g.cell(bx0, by0)
		c1, r1 := g.cell(bx1, by1)
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				fn(r*g.nx + c)
			}
		}
	}
	g.off = make([]int32, g.nx*g.ny+1)
	for p := 0; p < np; p++ {
		cells(p, func(c int) { g.off[c+1]++ })
	}
	for i := 0; i < g.nx*g.ny; i++ {
		g.off[i+1] += g.off[i]
	}
	g.pipes = make([]int32, g.off[g.nx*g.ny])
	pos := append([]int32(nil), g.off[:g.nx*g.ny]...)
	for p := 0; p < np; p++ {
		cells(p, func(c int) { g.pipes[pos[c]] = int32(p); pos[c]++ })
	}
	return g
}

func (g *grid) cell(x, y float64) (int, int) {
	c := int((x - g.x0) / g.size)
	r := int((y - g.y0) / g.size)
	return min(max(c, 0), g.nx-1), min(max(r, 0), g.ny-1)
}

// search visits the pipes whose box meets b, each once: a pipe is listed
// in every cell its box meets and is reported only from the cell holding
// the lower-left corner of its box's intersection with b.
func (g *grid) search(n *Net, b orb.Bound, fn func(p int32) bool) {
	if len(g.pipes) == 0 || b.Max[0] < g.x0 || b.Max[1] < g.y0 ||
		b.Min[0] > g.x0+float64(g.nx)*g.size || b.Min[1] > g.y0+float64(g.ny)*g.size {
		return
	}
	c0, r0 := g.cell(b.Min[0], b.Min[1])
	c1, r1 := g.cell(b.Max[0], b.Max[1])
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			k := r*g.nx + c
			for _, p := range g.pipes[g.off[k]:g.off[k+1]] {
				pb := n.PipeBound(p)
				if !pb.Intersects(b) {
					continue
				}
				if cc, rr := g.cell(math.Max(pb.Min[0], b.Min[0]), math.Max(pb.Min[1], b.Min[1])); cc != c || rr != r {
					continue
				}
				if !fn(p) {
					return
				}
			}
		}
	}
}
