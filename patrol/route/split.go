package route

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/waterline-gis/waterline/patrol/rpp"
)

// split cuts the one-manager tour into at most k pieces minimising the
// longest piece closed by shortest paths from and back to the start, then
// re-solves each piece's pipes as an RPP and keeps the shorter walk.
func (l *local) split(ctx context.Context, sol rpp.Solution, k int, limit time.Duration) ([]Route, error) {
	dist, pred := l.dijkstra(l.start)
	pre := make([]float64, len(sol.EdgeSeq)+1)
	var serv []int
	for i, e := range sol.EdgeSeq {
		pre[i+1] = pre[i] + l.g.Edges[e].Cost
		if sol.Serviced[i] {
			serv = append(serv, i)
		}
	}
	cost := func(a, b int) float64 {
		i, j := serv[a], serv[b]
		return dist[sol.Walk[i]] + pre[j+1] - pre[i] + dist[sol.Walk[j+1]]
	}
	greedy := func(limit float64) ([]int, bool) {
		var starts []int
		for a := 0; a < len(serv); {
			if len(starts) == k || cost(a, a) > limit {
				return nil, false
			}
			starts = append(starts, a)
			b := a
			for b+1 < len(serv) && cost(a, b+1) <= limit {
				b++
			}
			a = b + 1
		}
		return starts, true
	}
	lo := 0.0
	for a := range serv {
		lo = math.Max(lo, cost(a, a))
	}
	hi := math.Max(lo, cost(0, len(serv)-1))
	starts, _ := greedy(hi)
	for it := 0; it < 60 && hi-lo > 0.5; it++ {
		mid := (lo + hi) / 2
		if s, ok := greedy(mid); ok {
			hi, starts = mid, s
		} else {
			lo = mid
		}
	}
	routes := make([]Route, 0, k)
	for pi, a := range starts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := len(serv) - 1
		if pi+1 < len(starts) {
			b = starts[pi+1] - 1
		}
		i, j := serv[a], serv[b]
		var r Route
		for _, lg := range l.path(pred, sol.Walk[i], false) {
			r.add(lg)
		}
		inPiece := make([]bool, len(l.g.Edges))
		for s := i; s <= j; s++ {
			lg := l.leg(sol.Walk, sol.EdgeSeq[s], s, sol.Serviced[s])
			r.add(lg)
			if sol.Serviced[s] {
				inPiece[sol.EdgeSeq[s]] = true
			}
		}
		for _, lg := range l.path(pred, sol.Walk[j+1], true) {
			r.add(lg)
		}
		// Re-solve the piece's pipes on their own.
		g := rpp.Graph{N: l.g.N, Edges: make([]rpp.Edge, len(l.g.Edges))}
		copy(g.Edges, l.g.Edges)
		for e := range g.Edges {
			g.Edges[e].Required = inPiece[e]
		}
		s2, err := rpp.Solve(ctx, g, rpp.Options{Depot: l.start, TimeLimit: limit})
		if err != nil {
			return nil, fmt.Errorf("route: piece %d: %w", pi+1, err)
		}
		l2 := *l
		l2.g = g
		if s2.Cost < r.Cost-1e-9 {
			r = l2.route(s2)
		} else {
			seen := map[int32]bool{}
			for _, lg := range r.Legs {
				if lg.Patrol && !seen[lg.Pipe] {
					seen[lg.Pipe] = true
					r.Pipes = append(r.Pipes, lg.Pipe)
				}
			}
			sort.Slice(r.Pipes, func(a, b int) bool { return r.Pipes[a] < r.Pipes[b] })
			r.LowerBound = s2.LowerBound
		}
		routes = append(routes, r)
	}
	for len(routes) < k {
		routes = append(routes, Route{})
	}
	// Longest first: manager 1 is the one with the most work.
	sort.SliceStable(routes, func(a, b int) bool { return routes[a].Cost > routes[b].Cost })
	return routes, nil
}

// path is the shortest path from the start to v (toStart: from v back to
// the start) as deadhead legs.
func (l *local) path(pred []int32, v int, toStart bool) []Leg {
	var edges []int32
	var verts []int
	for u := v; u != l.start && pred[u] >= 0; {
		e := pred[u]
		edges = append(edges, e)
		verts = append(verts, u)
		ed := l.g.Edges[e]
		if ed.U == u {
			u = ed.V
		} else {
			u = ed.U
		}
	}
	// edges run from v towards the start.
	walk := make([]int, 0, len(edges)+1)
	if toStart {
		walk = append(walk, verts...)
		walk = append(walk, l.start)
		out := make([]Leg, len(edges))
		for i, e := range edges {
			out[i] = l.leg(walk, int(e), i, false)
		}
		return out
	}
	walk = append(walk, l.start)
	for i := len(verts) - 1; i >= 0; i-- {
		walk = append(walk, verts[i])
	}
	out := make([]Leg, len(edges))
	for i := range edges {
		out[i] = l.leg(walk, int(edges[len(edges)-1-i]), i, false)
	}
	return out
}

// dijkstra returns the distances from s and the edge entering each vertex
// on a shortest path (-1 at s and where unreachable).
func (l *local) dijkstra(s int) ([]float64, []int32) {
	n := l.g.N
	off := make([]int32, n+1)
	for _, e := range l.g.Edges {
		if e.U != e.V {
			off[e.U+1]++
			off[e.V+1]++
		}
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	adj := make([]int32, off[n])
	pos := append([]int32(nil), off[:n]...)
	for i, e := range l.g.Edges {
		if e.U != e.V {
			adj[pos[e.U]] = int32(i)
			pos[e.U]++
			adj[pos[e.V]] = int32(i)
			pos[e.V]++
		}
	}
	dist := make([]float64, n)
	pred := make([]int32, n)
	for i := range dist {
		dist[i], pred[i] = math.Inf(1), -1
	}
	dist[s] = 0
	h := &pq{{0, int32(s)}}
	for h.Len() > 0 {
		it := heap.Pop(h).(pqItem)
		u := int(it.v)
		if it.d > dist[u] {
			continue
		}
		for _, e := range adj[off[u]:off[u+1]] {
			ed := l.g.Edges[e]
			w := ed.V
			if w == u {
				w = ed.U
			}
			if d := it.d + ed.Cost; d < dist[w] {
				dist[w], pred[w] = d, e
				heap.Push(h, pqItem{d, int32(w)})
			}
		}
	}
	return dist, pred
}

type pqItem struct {
	d float64
	v int32
}

type pq []pqItem

func (h pq) Len() int           { return len(h) }
func (h pq) Less(i, j int) bool { return h[i].d < h[j].d }
func (h pq) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pq) Push(x any)        { *h = append(*h, x.(pqItem)) }
func (h *pq) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
