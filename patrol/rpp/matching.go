package rpp

// This file holds an exact maximum-weight matching for general graphs: a Go
// port of the O(n^3) primal-dual blossom algorithm of Edmonds in the form
// published by Joris van Rantwijk (mwmatching; after Galil 1986 and Gabow
// 1973). Weights are int64 so that every comparison is exact: vertex duals
// are stored doubled, which keeps all dual values integral for integral
// weights.

// mwEdge is an undirected edge of the matching graph.
type mwEdge struct {
	i, j int
	w    int64
}

// maxWeightMatching returns mate, with mate[v] the vertex matched to v or -1.
// Vertices are 0..n-1; edges must not be loops and there must be at most one
// edge per vertex pair. With maxCard only maximum-cardinality matchings are
// considered, and among those one of maximum weight is returned.
func maxWeightMatching(n int, edges []mwEdge, maxCard bool) []int {
	m := &mwState{}
	return m.run(n, edges, maxCard)
}

// maxWeightMatchingDuals is maxWeightMatching that also returns the doubled
// vertex duals 2u(v). At termination every edge has non-negative slack
// u(i)+u(j)+sum of z(B) over blossoms B containing both - w >= 0 with z >= 0,
// matched edges are tight and blossoms with z > 0 are full; so for a perfect
// matching, a further pair (i,j) with dual[i]+dual[j] >= 2w(i,j) cannot
// improve it (LP duality for Edmonds' perfect matching polytope).
func maxWeightMatchingDuals(n int, edges []mwEdge, maxCard bool) ([]int, []int64) {
	m := &mwState{}
	mate := m.run(n, edges, maxCard)
	dual := make([]int64, n)
	if m.dualvar != nil {
		copy(dual, m.dualvar[:n])
	}
	return mate, dual
}

type mwState struct {
	nv, ne           int
	edges            []mwEdge
	endpoint         []int
	neighbend        [][]int
	mate             []int
	label            []int
	labelend         []int
	inblossom        []int
	blossomparent    []int
	blossomchilds    [][]int
	blossombase      []int
	blossomendps     [][]int
	bestedge         []int
	blossombestedges [][]int
	unused           []int
	dualvar          []int64
	allowedge        []bool
	queue            []int
	leafBuf          []int
	bestTo           []int
}

func (m *mwState) slack(k int) int64 {
	e := m.edges[k]
	return m.dualvar[e.i] + m.dualvar[e.j] - 2*e.w
}

func (m *mwState) leaves(b int, out []int) []int {
	if b < m.nv {
		return append(out, b)
	}
	for _, t := range m.blossomchilds[b] {
		if t < m.nv {
			out = append(out, t)
		} else {
			out = m.leaves(t, out)
		}
	}
	return out
}

func wrapIdx(j, l int) int {
	j %= l
	if j < 0 {
		j += l
	}
	return j
}

func (m *mwState) assignLabel(w, t, p int) {
	for {
		b := m.inblossom[w]
		m.label[w], m.label[b] = t, t
		m.labelend[w], m.labelend[b] = p, p
		m.bestedge[w], m.bestedge[b] = -1, -1
		if t == 1 {
			m.queue = m.leaves(b, m.queue)
			return
		}
		// T-blossom: label its mate S (iteratively instead of recursively).
		base := m.blossombase[b]
		mb := m.mate[base]
		w, t, p = m.endpoint[mb], 1, mb^1
	}
}

func (m *mwState) scanBlossom(v, w int) int {
	var path []int
	base := -1
	for v != -1 || w != -1 {
		b := m.inblossom[v]
		if m.label[b]&4 != 0 {
			base = m.blossombase[b]
			break
		}
		path = append(path, b)
		m.label[b] = 5
		if m.labelend[b] == -1 {
			v = -1
		} else {
			v = m.endpoint[m.labelend[b]]
			b = m.inblossom[v]
			v = m.endpoint[m.labelend[b]]
		}
		if w != -1 {
			v, w = w, v
		}
	}
	for _, b := range path {
		m.label[b] = 1
	}
	return base
}

