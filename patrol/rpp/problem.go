package rpp

import (
	"errors"
	"fmt"
	"math"
)

type arc struct {
	to int32
	e  int32
}

// problem is the validated, preprocessed instance shared by all phases.
type problem struct {
	g       Graph
	n       int
	adj     [][]arc
	req     []int   // indices of required edges
	reqCost float64 // sum of required costs
	degR    []int32 // number of required edge ends at each vertex (a loop counts 2)
	comp    []int32 // component of the required subgraph (+ depot), -1 elsewhere
	k       int     // number of components
	depot   int

	apsp bool
	dist [][]float64 // dist[s][t], only when apsp
	pred [][]int32   // pred[s][t] = edge entering t on a shortest s-t path, only when apsp

	ws *dijkstraWS
}

// apspLimit is the largest vertex count for which all-pairs shortest paths
// are precomputed (n^2 float64 + n^2 int32 of memory).
const apspLimit = 1000

func newProblem(g Graph, depot int) (*problem, error) {
	if g.N < 0 {
		return nil, fmt.Errorf("rpp: negative vertex count %d", g.N)
	}
	if depot < -1 || depot >= g.N && depot != -1 {
		return nil, fmt.Errorf("rpp: depot %d out of range [0,%d)", depot, g.N)
	}
	p := &problem{g: g, n: g.N, depot: depot}
	p.adj = make([][]arc, g.N)
	p.degR = make([]int32, g.N)
	for i, e := range g.Edges {
		if e.U < 0 || e.U >= g.N || e.V < 0 || e.V >= g.N {
			return nil, fmt.Errorf("rpp: edge %d (%d,%d): vertex out of range [0,%d)", i, e.U, e.V, g.N)
		}
		if math.IsNaN(e.Cost) || math.IsInf(e.Cost, 0) || e.Cost < 0 {
			return nil, fmt.Errorf("rpp: edge %d (%d,%d): cost %v is not a finite non-negative number", i, e.U, e.V, e.Cost)
		}
		if e.U != e.V {
			p.adj[e.U] = append(p.adj[e.U], arc{int32(e.V), int32(i)})
			p.adj[e.V] = append(p.adj[e.V], arc{int32(e.U), int32(i)})
		}
		if e.Required {
			p.req = append(p.req, i)
			p.reqCost += e.Cost
			p.degR[e.U]++
			p.degR[e.V]++
		}
	}
	// Components of the required subgraph (+ the depot).
	uf := newUF(g.N)
	for _, i := range p.req {
		uf.union(g.Edges[i].U, g.Edges[i].V)
	}
	p.comp = make([]int32, g.N)
	root := map[int]int32{}
	for v := 0; v < g.N; v++ {
		p.comp[v] = -1
		if p.degR[v] > 0 || v == depot {
			r := uf.find(v)
			c, ok := root[r]
			if !ok {
				c = int32(len(root))
				root[r] = c
			}
			p.comp[v] = c
		}
	}
	p.k = len(root)
	// Feasibility: every terminal must be reachable from every other one.
	if p.k > 1 {
		guf := newUF(g.N)
		for _, e := range g.Edges {
			guf.union(e.U, e.V)
		}
		first := -1
		for v := 0; v < g.N; v++ {
			if p.comp[v] >= 0 {
				if first < 0 {
					first = v
				} else if guf.find(v) != guf.find(first) {
					return nil, fmt.Errorf("rpp: %w: vertices %d and %d must both be visited but are not connected", ErrInfeasible, first, v)
				}
			}
		}
	}
	p.ws = newDijkstraWS(g.N)
	if g.N <= apspLimit && p.k > 0 {
		p.apsp = true
		p.dist = make([][]float64, g.N)
		p.pred = make([][]int32, g.N)
		for s := 0; s < g.N; s++ {
			d := make([]float64, g.N)
			pr := make([]int32, g.N)
			p.fullDijkstra(s, d, pr)
			p.dist[s], p.pred[s] = d, pr
		}
	}
	return p, nil
}

// ErrInfeasible is wrapped by Solve's error when no closed walk can cover the
// required edges (and the depot) because the graph is disconnected.
var ErrInfeasible = errors.New("infeasible instance")

func (p *problem) other(e int, v int) int {
	ed := p.g.Edges[e]
	if ed.U == v {
		return ed.V
	}
	return ed.U
}

// node maps a vertex to its node in the graph where every component of the
// required subgraph is contracted: components are 0..k-1, others k+v.
func (p *problem) node(v int) int {
	if c := p.comp[v]; c >= 0 {
		return int(c)
	}
	return p.k + v
}

// ---- union-find ----

