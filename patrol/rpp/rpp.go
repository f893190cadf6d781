// Package rpp solves the undirected Rural Postman Problem (RPP): find a
// minimum-cost closed walk that traverses every required edge at least once,
// using any edges of the graph. District managers' daily patrol routes use
// it with the pipes due today as required edges and the whole network (pipes
// and roads that can be walked) as the graph.
//
// The solver is a Frederickson-type construction (component MST + exact
// minimum-weight perfect matching + Euler tour) followed by a time-bounded
// improvement phase (key-path exchange local search over component
// connections with an exact matching oracle, iterated with kicks and
// randomised restarts, and deadhead-pair elimination). See Solve.
package rpp

import (
	"context"
	"math"
	"math/rand"
	"time"
)

// Edge is an undirected edge U-V. Required edges must be traversed (serviced)
// at least once; any edge may be traversed (deadheaded) any number of times,
// each traversal costing Cost. ID is the caller's identifier (e.g. a pipe
// index) and is not interpreted. Parallel edges and loops are allowed.
type Edge struct {
	U, V     int
	Cost     float64
	Required bool
	ID       int
}

// Graph has vertices 0..N-1 and the given edges.
type Graph struct {
	N     int
	Edges []Edge
}

// Options controls Solve.
type Options struct {
	// Depot is the vertex where the walk must start and end; -1 means any
	// start. Note that the zero value is depot 0.
	Depot int
	// TimeLimit bounds the improvement phase (construction and lower bound
	// always run to completion). 0 means the default of 200ms; a negative
	// value disables improvement.
	TimeLimit time.Duration
}

// DefaultTimeLimit is the improvement budget used when Options.TimeLimit is 0.
const DefaultTimeLimit = 200 * time.Millisecond

// Solution is a closed walk.
type Solution struct {
	// Walk is the closed walk as a vertex sequence, Walk[0] == Walk[len-1].
	// It starts at Options.Depot when that is >= 0. Without required edges the
	// walk is [Depot] (or empty when Depot is -1).
	Walk []int
	// EdgeSeq[i] is the index into Graph.Edges of the edge traversed from
	// Walk[i] to Walk[i+1]; len(EdgeSeq) == len(Walk)-1.
	EdgeSeq []int
	// Serviced[i] reports that step i services a required edge, i.e. it is
	// the first traversal of that required edge in the walk.
	Serviced []bool
	// Cost is the sum of the costs of all traversals; RequiredCost the sum
	// over serviced steps; DeadheadCost = Cost - RequiredCost.
	Cost, RequiredCost, DeadheadCost float64
	// LowerBound is a valid lower bound on the optimal cost; see Solve.
	LowerBound float64
}

// ExactMatchingLimit is the largest number of odd vertices for which the
// matching step is guaranteed exact on graphs with more than 1000 vertices
// (no all-pairs distances). On graphs with at most 1000 vertices every
// matching is exact regardless of size.
//
// Exact matchings run Edmonds' blossom algorithm on candidate pairs (the 6
// nearest odd vertices of each odd vertex) and then price all other pairs
// with the LP duals (Dijkstra searches bounded by the dual radius on large
// graphs); violated pairs are added and the matching is re-solved until the
// duals certify optimality over the complete graph. Above the limit the
// pricing is skipped: candidates are the knnMatch nearest odd vertices,
// vertices left unmatched are matched among themselves in further rounds
// with more candidates (which guarantees a perfect matching), and the result
// is a heuristic.
const ExactMatchingLimit = 1500

const knnMatch = 10

