package rpp

import (
	"math"
)

// costScale returns a power of two s such that round(c*s) for every cost c in
// [0, maxCost] fits comfortably in an int64 matching weight (at most 2^40).
// Scaling by a power of two is exact for costs with few fractional bits
// (in particular for integral costs below 2^40), so the matching is exact
// for such costs and exact up to a relative 2^-40 rounding otherwise.
func costScale(maxCost float64) float64 {
	s := 1.0
	if maxCost <= 0 || math.IsInf(maxCost, 0) || math.IsNaN(maxCost) {
		return s
	}
	for maxCost*s > 1<<40 {
		s /= 2
	}
	for maxCost*s*2 <= 1<<40 && s < 1<<20 {
		s *= 2
	}
	return s
}

// pairCost is a candidate pair for a minimum-cost perfect matching.
type pairCost struct {
	i, j int
	c    float64
}

// minCostMatching computes a minimum-cost maximum-cardinality matching on
// vertices 0..n-1 using only the candidate pairs (at most one per vertex
// pair, no loops, costs >= 0). On a complete candidate graph with even n the
// result is an exact minimum-cost perfect matching. It returns mate (-1 for
// unmatched vertices).
func minCostMatching(n int, pairs []pairCost) []int {
	if n == 0 {
		return nil
	}
	maxC := 0.0
	for _, p := range pairs {
		if p.c > maxC {
			maxC = p.c
		}
	}
	s := costScale(maxC)
	W := int64(math.Round(maxC*s)) + 1
	edges := make([]mwEdge, len(pairs))
	for k, p := range pairs {
		edges[k] = mwEdge{p.i, p.j, W - int64(math.Round(p.c*s))}
	}
	return maxWeightMatching(n, edges, true)
}

// distOracle gives distances between the points 0..m-1 of a matching
// problem.
type distOracle interface {
	// nearest calls visit for (at least) the k nearest other points of i.
	nearest(i, k int, visit func(j int, d float64))
	// within calls visit for every other point j with d(i,j) < radius
	// (it may report more).
	within(i int, radius float64, visit func(j int, d float64))
}

// exactPerfectMatching returns an exact minimum-cost perfect matching of the
// m (even) points of o, or ok=false if none exists. It solves the blossom
// algorithm on the k-nearest candidate pairs (k doubled while no perfect
// matching exists), then prices every other pair with the LP duals: a pair
// whose reduced cost is negative is added and the problem re-solved. When no
// pair is violated the duals certify optimality over the complete graph.
func exactPerfectMatching(m int, o distOracle) (mate []int, cost float64, ok bool) {
	if m == 0 {
		return nil, 0, true
	}
	if m%2 == 1 {
		return nil, 0, false
	}
	type key struct{ i, j int32 }
	cand := map[key]float64{}
	add := func(i, j int, d float64) {
		if i == j || math.IsInf(d, 1) {
			return
		}
		if i > j {
			i, j = j, i
		}
		k := key{int32(i), int32(j)}
		if _, ok := cand[k]; !ok {
			cand[k] = d
		}
	}
	k := 6
	kUsed := 0
	for {
		if k != kUsed {
			for i := 0; i < m; i++ {
				o.nearest(i, k, func(j int, d float64) { add(i, j, d) })
			}
			kUsed = k
		}
		keys := make([]key, 0, len(cand))
		maxC := 0.0
		for kk, d := range cand {
			keys = append(keys, kk)
			if d > maxC {
				maxC = d
			}
		}
		s := costScale(maxC)
		W := int64(math.Round(maxC*s)) + 1
		edges := make([]mwEdge, len(keys))
		for x, kk := range keys {
			edges[x] = mwEdge{int(kk.i), int(kk.j), W - int64(math.Round(cand[kk]*s))}
		}
		mt, dual := maxWeightMatchingDuals(m, edges, true)
		perfect := true
		for _, j := range mt {
			if j < 0 {
				perfect = false
				break
			}
		}
		if !perfect {
			if k >= m-1 {
				return nil, 0, false
			}
			k *= 2
			if k > m-1 {
				k = m - 1
			}
			continue
		}
		minDual := dual[0]
		for _, v := range dual {
			if v < minDual {
				minDual = v
			}
		}
		violated := 0
		for i := 0; i < m; i++ {
			// d(i,j)*s < W - (dual[i]+dual[j])/2 is necessary for a violation.
			radius := (float64(W) - float64(dual[i]+minDual)/2) / s
			o.within(i, radius*(1+1e-12)+1e-12, func(j int, d float64) {
				if j == i {
					return
				}
				a, b := i, j
				if a > b {
					a, b = b, a
				}
				if _, ok := cand[key{int32(a), int32(b)}]; ok {
					return
				}
				w := W - int64(math.Round(d*s))
				if dual[i]+dual[j]-2*w < 0 {
					add(i, j, d)
					violated++
				}
			})
		}
		if violated == 0 {
			cost = 0
			for i, j := range mt {
				if j > i {
					a, b := i, j
					cost += cand[key{int32(a), int32(b)}]
				}
			}
			return mt, cost, true
		}
	}
}

