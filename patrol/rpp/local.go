package rpp

import (
	"math"
	"sort"
)

// sol is a candidate solution in connector form: a connector T (non-required
// edges, each deadheaded once, with R+T connecting every terminal) plus a
// minimum-cost perfect matching of the odd vertices of R+T on shortest-path
// distances. Its cost is reqCost + tcost + mcost.
//
// Any feasible closed walk has this form or is dominated by it: if D is the
// deadhead multiset of a walk and T a spanning forest of the contracted
// support of D, then D-T is a T-join of odd(R+T), which costs at least the
// minimum perfect matching of odd(R+T). Hence the optimum equals
// reqCost + min over connectors T of c(T) + M(odd(R+T)), and the local
// search below searches over connectors with an exact matching oracle.
type sol struct {
	inT   []bool
	tList []int
	degT  []int32
	tcost float64
	odd   []int
	mate  []int32 // per vertex: matched odd vertex, -1 if even
	mcost float64
}

func (s *sol) total() float64 { return s.tcost + s.mcost }

func (p *problem) oddOf(degT []int32) []int {
	var odd []int
	for v := 0; v < p.n; v++ {
		if (int(p.degR[v])+int(degT[v]))%2 == 1 {
			odd = append(odd, v)
		}
	}
	return odd
}

// evaluate builds a sol for connector tList with an exact matching (apsp).
func (p *problem) evaluate(tList []int) *sol {
	s := &sol{inT: make([]bool, len(p.g.Edges)), degT: make([]int32, p.n), mate: make([]int32, p.n)}
	for _, e := range tList {
		if s.inT[e] {
			continue
		}
		s.inT[e] = true
		s.tList = append(s.tList, e)
		ed := p.g.Edges[e]
		s.degT[ed.U]++
		s.degT[ed.V]++
		s.tcost += ed.Cost
	}
	s.odd = p.oddOf(s.degT)
	s.mcost = p.matchInto(s.odd, s.mate)
	return s
}

// matchInto computes an exact min-cost perfect matching on odd (apsp mode),
// writing partners into mate (others -1) and returning the cost.
func (p *problem) matchInto(odd []int, mate []int32) float64 {
	for i := range mate {
		mate[i] = -1
	}
	m, c := minCostPerfectMatchingDense(len(odd), func(i, j int) float64 { return p.dist[odd[i]][odd[j]] })
	for i, j := range m {
		mate[odd[i]] = int32(odd[j])
	}
	return c
}

func (s *sol) clone() *sol {
	c := *s
	c.inT = append([]bool(nil), s.inT...)
	c.tList = append([]int(nil), s.tList...)
	c.degT = append([]int32(nil), s.degT...)
	c.odd = append([]int(nil), s.odd...)
	c.mate = append([]int32(nil), s.mate...)
	return &c
}

type keyPath struct {
	edges  []int
	x1, x2 int // end vertices
	n1, n2 int // end nodes of the contracted tree
	cost   float64
}

// keyPaths splits the contracted tree T into key paths: maximal paths whose
// interior nodes are non-terminal vertices of tree degree 2.
func (p *problem) keyPaths(s *sol) []keyPath {
	deg := map[int]int{}
	inc := map[int][]int{}
	for _, e := range s.tList {
		ed := p.g.Edges[e]
		a, b := p.node(ed.U), p.node(ed.V)
		deg[a]++
		deg[b]++
		inc[a] = append(inc[a], e)
		inc[b] = append(inc[b], e)
	}
	visited := map[int]bool{}
	var out []keyPath
	extend := func(kp *keyPath, e, v int) (int, int) {
		prev := e
		for {
			nd := p.node(v)
			if nd < p.k || deg[nd] != 2 {
				return v, nd
			}
			next := inc[nd][0]
			if next == prev {
				next = inc[nd][1]
			}
			visited[next] = true
			kp.edges = append(kp.edges, next)
			kp.cost += p.g.Edges[next].Cost
			v = p.other(next, v)
			prev = next
		}
	}
	for _, e := range s.tList {
		if visited[e] {
			continue
		}
		visited[e] = true
		kp := keyPath{edges: []int{e}, cost: p.g.Edges[e].Cost}
		ed := p.g.Edges[e]
		kp.x1, kp.n1 = extend(&kp, e, ed.U)
		kp.x2, kp.n2 = extend(&kp, e, ed.V)
		out = append(out, kp)
	}
	return out
}