type uf struct{ par []int32 }

func newUF(n int) *uf {
	u := &uf{par: make([]int32, n)}
	for i := range u.par {
		u.par[i] = int32(i)
	}
	return u
}

func (u *uf) find(x int) int {
	for int(u.par[x]) != x {
		u.par[x] = u.par[u.par[x]]
		x = int(u.par[x])
	}
	return x
}

func (u *uf) union(a, b int) bool {
	a, b = u.find(a), u.find(b)
	if a == b {
		return false
	}
	u.par[a] = int32(b)
	return true
}

// ---- Dijkstra ----

type heapItem struct {
	d float64
	v int32
}

type minHeap []heapItem

func (h *minHeap) push(it heapItem) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		par := (i - 1) / 2
		if a[par].d <= it.d {
			break
		}
		a[i] = a[par]
		i = par
	}
	a[i] = it
}

func (h *minHeap) pop() heapItem {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	if len(a) == 0 {
		return top
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= len(a) {
			break
		}
		if r := l + 1; r < len(a) && a[r].d < a[l].d {
			l = r
		}
		if a[l].d >= last.d {
			break
		}
		a[i] = a[l]
		i = l
	}
	a[i] = last
	return top
}

// dijkstraWS is reusable Dijkstra scratch space with lazy reset.
type dijkstraWS struct {
	dist    []float64
	pred    []int32 // entering edge, -1 at sources
	root    []int32 // source vertex of the tree containing v
	done    []bool
	touched []int32
	h       minHeap
}

func newDijkstraWS(n int) *dijkstraWS {
	w := &dijkstraWS{dist: make([]float64, n), pred: make([]int32, n), root: make([]int32, n), done: make([]bool, n)}
	for i := range w.dist {
		w.dist[i] = math.Inf(1)
		w.pred[i] = -1
		w.root[i] = -1
	}
	return w
}

func (w *dijkstraWS) reset() {
	for _, v := range w.touched {
		w.dist[v] = math.Inf(1)
		w.pred[v] = -1
		w.root[v] = -1
		w.done[v] = false
	}
	w.touched = w.touched[:0]
	w.h = w.h[:0]
}

func (w *dijkstraWS) seed(v int, d float64) {
	if math.IsInf(w.dist[v], 1) && !w.done[v] && w.root[v] == -1 {
		w.touched = append(w.touched, int32(v))
	}
	if d < w.dist[v] {
		w.dist[v] = d
		w.pred[v] = -1
		w.root[v] = int32(v)
		w.h.push(heapItem{d, int32(v)})
	}
}

// run settles vertices in order. expand(v) reports whether arcs out of v may
// be relaxed; cost(e) gives the length of edge e. onSettle, if not nil, is
// called for each settled vertex and returns false to stop early.
func (p *problem) runDijkstra(w *dijkstraWS, expand func(v int) bool, cost func(e int) float64, onSettle func(v int) bool) {
	for len(w.h) > 0 {
		it := w.h.pop()
		v := int(it.v)
		if w.done[v] || it.d > w.dist[v] {
			continue
		}
		w.done[v] = true
		if onSettle != nil && !onSettle(v) {
			return
		}
		if expand != nil && !expand(v) {
			continue
		}
		for _, a := range p.adj[v] {
			to := int(a.to)
			if w.done[to] {
				continue
			}
			var c float64
			if cost != nil {
				c = cost(int(a.e))
			} else {
				c = p.g.Edges[a.e].Cost
			}
			nd := it.d + c
			if nd < w.dist[to] {
				if math.IsInf(w.dist[to], 1) && w.root[to] == -1 {
					w.touched = append(w.touched, int32(to))
				}
				w.dist[to] = nd
				w.pred[to] = a.e
				w.root[to] = w.root[v]
				w.h.push(heapItem{nd, int32(to)})
			}
		}
	}
}

func (p *problem) fullDijkstra(s int, d []float64, pr []int32) {
	w := p.ws
	w.reset()
	w.seed(s, 0)
	p.runDijkstra(w, nil, nil, nil)
	for v := 0; v < p.n; v++ {
		d[v] = w.dist[v]
		pr[v] = w.pred[v]
	}
	w.reset()
}

// d returns the shortest-path distance (apsp mode only).
func (p *problem) d(u, v int) float64 { return p.dist[u][v] }

// appendPath appends the edges of a shortest u-v path (apsp mode).
func (p *problem) appendPath(out []int, u, v int) []int {
	pr := p.pred[u]
	for x := v; x != u; {
		e := int(pr[x])
		out = append(out, e)
		x = p.other(e, x)
	}
	return out
}