func (m *mwState) addBlossom(base, k int) {
	v, w := m.edges[k].i, m.edges[k].j
	bb := m.inblossom[base]
	bv := m.inblossom[v]
	bw := m.inblossom[w]
	b := m.unused[len(m.unused)-1]
	m.unused = m.unused[:len(m.unused)-1]
	m.blossombase[b] = base
	m.blossomparent[b] = -1
	m.blossomparent[bb] = b
	path := []int{}
	endps := []int{}
	for bv != bb {
		m.blossomparent[bv] = b
		path = append(path, bv)
		endps = append(endps, m.labelend[bv])
		v = m.endpoint[m.labelend[bv]]
		bv = m.inblossom[v]
	}
	path = append(path, bb)
	reverseInts(path)
	reverseInts(endps)
	endps = append(endps, 2*k)
	for bw != bb {
		m.blossomparent[bw] = b
		path = append(path, bw)
		endps = append(endps, m.labelend[bw]^1)
		w = m.endpoint[m.labelend[bw]]
		bw = m.inblossom[w]
	}
	m.blossomchilds[b] = path
	m.blossomendps[b] = endps
	m.label[b] = 1
	m.labelend[b] = m.labelend[bb]
	m.dualvar[b] = 0
	m.leafBuf = m.leaves(b, m.leafBuf[:0])
	for _, x := range m.leafBuf {
		if m.label[m.inblossom[x]] == 2 {
			m.queue = append(m.queue, x)
		}
		m.inblossom[x] = b
	}
	// Compute blossombestedges[b].
	var order []int
	consider := func(k int) {
		j := m.edges[k].j
		if m.inblossom[j] == b {
			j = m.edges[k].i
		}
		bj := m.inblossom[j]
		if bj != b && m.label[bj] == 1 {
			cur := m.bestTo[bj]
			if cur == -1 {
				order = append(order, bj)
				m.bestTo[bj] = k
			} else if m.slack(k) < m.slack(cur) {
				m.bestTo[bj] = k
			}
		}
	}
	for _, sb := range path {
		if m.blossombestedges[sb] == nil {
			var lv []int
			lv = m.leaves(sb, lv)
			for _, x := range lv {
				for _, p := range m.neighbend[x] {
					consider(p / 2)
				}
			}
		} else {
			for _, kk := range m.blossombestedges[sb] {
				consider(kk)
			}
		}
		m.blossombestedges[sb] = nil
		m.bestedge[sb] = -1
	}
	list := make([]int, 0, len(order))
	for _, bj := range order {
		list = append(list, m.bestTo[bj])
		m.bestTo[bj] = -1
	}
	m.blossombestedges[b] = list
	m.bestedge[b] = -1
	for _, kk := range list {
		if m.bestedge[b] == -1 || m.slack(kk) < m.slack(m.bestedge[b]) {
			m.bestedge[b] = kk
		}
	}
}

func reverseInts(a []int) {
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
	}
}

