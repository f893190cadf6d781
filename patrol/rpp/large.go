package rpp

import (
	"context"
	"math"
	"time"
)

// solveLarge handles graphs above apspLimit: construction, matching (exact
// up to ExactMatchingLimit odd vertices, k-nearest candidates above),
// deadhead-pair elimination, and re-derivation of the connector from the
// remaining deadhead followed by re-matching, while that gains and time
// remains.
func (p *problem) solveLarge(ctx context.Context, limit time.Duration) ([]int32, float64) {
	oddR := p.oddOf(make([]int32, p.n))
	pairsR, mR, exactR := p.matchLarge(oddR)
	if !exactR {
		mR = p.nnBound(oddR)
	}
	t0, mst := p.connectTree(0, nil)
	lb := p.reqCost + math.Max(mR, p.componentTourBound(mst))
	if p.k <= 1 {
		return p.deadheadCounts(nil, pairsR), lb
	}
	deadline := time.Now().Add(limit)
	build := func(tList []int) []int32 {
		degT := make([]int32, p.n)
		for _, e := range tList {
			degT[p.g.Edges[e].U]++
			degT[p.g.Edges[e].V]++
		}
		pairs, _, _ := p.matchLarge(p.oddOf(degT))
		cnt := p.deadheadCounts(tList, pairs)
		p.dropPairs(cnt)
		return cnt
	}
	best := build(p.minimalize(t0, nil))
	bestCost := sumCost(p, best)
	for limit > 0 && ctx.Err() == nil && time.Now().Before(deadline) {
		var sup []int
		for e, c := range best {
			if c > 0 && !p.g.Edges[e].Required {
				sup = append(sup, e)
			}
		}
		cnt := build(p.minimalize(sup, nil))
		c := sumCost(p, cnt)
		if c >= bestCost-1e-9 {
			break
		}
		best, bestCost = cnt, c
	}
	return best, lb
}

// graphOracle is a distOracle over graph vertices pts using bounded
// Dijkstra searches.
type graphOracle struct {
	p   *problem
	pts []int
	idx []int32 // vertex -> point index or -1
}

func newGraphOracle(p *problem, pts []int) *graphOracle {
	o := &graphOracle{p: p, pts: pts, idx: make([]int32, p.n)}
	for i := range o.idx {
		o.idx[i] = -1
	}
	for i, v := range pts {
		o.idx[v] = int32(i)
	}
	return o
}

func (o *graphOracle) nearest(i, k int, visit func(j int, d float64)) {
	w := o.p.ws
	w.reset()
	w.seed(o.pts[i], 0)
	found := 0
	o.p.runDijkstra(w, nil, nil, func(v int) bool {
		if j := int(o.idx[v]); j >= 0 && j != i {
			visit(j, w.dist[v])
			found++
			return found < k
		}
		return true
	})
	w.reset()
}

func (o *graphOracle) within(i int, radius float64, visit func(j int, d float64)) {
	w := o.p.ws
	w.reset()
	w.seed(o.pts[i], 0)
	o.p.runDijkstra(w, nil, nil, func(v int) bool {
		if w.dist[v] >= radius {
			return false
		}
		if j := int(o.idx[v]); j >= 0 && j != i {
			visit(j, w.dist[v])
		}
		return true
	})
	w.reset()
}

// matchLarge computes a min-cost perfect matching of odd without all-pairs
// distances: exact (candidates + dual pricing) when len(odd) <=
// ExactMatchingLimit, otherwise on k-nearest candidates only, matching the
// vertices left over in further rounds with more candidates.
func (p *problem) matchLarge(odd []int) (pairs [][2]int, cost float64, exact bool) {
	m := len(odd)
	if m == 0 {
		return nil, 0, true
	}
	if m <= ExactMatchingLimit {
		mate, c, ok := exactPerfectMatching(m, newGraphOracle(p, odd))
		if ok {
			for i, j := range mate {
				if j > i {
					pairs = append(pairs, [2]int{odd[i], odd[j]})
				}
			}
			return pairs, c, true
		}
	}
	left := odd
	k := knnMatch
	for len(left) > 0 {
		n := len(left)
		o := newGraphOracle(p, left)
		best := map[[2]int]float64{}
		for i := range left {
			o.nearest(i, k, func(j int, d float64) {
				key := [2]int{i, j}
				if i > j {
					key = [2]int{j, i}
				}
				if old, ok := best[key]; !ok || d < old {
					best[key] = d
				}
			})
		}
		cands := make([]pairCost, 0, len(best))
		for kk, d := range best {
			cands = append(cands, pairCost{kk[0], kk[1], d})
		}
		mate := minCostMatching(n, cands)
		var rest []int
		for i, j := range mate {
			switch {
			case j < 0:
				rest = append(rest, left[i])
			case j > i:
				pairs = append(pairs, [2]int{left[i], left[j]})
				cost += best[[2]int{i, j}]
			}
		}
		if len(rest) == len(left) {
			k = n // no progress: use all pairs
		}
		left = rest
		k *= 2
	}
	return pairs, cost, false
}

// nnBound is a valid lower bound on the min perfect matching of pts: half
// the sum of each point's distance to its nearest other point.
func (p *problem) nnBound(pts []int) float64 {
	nn := make([]float64, len(pts))
	for i := range nn {
		nn[i] = math.Inf(1)
	}
	o := newGraphOracle(p, pts)
	for i := range pts {
		o.nearest(i, 1, func(j int, d float64) {
			if d < nn[i] {
				nn[i] = d
			}
		})
	}
	t := 0.0
	for _, d := range nn {
		if !math.IsInf(d, 1) {
			t += d / 2
		}
	}
	return t
}
