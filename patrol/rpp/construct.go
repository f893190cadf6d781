package rpp

import (
	"math/rand"
	"sort"
)

// connectTree returns Frederickson's component connection: the edges of the
// shortest paths realising a minimum spanning tree of the complete graph
// whose nodes are the components (required subgraph + depot) and whose
// lengths are component-to-component shortest-path distances.
//
// The MST is computed exactly without all-pairs distances by Mehlhorn's
// Voronoi construction (Inf. Proc. Letters 27, 1988): one multi-source
// Dijkstra from all component vertices, then Kruskal on the boundary edges
// (u,v) with length d(u)+c(u,v)+d(v) between different regions.
//
// bias > 0 starts even-degree component vertices at distance bias, so that
// connections prefer to attach at odd vertices (saving matching cost); mult,
// when not nil, multiplies edge costs (randomised restarts). With bias 0 and
// mult nil the returned total path length is the exact MST weight.
func (p *problem) connectTree(bias float64, mult []float64) (edges []int, mst float64) {
	if p.k <= 1 {
		return nil, 0
	}
	w := p.ws
	w.reset()
	for v := 0; v < p.n; v++ {
		if p.comp[v] >= 0 {
			if p.degR[v]%2 == 1 || bias == 0 {
				w.seed(v, 0)
			} else {
				w.seed(v, bias)
			}
		}
	}
	cost := func(e int) float64 { return p.g.Edges[e].Cost }
	if mult != nil {
		cost = func(e int) float64 { return p.g.Edges[e].Cost * mult[e] }
	}
	p.runDijkstra(w, nil, cost, nil)
	// With a bias, a component vertex may be reached more cheaply from
	// another component; it must still represent its own component (else
	// that component could be left out). Paths of vertices below it keep
	// their own roots and still end in the component they are labelled with.
	for v := 0; v < p.n; v++ {
		if p.comp[v] >= 0 && w.root[v] >= 0 && p.comp[w.root[v]] != p.comp[v] {
			w.root[v], w.pred[v], w.dist[v] = int32(v), -1, 0
		}
	}
	type cand struct {
		d float64
		e int
	}
	var cands []cand
	for i, e := range p.g.Edges {
		if e.U == e.V {
			continue
		}
		ru, rv := w.root[e.U], w.root[e.V]
		if ru < 0 || rv < 0 || p.comp[ru] == p.comp[rv] {
			continue
		}
		cands = append(cands, cand{w.dist[e.U] + cost(i) + w.dist[e.V], i})
	}
	sort.Slice(cands, func(a, b int) bool {
		if cands[a].d != cands[b].d {
			return cands[a].d < cands[b].d
		}
		return cands[a].e < cands[b].e
	})
	cu := newUF(p.k)
	seen := map[int]bool{}
	add := func(e int) {
		if !seen[e] {
			seen[e] = true
			edges = append(edges, e)
		}
	}
	joined := 1
	for _, c := range cands {
		e := p.g.Edges[c.e]
		a, b := int(p.comp[w.root[e.U]]), int(p.comp[w.root[e.V]])
		if !cu.union(a, b) {
			continue
		}
		mst += c.d
		add(c.e)
		for _, x := range []int{e.U, e.V} {
			for int(w.pred[x]) >= 0 {
				pe := int(w.pred[x])
				add(pe)
				x = p.other(pe, x)
			}
		}
		joined++
		if joined == p.k {
			break
		}
	}
	w.reset()
	return edges, mst
}

// minimalize reduces a connector to a minimal one: a spanning forest of the
// contracted graph (Kruskal, cheapest edges first, ties broken by rng when
// given) with all Steiner leaves pruned. Removing a deadhead edge (u,v) from a
// connector never raises cost(T) + matching(odd(R+T)), since the matching
// grows by at most d(u,v) <= c(u,v); so minimalizing never hurts.
func (p *problem) minimalize(edges []int, rng *rand.Rand) []int {
	es := append([]int(nil), edges...)
	if rng != nil {
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		sort.SliceStable(es, func(a, b int) bool { return p.g.Edges[es[a]].Cost < p.g.Edges[es[b]].Cost })
	} else {
		sort.Slice(es, func(a, b int) bool {
			ca, cb := p.g.Edges[es[a]].Cost, p.g.Edges[es[b]].Cost
			if ca != cb {
				return ca < cb
			}
			return es[a] < es[b]
		})
	}
	u := newUF(p.k + p.n)
	kept := es[:0]
	for _, e := range es {
		ed := p.g.Edges[e]
		if ed.Required || ed.U == ed.V {
			continue
		}
		if u.union(p.node(ed.U), p.node(ed.V)) {
			kept = append(kept, e)
		}
	}
	return p.pruneLeaves(kept)
}

// pruneLeaves removes Steiner (non-terminal) leaves repeatedly.
func (p *problem) pruneLeaves(edges []int) []int {
	deg := map[int]int{}
	inc := map[int][]int{}
	for _, e := range edges {
		ed := p.g.Edges[e]
		a, b := p.node(ed.U), p.node(ed.V)
		deg[a]++
		deg[b]++
		inc[a] = append(inc[a], e)
		inc[b] = append(inc[b], e)
	}
	removed := map[int]bool{}
	var stack []int
	for nd, d := range deg {
		if nd >= p.k && d == 1 {
			stack = append(stack, nd)
		}
	}
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if deg[nd] != 1 {
			continue
		}
		for _, e := range inc[nd] {
			if removed[e] {
				continue
			}
			removed[e] = true
			ed := p.g.Edges[e]
			a, b := p.node(ed.U), p.node(ed.V)
			deg[a]--
			deg[b]--
			o := a
			if o == nd {
				o = b
			}
			if o >= p.k && deg[o] == 1 {
				stack = append(stack, o)
			}
			break
		}
	}
	if len(removed) == 0 {
		return edges
	}
	out := edges[:0]
	for _, e := range edges {
		if !removed[e] {
			out = append(out, e)
		}
	}
	return out
}

// perturbation returns random cost multipliers in [1, 1+sigma].
func perturbation(m int, sigma float64, rng *rand.Rand) []float64 {
	mult := make([]float64, m)
	for i := range mult {
		mult[i] = 1 + sigma*rng.Float64()
	}
	return mult
}