type moveCand struct {
	est   float64 // estimated cost change
	a, b  int
	cq    float64
	path  []int
	exact float64
}

// lsCtx holds scratch space for the local search.
type lsCtx struct {
	p        *problem
	side     []int8 // 0 free, 1 A, 2 B
	inP      []bool
	deadline func() bool
	nExact   int
}

// repairDelta estimates the change of the matching cost when the parity of
// the vertices in X flips: matched pairs touching X are removed and the
// left-over vertices are re-paired (optionally swapping with one existing
// pair). The estimate is the cost of a feasible perfect matching, so it is an
// upper bound on the true change.
func (c *lsCtx) repairDelta(s *sol, X []int) float64 {
	p := c.p
	// xor-normalise X
	var xs [4]int
	nx := 0
	for _, x := range X {
		dup := -1
		for i := 0; i < nx; i++ {
			if xs[i] == x {
				dup = i
			}
		}
		if dup >= 0 {
			xs[dup] = xs[nx-1]
			nx--
		} else {
			xs[nx] = x
			nx++
		}
	}
	inX := func(v int) bool {
		for i := 0; i < nx; i++ {
			if xs[i] == v {
				return true
			}
		}
		return false
	}
	removed := 0.0
	var U [4]int
	nu := 0
	for i := 0; i < nx; i++ {
		x := xs[i]
		if y := int(s.mate[x]); y >= 0 {
			if inX(y) {
				if x < y {
					removed += p.d(x, y)
				}
			} else {
				removed += p.d(x, y)
				U[nu] = y
				nu++
			}
		} else {
			U[nu] = x
			nu++
		}
	}
	var add float64
	switch nu {
	case 0:
	case 2:
		a, b := U[0], U[1]
		add = p.d(a, b)
		for _, u := range s.odd {
			v := int(s.mate[u])
			if v < u || inX(u) || inX(v) {
				continue
			}
			duv := p.d(u, v)
			if alt := p.d(a, u) + p.d(b, v) - duv; alt < add {
				add = alt
			}
			if alt := p.d(a, v) + p.d(b, u) - duv; alt < add {
				add = alt
			}
		}
	case 4:
		d := func(i, j int) float64 { return p.d(U[i], U[j]) }
		add = math.Min(d(0, 1)+d(2, 3), math.Min(d(0, 2)+d(1, 3), d(0, 3)+d(1, 2)))
	}
	return add - removed
}

// exactAfter returns the exact matching cost after flipping parities in X.
func (c *lsCtx) exactAfter(s *sol, X []int, mate []int32) float64 {
	p := c.p
	flip := map[int]bool{}
	for _, x := range X {
		flip[x] = !flip[x]
	}
	var odd []int
	for _, v := range s.odd {
		if !flip[v] {
			odd = append(odd, v)
		}
	}
	for v, f := range flip {
		if f && s.mate[v] < 0 {
			odd = append(odd, v)
		}
	}
	return p.matchInto(odd, mate)
}

// exchangePass tries, for every key path P of T, to replace P by a shortest
// path Q reconnecting the two subtrees (key-path exchange). Candidates are
// ranked by repairDelta; the best few are evaluated with an exact matching.
// The first improving exchange is applied; it returns true if one was.
func (c *lsCtx) exchangePass(s *sol, order []int) bool {
	p := c.p
	kps := p.keyPaths(s)
	if len(kps) == 0 {
		return false
	}
	for oi := range kps {
		if c.deadline() {
			return false
		}
		kp := kps[oi]
		if order != nil {
			kp = kps[order[oi%len(order)]%len(kps)]
		}
		if c.tryExchange(s, kp, false, nil) {
			return true
		}
	}
	return false
}

// tryExchange evaluates replacements of key path kp. With kick, it applies
// a random non-worsening-or-not candidate chosen by pick instead.
func (c *lsCtx) tryExchange(s *sol, kp keyPath, kick bool, pick func(n int) int) bool {
	p := c.p
	cands := c.exchangeCands(s, kp)
	if len(cands) == 0 {
		return false
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].est < cands[j].est })
	if kick {
		lim := len(cands)
		if lim > 8 {
			lim = 8
		}
		m := cands[pick(lim)]
		c.apply(s, kp, m, nil)
		return true
	}
	mate := make([]int32, p.n)
	bestI, bestD := -1, -1e-9
	var bestMate []int32
	for i := 0; i < len(cands) && i < c.nExact; i++ {
		m := cands[i]
		if m.cq-kp.cost-s.mcost >= -1e-9 { // the matching cannot save enough
			continue
		}
		newM := c.exactAfter(s, []int{kp.x1, kp.x2, m.a, m.b}, mate)
		delta := m.cq - kp.cost + newM - s.mcost
		if delta < bestD {
			bestD, bestI = delta, i
			bestMate = append(bestMate[:0], mate...)
			cands[i].exact = newM
		}
	}
	if bestI < 0 {
		return false
	}
	c.apply(s, kp, cands[bestI], bestMate)
	s.mcost = cands[bestI].exact
	return true
}

