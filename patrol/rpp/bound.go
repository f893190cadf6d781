package rpp

import "math"

// oneTreeLimit bounds the number of components for which the 1-tree bound
// is computed (O(k^3) time; on large graphs also k Dijkstra runs).
const (
	oneTreeLimitSmall = 300
	oneTreeLimitLarge = 30
)

// componentTourBound returns a lower bound on the deadhead needed to connect
// all k components: the deadhead D of a feasible walk, with every component
// contracted to a point, is a connected Eulerian multigraph through all of
// them, so its Euler tour shortcut to the components is a Hamiltonian cycle
// in the metric closure dc of component-to-component distances, of cost at
// most c(D). Any Hamiltonian cycle costs at least the Held-Karp 1-tree
// bound: the MST of the other components plus the two cheapest dc-links of
// one component v (removing v from the cycle leaves a spanning path). The
// maximum over v is returned, never less than mst (the plain MST bound, also
// valid). For k = 2 this is 2*d(C1,C2).
func (p *problem) componentTourBound(mst float64) float64 {
	k := p.k
	if k <= 1 {
		return 0
	}
	if (p.apsp && k > oneTreeLimitSmall) || (!p.apsp && k > oneTreeLimitLarge) {
		return mst
	}
	inf := math.Inf(1)
	d := make([][]float64, k)
	for i := range d {
		d[i] = make([]float64, k)
		for j := range d[i] {
			if i != j {
				d[i][j] = inf
			}
		}
	}
	if p.apsp {
		var term []int
		for v := 0; v < p.n; v++ {
			if p.comp[v] >= 0 {
				term = append(term, v)
			}
		}
		for _, u := range term {
			cu := p.comp[u]
			row := p.dist[u]
			for _, v := range term {
				if cv := p.comp[v]; cv != cu && row[v] < d[cu][cv] {
					d[cu][cv] = row[v]
					d[cv][cu] = row[v]
				}
			}
		}
	} else {
		w := p.ws
		for c := 0; c < k; c++ {
			w.reset()
			for v := 0; v < p.n; v++ {
				if int(p.comp[v]) == c {
					w.seed(v, 0)
				}
			}
			p.runDijkstra(w, nil, nil, nil)
			for v := 0; v < p.n; v++ {
				if cv := p.comp[v]; cv >= 0 && int(cv) != c && w.dist[v] < d[c][cv] {
					d[c][cv] = w.dist[v]
					d[cv][c] = w.dist[v]
				}
			}
		}
		w.reset()
	}
	// Metric closure (paths may pass through other components for free).
	for m := 0; m < k; m++ {
		for i := 0; i < k; i++ {
			if d[i][m] == inf {
				continue
			}
			for j := 0; j < k; j++ {
				if x := d[i][m] + d[m][j]; x < d[i][j] {
					d[i][j] = x
				}
			}
		}
	}
	best := mst
	key := make([]float64, k)
	in := make([]bool, k)
	for v := 0; v < k; v++ {
		// Prim on all components except v.
		for i := range key {
			key[i], in[i] = inf, false
		}
		in[v] = true
		start := 0
		if v == 0 {
			start = 1
		}
		key[start] = 0
		tree := 0.0
		for it := 0; it < k-1; it++ {
			u := -1
			for i := 0; i < k; i++ {
				if !in[i] && (u < 0 || key[i] < key[u]) {
					u = i
				}
			}
			in[u] = true
			tree += key[u]
			for i := 0; i < k; i++ {
				if !in[i] && d[u][i] < key[i] {
					key[i] = d[u][i]
				}
			}
		}
		a, b := inf, inf
		for i := 0; i < k; i++ {
			if i == v {
				continue
			}
			if x := d[v][i]; x < a {
				a, b = x, a
			} else if x < b {
				b = x
			}
		}
		if k == 2 {
			b = a // the cycle uses the single link twice
		}
		if lb := tree + a + b; lb > best {
			best = lb
		}
	}
	return best
}
