package rpp

import (
	"sort"
)

// deadheadCounts expands a solution into its deadhead multiset: one copy of
// every connector edge plus the shortest path of every matched pair.
func (p *problem) deadheadCounts(tList []int, pairs [][2]int) []int32 {
	cnt := make([]int32, len(p.g.Edges))
	for _, e := range tList {
		cnt[e]++
	}
	var buf []int
	for _, pr := range pairs {
		buf = p.shortestPath(buf[:0], pr[0], pr[1])
		for _, e := range buf {
			cnt[e]++
		}
	}
	return cnt
}

// shortestPath appends the edges of a shortest u-v path.
func (p *problem) shortestPath(out []int, u, v int) []int {
	if u == v {
		return out
	}
	if p.apsp {
		return p.appendPath(out, u, v)
	}
	w := p.ws
	w.reset()
	w.seed(u, 0)
	p.runDijkstra(w, nil, nil, func(x int) bool { return x != v })
	for x := v; int(w.pred[x]) >= 0; {
		e := int(w.pred[x])
		out = append(out, e)
		x = p.other(e, x)
	}
	w.reset()
	return out
}

// connected reports whether the required edges plus the edges with cnt > 0
// connect all terminals.
func (p *problem) connected(cnt []int32) bool {
	if p.k <= 1 {
		return true
	}
	u := newUF(p.n)
	for _, e := range p.req {
		u.union(p.g.Edges[e].U, p.g.Edges[e].V)
	}
	for e, c := range cnt {
		if c > 0 {
			u.union(p.g.Edges[e].U, p.g.Edges[e].V)
		}
	}
	r := -1
	for v := 0; v < p.n; v++ {
		if p.comp[v] >= 0 {
			if r < 0 {
				r = u.find(v)
			} else if u.find(v) != r {
				return false
			}
		}
	}
	return true
}

// dropPairs removes two deadhead copies of an edge whenever it has at least
// two and the walk stays connected (parity is unchanged by removing a pair).
// This is the DROP step of Hertz, Laporte & Nanchen-Hugo (1999) on the
// edge-multiset representation. It returns the saving.
func (p *problem) dropPairs(cnt []int32) float64 {
	var cand []int
	for e, c := range cnt {
		if c >= 2 && p.g.Edges[e].Cost > 0 {
			cand = append(cand, e)
		}
	}
	sort.Slice(cand, func(a, b int) bool { return p.g.Edges[cand[a]].Cost > p.g.Edges[cand[b]].Cost })
	saved := 0.0
	for _, e := range cand {
		for cnt[e] >= 2 {
			cnt[e] -= 2
			if cnt[e] == 0 && !p.connected(cnt) {
				cnt[e] += 2
				break
			}
			saved += 2 * p.g.Edges[e].Cost
		}
	}
	return saved
}

// eulerWalk builds a closed walk (Hierholzer) through every required edge
// once plus cnt[e] deadhead copies of every edge e, starting at start.
func (p *problem) eulerWalk(cnt []int32, start int) Solution {
	type item struct {
		e   int32
		svc bool
	}
	var items []item
	for _, e := range p.req {
		items = append(items, item{int32(e), true})
	}
	for e, c := range cnt {
		for i := int32(0); i < c; i++ {
			items = append(items, item{int32(e), false})
		}
	}
	inc := make([][]int32, p.n)
	for i, it := range items {
		ed := p.g.Edges[it.e]
		inc[ed.U] = append(inc[ed.U], int32(i))
		if ed.V != ed.U {
			inc[ed.V] = append(inc[ed.V], int32(i))
		} else {
			inc[ed.U] = append(inc[ed.U], int32(i))
		}
	}
	used := make([]bool, len(items))
	ptr := make([]int32, p.n)
	type frame struct {
		v  int32
		it int32
	}
	stack := []frame{{int32(start), -1}}
	var rv []int32
	var ri []int32
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		v := top.v
		for int(ptr[v]) < len(inc[v]) && used[inc[v][ptr[v]]] {
			ptr[v]++
		}
		if int(ptr[v]) < len(inc[v]) {
			it := inc[v][ptr[v]]
			used[it] = true
			ed := p.g.Edges[items[it].e]
			u := ed.U
			if u == int(v) {
				u = ed.V
			}
			stack = append(stack, frame{int32(u), it})
		} else {
			stack = stack[:len(stack)-1]
			rv = append(rv, v)
			if top.it >= 0 {
				ri = append(ri, top.it)
			}
		}
	}
	// rv is the circuit in reverse; ri[i] joins rv[i] and rv[i+1].
	var s Solution
	L := len(rv)
	s.Walk = make([]int, L)
	for i := 0; i < L; i++ {
		s.Walk[i] = int(rv[L-1-i])
	}
	s.EdgeSeq = make([]int, len(ri))
	for i := range ri {
		s.EdgeSeq[i] = int(items[ri[len(ri)-1-i]].e)
	}
	s.Serviced = make([]bool, len(s.EdgeSeq))
	seen := make([]bool, len(p.g.Edges))
	for i, e := range s.EdgeSeq {
		ed := p.g.Edges[e]
		s.Cost += ed.Cost
		if ed.Required && !seen[e] {
			seen[e] = true
			s.Serviced[i] = true
			s.RequiredCost += ed.Cost
		}
	}
	s.DeadheadCost = s.Cost - s.RequiredCost
	return s
}