func (c *lsCtx) exchangeCands(s *sol, kp keyPath) []moveCand {
	p := c.p
	for _, e := range kp.edges {
		c.inP[e] = true
	}
	// Label sides: BFS over contracted tree from n1 without P's edges.
	inc := map[int][]int{}
	for _, e := range s.tList {
		if c.inP[e] {
			continue
		}
		ed := p.g.Edges[e]
		a, b := p.node(ed.U), p.node(ed.V)
		inc[a] = append(inc[a], e)
		inc[b] = append(inc[b], e)
	}
	sideA := map[int]bool{kp.n1: true}
	stack := []int{kp.n1}
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range inc[nd] {
			ed := p.g.Edges[e]
			o := p.node(ed.U)
			if o == nd {
				o = p.node(ed.V)
			}
			if !sideA[o] {
				sideA[o] = true
				stack = append(stack, o)
			}
		}
	}
	for v := 0; v < p.n; v++ {
		nd := p.node(v)
		switch {
		case nd < p.k:
			if sideA[nd] {
				c.side[v] = 1
			} else {
				c.side[v] = 2
			}
		case len(inc[nd]) > 0:
			if sideA[nd] {
				c.side[v] = 1
			} else {
				c.side[v] = 2
			}
		default:
			c.side[v] = 0
		}
	}
	for _, e := range kp.edges {
		c.inP[e] = false
	}
	bound := kp.cost + s.mcost
	var cands []moveCand
	for dir := int8(1); dir <= 2; dir++ {
		src, dst := dir, 3-dir
		w := p.ws
		w.reset()
		for v := 0; v < p.n; v++ {
			if c.side[v] == src {
				w.seed(v, 0)
			}
		}
		var found []int
		p.runDijkstra(w, func(v int) bool { return c.side[v] != dst }, nil, func(v int) bool {
			if w.dist[v] >= bound {
				return false
			}
			if c.side[v] == dst {
				found = append(found, v)
			}
			return true
		})
		for _, b := range found {
			a := int(w.root[b])
			cq := w.dist[b]
			est := cq - kp.cost + c.repairDelta(s, []int{kp.x1, kp.x2, a, b})
			var path []int
			for x := b; int(w.pred[x]) >= 0; {
				e := int(w.pred[x])
				path = append(path, e)
				x = p.other(e, x)
			}
			cands = append(cands, moveCand{est: est, a: a, b: b, cq: cq, path: path})
		}
		w.reset()
	}
	return cands
}

// apply replaces key path kp by candidate m; if mate is nil the matching is
// recomputed exactly.
func (c *lsCtx) apply(s *sol, kp keyPath, m moveCand, mate []int32) {
	p := c.p
	for _, e := range kp.edges {
		s.inT[e] = false
		ed := p.g.Edges[e]
		s.degT[ed.U]--
		s.degT[ed.V]--
		s.tcost -= ed.Cost
	}
	nl := s.tList[:0]
	for _, e := range s.tList {
		if s.inT[e] {
			nl = append(nl, e)
		}
	}
	for _, e := range m.path {
		if s.inT[e] {
			panic("rpp: internal error: exchange path reuses a connector edge")
		}
		s.inT[e] = true
		ed := p.g.Edges[e]
		s.degT[ed.U]++
		s.degT[ed.V]++
		nl = append(nl, e)
	}
	s.tList = nl
	// recompute tcost exactly to avoid drift
	s.tcost = 0
	for _, e := range s.tList {
		s.tcost += p.g.Edges[e].Cost
	}
	s.odd = p.oddOf(s.degT)
	if mate != nil {
		copy(s.mate, mate)
	} else {
		s.mcost = p.matchInto(s.odd, s.mate)
	}
}

// localSearch applies improving key-path exchanges until none is left.
func (c *lsCtx) localSearch(s *sol) {
	for !c.deadline() && c.exchangePass(s, nil) {
	}
}