// Solve returns a closed walk covering all required edges of g, and a lower
// bound on the optimal cost.
//
// Method:
//
//  1. Components of the required subgraph (plus the depot if it is given
//     and not on a required edge) are connected by Frederickson's
//     construction: an MST over components with component-to-component
//     shortest-path distances (computed exactly by Mehlhorn's Voronoi
//     method in one multi-source Dijkstra), whose paths are added as
//     deadhead copies (the "connector" T).
//  2. The odd-degree vertices of required+T are paired by an exact minimum
//     weight perfect matching on shortest-path distances (Edmonds' blossom
//     algorithm, a port of van Rantwijk's O(n^3) mwmatching, run with
//     weights W-d and maximum cardinality; see ExactMatchingLimit for very
//     large graphs), and the pairs' shortest paths are added as deadhead.
//  3. An Euler tour (Hierholzer) of the resulting even connected multigraph,
//     rotated to start at the depot, is the walk.
//  4. Improvement, until no gain, the lower bound is reached or TimeLimit
//     elapses (graphs with at most 1000 vertices): every feasible walk is
//     dominated by some connector T plus the minimum matching of
//     odd(required+T) (see sol), so the search runs over connectors. A key
//     path of T (a maximal chain through non-terminal degree-2 vertices) is
//     removed and the two resulting subtrees are reconnected by a shortest
//     path between any pair of their vertices (HLN's ADD/DROP and 2-opt on
//     deadhead paths in connector form); candidates are ranked by a matching
//     repair estimate and the best are evaluated with the exact matching.
//     Local optima are escaped by kicks (random non-improving exchanges)
//     and by restarts of step 1 with randomly perturbed costs and with a
//     bias towards attaching connections at odd vertices. Redundant deadhead
//     is removed: two copies of an edge are dropped whenever the walk stays
//     connected (HLN's DROP), and the connector is re-derived from the
//     remaining deadhead and re-matched (never worse). On larger graphs only
//     the DROP / re-derive / re-match loop runs.
//  5. LowerBound = RequiredCost + max(M, S). Let D be the deadhead multiset
//     of any feasible walk; D makes every vertex even, so D is a T-join for
//     the odd vertices of the required subgraph and costs at least M, their
//     minimum perfect matching on shortest-path distances (a minimum T-join
//     equals that matching). D also connects all components (depot
//     included); contracting each component to a point, D becomes a
//     connected Eulerian multigraph on them, whose Euler tour, shortcut, is
//     a Hamiltonian cycle of the components in the metric closure of
//     component-to-component distances, costing at most c(D). S is a lower
//     bound on such a cycle: the Held-Karp 1-tree bound (MST of all but one
//     component plus that component's two cheapest links, maximised over
//     the component; 2*d(C1,C2) for two components) when there are at most
//     300 components (30 on graphs over 1000 vertices), else the MST; 0 for
//     one component. Both M and S bound c(D), hence so does their maximum;
//     combining them additively would not be valid, as the same deadhead
//     may serve parity and connectivity. When the matching is not exact
//     (see ExactMatchingLimit) M is replaced by the valid bound: the sum over
//     odd v of half the distance to v's nearest other odd vertex (a matched
//     pair costs at least the mean of its endpoints' nearest distances).
//     With a connected required subgraph (and depot on it) the bound is
//     RequiredCost + M, which is then also the optimum.
//
// Errors: invalid graphs (vertex out of range, negative or non-finite cost,
// depot out of range) and disconnected instances (wrapping ErrInfeasible).
// If ctx is cancelled during improvement the best walk so far is returned;
// if it is cancelled before, ctx.Err() is returned.
func Solve(ctx context.Context, g Graph, opt Options) (Solution, error) {
	if err := ctx.Err(); err != nil {
		return Solution{}, err
	}
	p, err := newProblem(g, opt.Depot)
	if err != nil {
		return Solution{}, err
	}
	if len(p.req) == 0 {
		if opt.Depot >= 0 {
			return Solution{Walk: []int{opt.Depot}, EdgeSeq: []int{}, Serviced: []bool{}}, nil
		}
		return Solution{}, nil
	}
	limit := opt.TimeLimit
	if limit == 0 {
		limit = DefaultTimeLimit
	}
	start := opt.Depot
	if start < 0 {
		start = g.Edges[p.req[0]].U
	}
	var cnt []int32
	var lb float64
	if p.apsp {
		cnt, lb = p.solveSmall(ctx, limit)
	} else {
		cnt, lb = p.solveLarge(ctx, limit)
	}
	s := p.eulerWalk(cnt, start)
	s.LowerBound = math.Min(lb, s.Cost)
	return s, nil
}