func (m *mwState) expandBlossom(b int, endstage bool) {
	for _, s := range m.blossomchilds[b] {
		m.blossomparent[s] = -1
		if s < m.nv {
			m.inblossom[s] = s
		} else if endstage && m.dualvar[s] == 0 {
			m.expandBlossom(s, endstage)
		} else {
			m.leafBuf = m.leaves(s, m.leafBuf[:0])
			for _, v := range m.leafBuf {
				m.inblossom[v] = s
			}
		}
	}
	if !endstage && m.label[b] == 2 {
		childs := m.blossomchilds[b]
		endps := m.blossomendps[b]
		L := len(childs)
		entrychild := m.inblossom[m.endpoint[m.labelend[b]^1]]
		j := 0
		for idx, c := range childs {
			if c == entrychild {
				j = idx
				break
			}
		}
		var jstep, endptrick int
		if j&1 != 0 {
			j -= L
			jstep = 1
			endptrick = 0
		} else {
			jstep = -1
			endptrick = 1
		}
		p := m.labelend[b]
		for j != 0 {
			m.label[m.endpoint[p^1]] = 0
			m.label[m.endpoint[endps[wrapIdx(j-endptrick, L)]^endptrick^1]] = 0
			m.assignLabel(m.endpoint[p^1], 2, p)
			m.allowedge[endps[wrapIdx(j-endptrick, L)]/2] = true
			j += jstep
			p = endps[wrapIdx(j-endptrick, L)] ^ endptrick
			m.allowedge[p/2] = true
			j += jstep
		}
		bv := childs[wrapIdx(j, L)]
		m.label[m.endpoint[p^1]] = 2
		m.label[bv] = 2
		m.labelend[m.endpoint[p^1]] = p
		m.labelend[bv] = p
		m.bestedge[bv] = -1
		j += jstep
		for childs[wrapIdx(j, L)] != entrychild {
			bv = childs[wrapIdx(j, L)]
			if m.label[bv] == 1 {
				j += jstep
				continue
			}
			m.leafBuf = m.leaves(bv, m.leafBuf[:0])
			found := -1
			for _, v := range m.leafBuf {
				if m.label[v] != 0 {
					found = v
					break
				}
			}
			if found >= 0 {
				v := found
				m.label[v] = 0
				m.label[m.endpoint[m.mate[m.blossombase[bv]]]] = 0
				m.assignLabel(v, 2, m.labelend[v])
			}
			j += jstep
		}
	}
	m.label[b] = -1
	m.labelend[b] = -1
	m.blossomchilds[b] = nil
	m.blossomendps[b] = nil
	m.blossombase[b] = -1
	m.blossombestedges[b] = nil
	m.bestedge[b] = -1
	m.unused = append(m.unused, b)
}

func (m *mwState) augmentBlossom(b, v int) {
	t := v
	for m.blossomparent[t] != b {
		t = m.blossomparent[t]
	}
	if t >= m.nv {
		m.augmentBlossom(t, v)
	}
	childs := m.blossomchilds[b]
	endps := m.blossomendps[b]
	L := len(childs)
	i := 0
	for idx, c := range childs {
		if c == t {
			i = idx
			break
		}
	}
	j := i
	var jstep, endptrick int
	if i&1 != 0 {
		j -= L
		jstep = 1
		endptrick = 0
	} else {
		jstep = -1
		endptrick = 1
	}
	for j != 0 {
		j += jstep
		t = childs[wrapIdx(j, L)]
		p := endps[wrapIdx(j-endptrick, L)] ^ endptrick
		if t >= m.nv {
			m.augmentBlossom(t, m.endpoint[p])
		}
		j += jstep
		t = childs[wrapIdx(j, L)]
		if t >= m.nv {
			m.augmentBlossom(t, m.endpoint[p^1])
		}
		m.mate[m.endpoint[p]] = p ^ 1
		m.mate[m.endpoint[p^1]] = p
	}
	nc := make([]int, 0, L)
	nc = append(nc, childs[i:]...)
	nc = append(nc, childs[:i]...)
	ne := make([]int, 0, L)
	ne = append(ne, endps[i:]...)
	ne = append(ne, endps[:i]...)
	m.blossomchilds[b] = nc
	m.blossomendps[b] = ne
	m.blossombase[b] = m.blossombase[nc[0]]
}