// matrixOracle is a distOracle over an explicit symmetric distance function.
type matrixOracle struct {
	m   int
	d   func(i, j int) float64
	buf []int
}

func (o *matrixOracle) nearest(i, k int, visit func(j int, d float64)) {
	if k >= o.m-1 {
		for j := 0; j < o.m; j++ {
			if j != i {
				visit(j, o.d(i, j))
			}
		}
		return
	}
	// partial selection of the k smallest
	if o.buf == nil {
		o.buf = make([]int, 0, o.m)
	}
	b := o.buf[:0]
	for j := 0; j < o.m; j++ {
		if j != i {
			b = append(b, j)
		}
	}
	di := func(x int) float64 { return o.d(i, b[x]) }
	lo, hi := 0, len(b)-1
	for lo < hi { // quickselect so that b[:k] are the k nearest
		piv := di((lo + hi) / 2)
		l, r := lo, hi
		for l <= r {
			for di(l) < piv {
				l++
			}
			for di(r) > piv {
				r--
			}
			if l <= r {
				b[l], b[r] = b[r], b[l]
				l++
				r--
			}
		}
		if k-1 <= r {
			hi = r
		} else if k-1 >= l {
			lo = l
		} else {
			break
		}
	}
	for _, j := range b[:k] {
		visit(j, o.d(i, j))
	}
	o.buf = b
}

func (o *matrixOracle) within(i int, radius float64, visit func(j int, d float64)) {
	for j := 0; j < o.m; j++ {
		if j != i {
			if d := o.d(i, j); d < radius {
				visit(j, d)
			}
		}
	}
}

// denseMatchLimit: up to this many points the blossom algorithm runs on the
// complete graph directly; above it, on k-nearest candidates with pricing.
const denseMatchLimit = 24

// minCostPerfectMatchingDense returns an exact minimum-cost perfect matching
// of the n (even) points whose pairwise costs are given by d(i, j).
func minCostPerfectMatchingDense(n int, d func(i, j int) float64) ([]int, float64) {
	mate := make([]int, n)
	switch n {
	case 0:
		return mate, 0
	case 2:
		mate[0], mate[1] = 1, 0
		return mate, d(0, 1)
	case 4:
		// Three possible pairings; pick the cheapest.
		c1 := d(0, 1) + d(2, 3)
		c2 := d(0, 2) + d(1, 3)
		c3 := d(0, 3) + d(1, 2)
		switch {
		case c1 <= c2 && c1 <= c3:
			mate[0], mate[1], mate[2], mate[3] = 1, 0, 3, 2
			return mate, c1
		case c2 <= c3:
			mate[0], mate[2], mate[1], mate[3] = 2, 0, 3, 1
			return mate, c2
		default:
			mate[0], mate[3], mate[1], mate[2] = 3, 0, 2, 1
			return mate, c3
		}
	}
	if n > denseMatchLimit {
		mt, c, ok := exactPerfectMatching(n, &matrixOracle{m: n, d: d})
		if ok {
			return mt, c
		}
	}
	pairs := make([]pairCost, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			pairs = append(pairs, pairCost{i, j, d(i, j)})
		}
	}
	mate = minCostMatching(n, pairs)
	cost := 0.0
	for i, j := range mate {
		if j > i {
			cost += d(i, j)
		}
	}
	return mate, cost
}