// solveSmall runs construction and improvement with all-pairs distances.
// It returns the deadhead multiset and the lower bound.
func (p *problem) solveSmall(ctx context.Context, limit time.Duration) ([]int32, float64) {
	oddR := p.oddOf(make([]int32, p.n))
	scratch := make([]int32, p.n)
	mR := p.matchInto(oddR, scratch)
	t0, mst := p.connectTree(0, nil)
	lb := p.reqCost + math.Max(mR, p.componentTourBound(mst))
	target := lb - p.reqCost + 1e-9*math.Max(1, lb)

	var cur *sol
	if p.k <= 1 {
		// Connected required subgraph: the matching of odd(R) is optimal.
		cur = &sol{inT: make([]bool, len(p.g.Edges)), degT: make([]int32, p.n), odd: oddR, mate: scratch, mcost: mR}
	} else {
		cur = p.evaluate(p.minimalize(t0, nil))
	}
	best := cur.clone()
	bestCnt := p.finalize(best)
	bestCost := sumCost(p, bestCnt)
	if limit < 0 || bestCost <= target {
		return bestCnt, lb
	}
	deadline := time.Now().Add(limit)
	checks := 0
	timeUp := func() bool {
		checks++
		if ctx.Err() != nil {
			return true
		}
		return time.Now().After(deadline)
	}
	rng := rand.New(rand.NewSource(1))
	c := &lsCtx{p: p, side: make([]int8, p.n), inP: make([]bool, len(p.g.Edges)), deadline: timeUp, nExact: 3}
	stagnant := 0
	const maxStagnant = 60
	for iter := 0; !timeUp(); iter++ {
		c.localSearch(cur)
		// Deadhead-pair elimination and re-derivation of the connector.
		for {
			cnt := p.finalize(cur)
			cc := sumCost(p, cnt)
			if cc < bestCost-1e-9 {
				best, bestCnt, bestCost = cur.clone(), cnt, cc
				stagnant = 0
			}
			if cc >= cur.total()-1e-9 || timeUp() {
				break
			}
			var sup []int
			for e, k := range cnt {
				if k > 0 && !p.g.Edges[e].Required {
					sup = append(sup, e)
				}
			}
			nx := p.evaluate(p.minimalize(sup, rng))
			if nx.total() >= cur.total()-1e-9 {
				break
			}
			cur = nx
			c.localSearch(cur)
		}
		stagnant++
		if bestCost <= target || stagnant > maxStagnant {
			break
		}
		// Next start: mostly kicks from the best, sometimes a fresh
		// randomised construction.
		if iter%4 == 3 {
			bias := 0.0
			if rng.Intn(2) == 0 {
				bias = avgCost(p) * rng.Float64()
			}
			t, _ := p.connectTree(bias, perturbation(len(p.g.Edges), 0.6, rng))
			cur = p.evaluate(p.minimalize(t, rng))
		} else {
			cur = best.clone()
			kicks := 1 + rng.Intn(2)
			for i := 0; i < kicks; i++ {
				kps := p.keyPaths(cur)
				if len(kps) == 0 {
					break
				}
				c.tryExchange(cur, kps[rng.Intn(len(kps))], true, rng.Intn)
			}
		}
	}
	return bestCnt, lb
}

// finalize expands s into a deadhead multiset and removes redundant pairs.
func (p *problem) finalize(s *sol) []int32 {
	var pairs [][2]int
	for _, u := range s.odd {
		if v := int(s.mate[u]); v > u {
			pairs = append(pairs, [2]int{u, v})
		}
	}
	cnt := p.deadheadCounts(s.tList, pairs)
	p.dropPairs(cnt)
	return cnt
}

func sumCost(p *problem, cnt []int32) float64 {
	t := 0.0
	for e, k := range cnt {
		t += float64(k) * p.g.Edges[e].Cost
	}
	return t
}

func avgCost(p *problem) float64 {
	if len(p.g.Edges) == 0 {
		return 0
	}
	t := 0.0
	for _, e := range p.g.Edges {
		t += e.Cost
	}
	return t / float64(len(p.g.Edges))
}