func (m *mwState) augmentMatching(k int) {
	v, w := m.edges[k].i, m.edges[k].j
	for pass := 0; pass < 2; pass++ {
		var s, p int
		if pass == 0 {
			s, p = v, 2*k+1
		} else {
			s, p = w, 2*k
		}
		for {
			bs := m.inblossom[s]
			if bs >= m.nv {
				m.augmentBlossom(bs, s)
			}
			m.mate[s] = p
			if m.labelend[bs] == -1 {
				break
			}
			t := m.endpoint[m.labelend[bs]]
			bt := m.inblossom[t]
			s = m.endpoint[m.labelend[bt]]
			j := m.endpoint[m.labelend[bt]^1]
			if bt >= m.nv {
				m.augmentBlossom(bt, j)
			}
			m.mate[j] = m.labelend[bt]
			p = m.labelend[bt] ^ 1
		}
	}
}

func (m *mwState) run(n int, edges []mwEdge, maxCard bool) []int {
	mate := make([]int, n)
	for i := range mate {
		mate[i] = -1
	}
	if len(edges) == 0 || n == 0 {
		return mate
	}
	m.nv, m.ne, m.edges = n, len(edges), edges
	nv, ne := n, len(edges)
	var maxw int64
	for _, e := range edges {
		if e.w > maxw {
			maxw = e.w
		}
	}
	m.endpoint = make([]int, 2*ne)
	for p := range m.endpoint {
		if p%2 == 0 {
			m.endpoint[p] = edges[p/2].i
		} else {
			m.endpoint[p] = edges[p/2].j
		}
	}
	m.neighbend = make([][]int, nv)
	for k, e := range edges {
		m.neighbend[e.i] = append(m.neighbend[e.i], 2*k+1)
		m.neighbend[e.j] = append(m.neighbend[e.j], 2*k)
	}
	m.mate = mate
	m.label = make([]int, 2*nv)
	m.labelend = make([]int, 2*nv)
	m.inblossom = make([]int, nv)
	m.blossomparent = make([]int, 2*nv)
	m.blossomchilds = make([][]int, 2*nv)
	m.blossombase = make([]int, 2*nv)
	m.blossomendps = make([][]int, 2*nv)
	m.bestedge = make([]int, 2*nv)
	m.blossombestedges = make([][]int, 2*nv)
	m.dualvar = make([]int64, 2*nv)
	m.allowedge = make([]bool, ne)
	m.bestTo = make([]int, 2*nv)
	for i := 0; i < 2*nv; i++ {
		m.labelend[i] = -1
		m.blossomparent[i] = -1
		m.bestedge[i] = -1
		m.bestTo[i] = -1
		if i < nv {
			m.inblossom[i] = i
			m.blossombase[i] = i
			m.dualvar[i] = maxw
		} else {
			m.blossombase[i] = -1
		}
	}
	for b := 2*nv - 1; b >= nv; b-- {
		m.unused = append(m.unused, b)
	}

	for stage := 0; stage < nv; stage++ {
		for i := range m.label {
			m.label[i] = 0
			m.bestedge[i] = -1
		}
		for b := nv; b < 2*nv; b++ {
			m.blossombestedges[b] = nil
		}
		for k := range m.allowedge {
			m.allowedge[k] = false
		}
		m.queue = m.queue[:0]
		for v := 0; v < nv; v++ {
			if m.mate[v] == -1 && m.label[m.inblossom[v]] == 0 {
				m.assignLabel(v, 1, -1)
			}
		}
		augmented := false
		for {
			for len(m.queue) > 0 && !augmented {
				v := m.queue[len(m.queue)-1]
				m.queue = m.queue[:len(m.queue)-1]
				for _, p := range m.neighbend[v] {
					k := p / 2
					w := m.endpoint[p]
					if m.inblossom[v] == m.inblossom[w] {
						continue
					}
					var kslack int64
					if !m.allowedge[k] {
						kslack = m.slack(k)
						if kslack <= 0 {
							m.allowedge[k] = true
						}
					}
					if m.allowedge[k] {
						if m.label[m.inblossom[w]] == 0 {
							m.assignLabel(w, 2, p^1)
						} else if m.label[m.inblossom[w]] == 1 {
							base := m.scanBlossom(v, w)
							if base >= 0 {
								m.addBlossom(base, k)
							} else {
								m.augmentMatching(k)
								augmented = true
								break
							}
						} else if m.label[w] == 0 {
							m.label[w] = 2
							m.labelend[w] = p ^ 1
						}
					} else if m.label[m.inblossom[w]] == 1 {
						b := m.inblossom[v]
						if m.bestedge[b] == -1 || kslack < m.slack(m.bestedge[b]) {
							m.bestedge[b] = k
						}
					} else if m.label[w] == 0 {
						if m.bestedge[w] == -1 || kslack < m.slack(m.bestedge[w]) {
							m.bestedge[w] = k
						}
					}
				}
			}
			if augmented {
				break
			}
			deltatype := -1
			var delta int64
			deltaedge, deltablossom := -1, -1
			if !maxCard {
				deltatype = 1
				delta = m.dualvar[0]
				for v := 1; v < nv; v++ {
					if m.dualvar[v] < delta {
						delta = m.dualvar[v]
					}
				}
			}
			for v := 0; v < nv; v++ {
				if m.label[m.inblossom[v]] == 0 && m.bestedge[v] != -1 {
					d := m.slack(m.bestedge[v])
					if deltatype == -1 || d < delta {
						delta = d
						deltatype = 2
						deltaedge = m.bestedge[v]
					}
				}
			}
			for b := 0; b < 2*nv; b++ {
				if m.blossomparent[b] == -1 && m.label[b] == 1 && m.bestedge[b] != -1 {
					d := m.slack(m.bestedge[b]) / 2
					if deltatype == -1 || d < delta {
						delta = d
						deltatype = 3
						deltaedge = m.bestedge[b]
					}
				}
			}
			for b := nv; b < 2*nv; b++ {
				if m.blossombase[b] >= 0 && m.blossomparent[b] == -1 && m.label[b] == 2 &&
					(deltatype == -1 || m.dualvar[b] < delta) {
					delta = m.dualvar[b]
					deltatype = 4
					deltablossom = b
				}
			}
			if deltatype == -1 {
				// Max-cardinality optimum reached; final update keeps duals verifiable.
				deltatype = 1
				delta = m.dualvar[0]
				for v := 1; v < nv; v++ {
					if m.dualvar[v] < delta {
						delta = m.dualvar[v]
					}
				}
				if delta < 0 {
					delta = 0
				}
			}
			for v := 0; v < nv; v++ {
				switch m.label[m.inblossom[v]] {
				case 1:
					m.dualvar[v] -= delta
				case 2:
					m.dualvar[v] += delta
				}
			}
			for b := nv; b < 2*nv; b++ {
				if m.blossombase[b] >= 0 && m.blossomparent[b] == -1 {
					switch m.label[b] {
					case 1:
						m.dualvar[b] += delta
					case 2:
						m.dualvar[b] -= delta
					}
				}
			}
			if deltatype == 1 {
				break
			} else if deltatype == 2 {
				m.allowedge[deltaedge] = true
				i, j := m.edges[deltaedge].i, m.edges[deltaedge].j
				if m.label[m.inblossom[i]] == 0 {
					i, j = j, i
				}
				_ = j
				m.queue = append(m.queue, i)
			} else if deltatype == 3 {
				m.allowedge[deltaedge] = true
				m.queue = append(m.queue, m.edges[deltaedge].i)
			} else if deltatype == 4 {
				m.expandBlossom(deltablossom, false)
			}
		}
		if !augmented {
			break
		}
		for b := nv; b < 2*nv; b++ {
			if m.blossomparent[b] == -1 && m.blossombase[b] >= 0 && m.label[b] == 1 && m.dualvar[b] == 0 {
				m.expandBlossom(b, true)
			}
		}
	}
	for v := 0; v < nv; v++ {
		if m.mate[v] >= 0 {
			m.mate[v] = m.endpoint[m.mate[v]]
		}
	}
	return m.mate
}
