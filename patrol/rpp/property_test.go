package rpp

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"testing"
	"time"
)

// randomGraph returns a connected random multigraph (spanning tree plus
// extra edges, occasionally parallel edges and loops) with a random
// non-empty set of required edges.
func randomGraph(rng *rand.Rand, n, extra int, pReq float64) Graph {
	g := Graph{N: n}
	for v := 1; v < n; v++ {
		g.Edges = append(g.Edges, Edge{U: rng.Intn(v), V: v, Cost: float64(rng.Intn(20))})
	}
	for i := 0; i < extra; i++ {
		u, v := rng.Intn(n), rng.Intn(n)
		if u == v && rng.Intn(4) != 0 {
			continue
		}
		g.Edges = append(g.Edges, Edge{U: u, V: v, Cost: float64(rng.Intn(20))})
	}
	rng.Shuffle(len(g.Edges), func(i, j int) { g.Edges[i], g.Edges[j] = g.Edges[j], g.Edges[i] })
	any := false
	for i := range g.Edges {
		g.Edges[i].ID = 100 + i
		if rng.Float64() < pReq {
			g.Edges[i].Required = true
			any = true
		}
	}
	if !any {
		g.Edges[rng.Intn(len(g.Edges))].Required = true
	}
	return g
}

// bruteRPP returns the optimal cost by enumerating deadhead multiplicities
// 0..2 per edge (an optimal walk never needs more than two deadhead copies
// of an edge: removing two copies keeps parity, and the remaining copy
// keeps connectivity).
func bruteRPP(g Graph, depot int) float64 {
	m := len(g.Edges)
	x := make([]int, m)
	best := math.Inf(1)
	var rec func(i int, cost float64)
	rec = func(i int, cost float64) {
		if cost >= best {
			return
		}
		if i == m {
			deg := make([]int, g.N)
			u := newUF(g.N)
			need := make([]bool, g.N)
			if depot >= 0 {
				need[depot] = true
			}
			for j, e := range g.Edges {
				c := x[j]
				if e.Required {
					c++
					need[e.U], need[e.V] = true, true
				}
				deg[e.U] += c
				deg[e.V] += c
				if c > 0 {
					u.union(e.U, e.V)
				}
			}
			r := -1
			for v := 0; v < g.N; v++ {
				if deg[v]%2 == 1 {
					return
				}
				if need[v] {
					if r < 0 {
						r = u.find(v)
					} else if u.find(v) != r {
						return
					}
				}
			}
			best = cost
			return
		}
		for k := 0; k <= 2; k++ {
			x[i] = k
			rec(i+1, cost+float64(k)*g.Edges[i].Cost)
		}
		x[i] = 0
	}
	base := 0.0
	for _, e := range g.Edges {
		if e.Required {
			base += e.Cost
		}
	}
	rec(0, base)
	return best
}

func TestRandomAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	optimal, total := 0, 0
	for iter := 0; iter < 150; iter++ {
		n := 2 + rng.Intn(6)
		g := randomGraph(rng, n, rng.Intn(5), 0.2+0.5*rng.Float64())
		if len(g.Edges) > 10 {
			g.Edges = g.Edges[:10]
		}
		// keep it connected: recheck, skip if not
		u := newUF(g.N)
		for _, e := range g.Edges {
			u.union(e.U, e.V)
		}
		connected := true
		for v := 1; v < g.N; v++ {
			if u.find(v) != u.find(0) {
				connected = false
			}
		}
		if !connected {
			continue
		}
		depot := -1
		if rng.Intn(2) == 0 {
			depot = rng.Intn(n)
		}
		s, err := Solve(context.Background(), g, Options{Depot: depot, TimeLimit: 5 * time.Millisecond})
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if err := Check(g, s); err != nil {
			t.Fatalf("iter %d: %v\n%+v", iter, err, g)
		}
		if depot >= 0 && len(s.Walk) > 0 && s.Walk[0] != depot {
			t.Fatalf("iter %d: walk starts at %d, depot %d", iter, s.Walk[0], depot)
		}
		opt := bruteRPP(g, depot)
		if s.Cost < opt-1e-9 {
			t.Fatalf("iter %d: cost %v below brute-force optimum %v", iter, s.Cost, opt)
		}
		if s.LowerBound > opt+1e-9 {
			t.Fatalf("iter %d: lower bound %v above optimum %v\n%+v", iter, s.LowerBound, opt, g)
		}
		total++
		if s.Cost <= opt+1e-9 {
			optimal++
		}
	}
	t.Logf("optimal on %d of %d tiny instances", optimal, total)
	if optimal < total*9/10 {
		t.Errorf("optimal on only %d of %d tiny instances", optimal, total)
	}
}

func TestRandomProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	iters := 200
	if testing.Short() {
		iters = 40
	}
	for iter := 0; iter < iters; iter++ {
		n := 2 + rng.Intn(60)
		g := randomGraph(rng, n, rng.Intn(2*n+1), 0.05+0.6*rng.Float64())
		depot := -1
		if rng.Intn(2) == 0 {
			depot = rng.Intn(n)
		}
		s, err := Solve(context.Background(), g, Options{Depot: depot, TimeLimit: 3 * time.Millisecond})
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if err := Check(g, s); err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if s.Cost < s.LowerBound-1e-9 {
			t.Fatalf("iter %d: cost %v < lower bound %v", iter, s.Cost, s.LowerBound)
		}
		reqCost := 0.0
		for _, e := range g.Edges {
			if e.Required {
				reqCost += e.Cost
			}
		}
		if s.LowerBound < reqCost-1e-9 {
			t.Fatalf("iter %d: lower bound %v below required cost %v", iter, s.LowerBound, reqCost)
		}
		if depot >= 0 && (s.Walk[0] != depot || s.Walk[len(s.Walk)-1] != depot) {
			t.Fatalf("iter %d: walk %d..%d, depot %d", iter, s.Walk[0], s.Walk[len(s.Walk)-1], depot)
		}
		// Fractional costs: scale and check invariance of validity.
		if iter%10 == 0 {
			for i := range g.Edges {
				g.Edges[i].Cost = g.Edges[i].Cost*0.37 + 0.001*float64(i%7)
			}
			s, err := Solve(context.Background(), g, Options{Depot: depot, TimeLimit: 3 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(g, s); err != nil {
				t.Fatalf("iter %d (fractional): %v", iter, err)
			}
		}
	}
}

// TestLargeGraphMode exercises the path for graphs above apspLimit with
// many required components and a depot off the required edges.
func TestLargeGraphMode(t *testing.T) {
	g := districtGraph(40, 600, 9)
	onReq := make([]bool, g.N)
	for _, e := range g.Edges {
		if e.Required {
			onReq[e.U], onReq[e.V] = true, true
		}
	}
	depot := 0
	for onReq[depot] {
		depot++
	}
	s, err := Solve(context.Background(), g, Options{Depot: depot})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(g, s); err != nil {
		t.Fatal(err)
	}
	if s.Walk[0] != depot {
		t.Fatalf("walk starts at %d", s.Walk[0])
	}
	p, _ := newProblem(g, depot)
	t.Logf("large: %d vertices, %d components, cost %.0f, lb %.0f", g.N, p.k, s.Cost, s.LowerBound)
	if p.apsp || p.k < 10 {
		t.Fatalf("test does not exercise large mode with many components (apsp=%v k=%d)", p.apsp, p.k)
	}
}

func TestSolveEdgeCases(t *testing.T) {
	ctx := context.Background()
	// No required edges.
	g := Graph{N: 3, Edges: []Edge{{U: 0, V: 1, Cost: 1}, {U: 1, V: 2, Cost: 1}}}
	s, err := Solve(ctx, g, Options{Depot: 2})
	if err != nil || len(s.Walk) != 1 || s.Walk[0] != 2 || s.Cost != 0 {
		t.Fatalf("no required, depot: %+v %v", s, err)
	}
	if err := Check(g, s); err != nil {
		t.Fatal(err)
	}
	s, err = Solve(ctx, g, Options{Depot: -1})
	if err != nil || len(s.Walk) != 0 {
		t.Fatalf("no required: %+v %v", s, err)
	}
	if err := Check(g, s); err != nil {
		t.Fatal(err)
	}
	// A required loop far from the depot.
	g = Graph{N: 3, Edges: []Edge{{U: 0, V: 1, Cost: 2}, {U: 1, V: 2, Cost: 3}, {U: 2, V: 2, Cost: 4, Required: true}}}
	s, err = Solve(ctx, g, Options{Depot: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(g, s); err != nil {
		t.Fatal(err)
	}
	if s.Cost != 14 || s.LowerBound != 14 {
		t.Fatalf("loop: cost %v lb %v, want 14", s.Cost, s.LowerBound)
	}
	// Single required edge, no depot: there and back.
	g = Graph{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: 5, Required: true}}}
	s, err = Solve(ctx, g, Options{Depot: -1})
	if err != nil || s.Cost != 10 || s.DeadheadCost != 5 || s.RequiredCost != 5 {
		t.Fatalf("single edge: %+v %v", s, err)
	}
	// Parallel required edges form an even cycle.
	g = Graph{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: 5, Required: true}, {U: 1, V: 0, Cost: 7, Required: true}}}
	s, err = Solve(ctx, g, Options{Depot: 1})
	if err != nil || s.Cost != 12 || s.Walk[0] != 1 {
		t.Fatalf("parallel: %+v %v", s, err)
	}
	// Infeasible.
	g = Graph{N: 4, Edges: []Edge{{U: 0, V: 1, Cost: 1, Required: true}, {U: 2, V: 3, Cost: 1, Required: true}}}
	if _, err := Solve(ctx, g, Options{Depot: -1}); !errors.Is(err, ErrInfeasible) {
		t.Fatalf("disconnected: %v", err)
	}
	g = Graph{N: 4, Edges: []Edge{{U: 0, V: 1, Cost: 1, Required: true}}}
	if _, err := Solve(ctx, g, Options{Depot: 3}); !errors.Is(err, ErrInfeasible) {
		t.Fatalf("unreachable depot: %v", err)
	}
	// Invalid input.
	for _, bad := range []Graph{
		{N: 2, Edges: []Edge{{U: 0, V: 2, Cost: 1, Required: true}}},
		{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: -1, Required: true}}},
		{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: math.NaN(), Required: true}}},
		{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: math.Inf(1), Required: true}}},
	} {
		if _, err := Solve(ctx, bad, Options{Depot: -1}); err == nil {
			t.Fatalf("no error for %+v", bad)
		}
	}
	if _, err := Solve(ctx, Graph{N: 2}, Options{Depot: 2}); err == nil {
		t.Fatal("no error for depot out of range")
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Solve(cctx, Graph{N: 2, Edges: []Edge{{U: 0, V: 1, Cost: 1, Required: true}}}, Options{Depot: -1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestCheckRejects(t *testing.T) {
	g := Graph{N: 3, Edges: []Edge{{U: 0, V: 1, Cost: 1, Required: true}, {U: 1, V: 2, Cost: 2, Required: true}, {U: 2, V: 0, Cost: 3}}}
	good, err := Solve(context.Background(), g, Options{Depot: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(g, good); err != nil {
		t.Fatal(err)
	}
	clone := func() Solution {
		s := good
		s.Walk = append([]int(nil), good.Walk...)
		s.EdgeSeq = append([]int(nil), good.EdgeSeq...)
		s.Serviced = append([]bool(nil), good.Serviced...)
		return s
	}
	mutations := map[string]func(s *Solution){
		"open walk":      func(s *Solution) { s.Walk[len(s.Walk)-1] = 1; s.Walk = s.Walk[:len(s.Walk)] },
		"wrong edge":     func(s *Solution) { s.EdgeSeq[0] = (s.EdgeSeq[0] + 1) % 3 },
		"short edgeseq":  func(s *Solution) { s.EdgeSeq = s.EdgeSeq[1:] },
		"cost":           func(s *Solution) { s.Cost++ },
		"required cost":  func(s *Solution) { s.RequiredCost++ },
		"deadhead cost":  func(s *Solution) { s.DeadheadCost-- },
		"serviced flag":  func(s *Solution) { s.Serviced[0] = !s.Serviced[0] },
		"bound too high": func(s *Solution) { s.LowerBound = s.Cost + 1 },
		"missing edge":   func(s *Solution) { *s = Solution{Walk: []int{0}} },
	}
	for name, mut := range mutations {
		s := clone()
		mut(&s)
		if err := Check(g, s); err == nil {
			t.Errorf("%s: Check accepted %+v", name, s)
		}
	}
}
