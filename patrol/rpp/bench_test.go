package rpp

import (
	"context"
	"math/rand"
	"testing"
	"time"
)

// districtGraph builds a grid-like district: a side x side street grid with
// perturbed block lengths, some diagonal short-cuts (roads), and a random
// subset of nreq required edges (pipes due today).
func districtGraph(side, nreq int, seed int64) Graph {
	rng := rand.New(rand.NewSource(seed))
	g := Graph{N: side * side}
	id := func(r, c int) int { return r*side + c }
	for r := 0; r < side; r++ {
		for c := 0; c < side; c++ {
			if c+1 < side {
				g.Edges = append(g.Edges, Edge{U: id(r, c), V: id(r, c+1), Cost: float64(40 + rng.Intn(80))})
			}
			if r+1 < side {
				g.Edges = append(g.Edges, Edge{U: id(r, c), V: id(r+1, c), Cost: float64(40 + rng.Intn(80))})
			}
			if r+1 < side && c+1 < side && rng.Intn(10) == 0 {
				g.Edges = append(g.Edges, Edge{U: id(r, c), V: id(r+1, c+1), Cost: float64(90 + rng.Intn(60))})
			}
		}
	}
	perm := rng.Perm(len(g.Edges))
	for i := 0; i < nreq && i < len(perm); i++ {
		g.Edges[perm[i]].Required = true
	}
	for i := range g.Edges {
		g.Edges[i].ID = 1000 + i
	}
	return g
}

// BenchmarkSolveDistrict solves a district of ~5,000 required edges
// (plus ~2,500 non-required): 56x56 grid, 3,136 vertices.
func BenchmarkSolveDistrict(b *testing.B) {
	g := districtGraph(56, 5000, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := Solve(context.Background(), g, Options{Depot: 0})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := Check(g, s); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(s.Cost, "cost")
			b.ReportMetric(s.LowerBound, "lb")
		}
	}
}

// TestDistrictUnderOneSecond enforces the 1 s budget of the district size.
func TestDistrictUnderOneSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	g := districtGraph(56, 5000, 1)
	start := time.Now()
	s, err := Solve(context.Background(), g, Options{Depot: 0})
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(g, s); err != nil {
		t.Fatal(err)
	}
	if s.Walk[0] != 0 {
		t.Fatalf("walk starts at %d, want depot 0", s.Walk[0])
	}
	t.Logf("district: %d vertices, %d edges, cost %.0f, lower bound %.0f (%.2f%%), %v",
		g.N, len(g.Edges), s.Cost, s.LowerBound, 100*(s.Cost-s.LowerBound)/s.LowerBound, el)
}
