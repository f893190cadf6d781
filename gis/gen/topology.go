package gen

import "math"

// Removal preference classes (higher = left out first).
const (
	kcKeep uint8 = iota // trunks, mains, bridges: never left out
	kcOrdinary
	kcPark
	kcBank // a street ending at the river bank or the railway
)

// topology decides which lattice edges become pipes and their status, so
// that exactly target grid pipes remain and the in-service network is
// connected. It returns the number of grid pipes.
func (g *city) topology(target int) int {
	r := g.rng
	nx, ny := g.nx, g.ny
	nn := nx * ny
	g.est = make([]uint8, 2*nn)
	g.kcls = make([]uint8, 2*nn)
	E := 0
	g.eachLatticeEdge(func(e, a, b int) {
		g.est[e] = stKept
		E++
		i, j := a%nx, a/nx
		var cls uint8
		if e&1 == 0 {
			cls = g.rowCls[j]
		} else {
			cls = g.colCls[i]
		}
		kc := kcOrdinary
		if cls >= clsMain {
			kc = kcKeep
		}
		switch {
		case e&1 == 1 && j == g.riverRow:
			if kc == kcKeep || r.Float64() < 0.2 {
				kc = kcKeep // a bridge
			} else {
				kc = kcBank
			}
		case e&1 == 0 && i == g.railCol:
			if kc == kcKeep || r.Float64() < 0.15 {
				kc = kcKeep // an underpass
			} else {
				kc = kcBank
			}
		}
		g.kcls[e] = kc
	})
	R := E - target // edges to leave out
	// Parks: nodes whose four streets are small, left out whole.
	if R > 0 {
		holes := int(math.Ceil(0.4 * float64(R) / 4))
		for tries := 0; holes > 0 && tries < 30*holes+100; tries++ {
			i, j := 1+r.IntN(max(1, nx-2)), 1+r.IntN(max(1, ny-2))
			if g.park(i, j) {
				holes--
				if r.Float64() < 0.25 && g.park(i+1, j) {
					holes--
				}
			}
		}
	}
	// Kruskal in shuffled order, least wanted removals last: the spanning
	// tree never loses an edge, so whatever else goes, the city holds together.
	ord := make([]int32, 0, E)
	g.eachLatticeEdge(func(e, a, b int) { ord = append(ord, int32(e)) })
	r.Shuffle(len(ord), func(a, b int) { ord[a], ord[b] = ord[b], ord[a] })
	var start [5]int
	for _, e := range ord {
		start[g.kcls[e]+1]++
	}
	for k := 1; k < 5; k++ {
		start[k] += start[k-1]
	}
	sorted := make([]int32, len(ord))
	fill := start
	for _, e := range ord {
		k := g.kcls[e]
		sorted[fill[k]] = e
		fill[k]++
	}
	ord = nil
	tree := make([]bool, 2*nn)
	uf := newUF(nn)
	for _, e := range sorted {
		a, b := g.ends(int(e))
		if uf.union(int32(a), int32(b)) {
			tree[e] = true
		}
	}
	removed := 0
	for k := kcBank; k >= kcOrdinary && removed < R; k-- {
		for _, e := range sorted[start[k]:start[k+1]] {
			if removed >= R {
				break
			}
			if !tree[e] {
				g.est[e] = stRemoved
				removed++
			}
		}
	}
	// Abandoned and planned pipes: ordinary streets off the tree.
	nAb := max(1, int(math.Round(0.005*float64(g.opt.Pipes))))
	nPl := max(1, int(math.Round(0.002*float64(g.opt.Pipes))))
	elig := 0
	ordinary := sorted[start[kcOrdinary]:start[kcOrdinary+1]]
	for _, e := range ordinary {
		if !tree[e] && g.est[e] == stKept {
			elig++
		}
	}
	need := min(nAb+nPl, elig)
	for _, e := range ordinary {
		if need == 0 {
			break
		}
		if tree[e] || g.est[e] != stKept {
			continue
		}
		if r.IntN(elig) < need {
			if r.IntN(need) < nPl {
				g.est[e] = stPlanned
				nPl--
			} else {
				g.est[e] = stAbandoned
				nAb--
			}
			need--
		}
		elig--
	}
	return E - removed
}

// park marks node (i, j)'s four streets as a park if they are all small.
func (g *city) park(i, j int) bool {
	nx, ny := g.nx, g.ny
	if i < 1 || j < 1 || i >= nx-1 || j >= ny-1 {
		return false
	}
	if g.rowCls[j] != clsSmall || g.colCls[i] != clsSmall {
		return false
	}
	if j == g.riverRow || j == g.riverRow+1 || i == g.railCol || i == g.railCol+1 {
		return false
	}
	n := j*nx + i
	es := [4]int{2 * n, 2*n + 1, 2 * (n - 1), 2*(n-nx) + 1}
	for _, e := range es {
		if g.est[e] != stKept || g.kcls[e] != kcOrdinary {
			return false
		}
	}
	for _, e := range es {
		g.kcls[e] = kcPark
	}
	return true
}

// ends returns the nodes of lattice edge e.
func (g *city) ends(e int) (a, b int) {
	a = e / 2
	if e&1 == 0 {
		return a, a + 1
	}
	return a, a + g.nx
}
