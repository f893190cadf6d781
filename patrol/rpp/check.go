package rpp

import (
	"fmt"
	"math"
)

// Check verifies that s is a valid solution of g: Walk is a closed walk
// (first == last) whose consecutive vertices are joined by the edge named in
// EdgeSeq (len(EdgeSeq) == len(Walk)-1, either orientation), every required
// edge is traversed at least once, Serviced marks exactly the first traversal
// of each required edge, and Cost, RequiredCost and DeadheadCost equal the
// corresponding sums of traversed edge costs (to a relative 1e-9).
// An instance without required edges accepts a walk of at most one vertex.
// Check does not validate LowerBound beyond LowerBound <= Cost.
func Check(g Graph, s Solution) error {
	nreq := 0
	for _, e := range g.Edges {
		if e.Required {
			nreq++
		}
	}
	if len(s.Walk) <= 1 {
		if nreq > 0 {
			return fmt.Errorf("rpp: walk has %d vertices but %d required edges must be traversed", len(s.Walk), nreq)
		}
		if len(s.EdgeSeq) != 0 || len(s.Serviced) != 0 {
			return fmt.Errorf("rpp: trivial walk with %d edges / %d serviced flags", len(s.EdgeSeq), len(s.Serviced))
		}
		if len(s.Walk) == 1 && (s.Walk[0] < 0 || s.Walk[0] >= g.N) {
			return fmt.Errorf("rpp: walk vertex %d out of range [0,%d)", s.Walk[0], g.N)
		}
		if s.Cost != 0 || s.RequiredCost != 0 || s.DeadheadCost != 0 {
			return fmt.Errorf("rpp: trivial walk with non-zero cost %v", s.Cost)
		}
		return nil
	}
	if s.Walk[0] != s.Walk[len(s.Walk)-1] {
		return fmt.Errorf("rpp: walk is not closed: starts at %d, ends at %d", s.Walk[0], s.Walk[len(s.Walk)-1])
	}
	if len(s.EdgeSeq) != len(s.Walk)-1 {
		return fmt.Errorf("rpp: len(EdgeSeq)=%d, want len(Walk)-1=%d", len(s.EdgeSeq), len(s.Walk)-1)
	}
	if len(s.Serviced) != len(s.EdgeSeq) {
		return fmt.Errorf("rpp: len(Serviced)=%d, want %d", len(s.Serviced), len(s.EdgeSeq))
	}
	seen := make([]bool, len(g.Edges))
	var cost, reqCost float64
	for i, ei := range s.EdgeSeq {
		if ei < 0 || ei >= len(g.Edges) {
			return fmt.Errorf("rpp: step %d: edge index %d out of range [0,%d)", i, ei, len(g.Edges))
		}
		e := g.Edges[ei]
		a, b := s.Walk[i], s.Walk[i+1]
		if !(e.U == a && e.V == b) && !(e.U == b && e.V == a) {
			return fmt.Errorf("rpp: step %d: edge %d joins %d-%d, walk goes %d->%d", i, ei, e.U, e.V, a, b)
		}
		first := e.Required && !seen[ei]
		if s.Serviced[i] != first {
			return fmt.Errorf("rpp: step %d: Serviced=%v, want %v (edge %d required=%v)", i, s.Serviced[i], first, ei, e.Required)
		}
		seen[ei] = true
		cost += e.Cost
		if first {
			reqCost += e.Cost
		}
	}
	for i, e := range g.Edges {
		if e.Required && !seen[i] {
			return fmt.Errorf("rpp: required edge %d (%d-%d, id %d) is not traversed", i, e.U, e.V, e.ID)
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if !near(s.Cost, cost) {
		return fmt.Errorf("rpp: Cost=%v, sum of traversals=%v", s.Cost, cost)
	}
	if !near(s.RequiredCost, reqCost) {
		return fmt.Errorf("rpp: RequiredCost=%v, sum of serviced traversals=%v", s.RequiredCost, reqCost)
	}
	if !near(s.DeadheadCost, cost-reqCost) {
		return fmt.Errorf("rpp: DeadheadCost=%v, want %v", s.DeadheadCost, cost-reqCost)
	}
	if s.LowerBound > s.Cost+1e-9*math.Max(1, math.Abs(s.Cost)) {
		return fmt.Errorf("rpp: LowerBound=%v exceeds Cost=%v", s.LowerBound, s.Cost)
	}
	return nil
}
