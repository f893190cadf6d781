package gis

import "slices"

// Fallback is what happens when one valve of a plan's ToClose fails on
// site: the plan re-isolated with that valve failed as well, compared with
// the plan itself.
type Fallback struct {
	// ExtraValves are the valves to close then that the plan does not
	// close, sorted by index and unique (nil when none).
	ExtraValves []int32
	// ExtraCustomers and ExtraHouseholds are the customers (and their
	// households) then without water that the plan keeps in water.
	ExtraCustomers  int
	ExtraHouseholds int64
	// ExtraLength is the length of pipe then without water beyond the
	// plan's, in metres (not rounded).
	ExtraLength float64
}

// Fallbacks returns, for each valve of p.ToClose (in that order), what
// happens if it fails on site. p must be st.Isolate(l).
//
// The answer for valve v is the one of comparing p with
// st.Isolate(l with v added to l.Failed) — the same valves, customers and
// households; the length up to floating-point rounding (it is summed over
// the extra segments rather than as the difference of two totals) — but
// it is worked out from p's drained region outward: the region grows by
// what lies behind v (through the valves that cannot close), the boundary
// is judged again, and only the extra segments are summed. The extra is
// well defined because failing a valve only ever drains more: every
// segment, pipe and customer p leaves without water stays without water.
func (st *State) Fallbacks(l Leak, p Plan) []Fallback {
	out := make([]Fallback, len(p.ToClose))
	if len(p.ToClose) == 0 {
		return out
	}
	n := st.net
	t := n.Topo
	sc := n.getScratch()
	defer n.scratch.Put(sc)
	base := sc.nextBase()
	for _, s := range p.Segments {
		sc.baseMark[s] = base
	}
	for _, s := range p.Unintended {
		sc.baseMark[s] = base
	}
	baseClose := slices.Clone(p.ToClose)
	slices.Sort(baseClose)
	has := func(sorted []int32, x int32) bool {
		_, ok := slices.BinarySearch(sorted, x)
		return ok
	}
	var grown, dry, bfs, pipes, extra, allExtra []int32
	ends := make([]int, len(p.ToClose)) // of each fallback's extra valves in allExtra
	for k, failedValve := range p.ToClose {
		gen := sc.next()
		for _, s := range p.Segments {
			sc.segMark[s] = gen
		}
		// The region grows by the far side of the failed valve and
		// whatever joins it through valves that cannot close.
		cannotClose := func(v int32) bool {
			if !n.passes(v, st.closed) {
				return false
			}
			if !t.ValveOperable[v] || v == failedValve {
				return true
			}
			for _, f := range l.Failed {
				if f == v {
					return true
				}
			}
			return false
		}
		grown = append(grown[:0], p.FarSide[k])
		sc.segMark[p.FarSide[k]] = gen
		for h := 0; h < len(grown); h++ {
			u := grown[h]
			for j := n.segValveOff[u]; j < n.segValveOff[u+1]; j++ {
				if w := n.segValveTo[j]; sc.segMark[w] != gen && cannotClose(n.segValves[j]) {
					sc.segMark[w] = gen
					grown = append(grown, w)
				}
			}
		}
		// clean: u's path to a source in the forest avoids the region.
		inSubtree := func(region []int32, pu int32) bool {
			for _, x := range region {
				if px := st.pre[x]; px >= 0 && px <= pu && pu < st.post[x] {
					return true
				}
			}
			return false
		}
		clean := func(u int32) bool {
			if !st.reach[u] {
				return false
			}
			pu := st.pre[u]
			return !inSubtree(p.Segments, pu) && !inSubtree(grown, pu)
		}
		// safe is Isolate's: whether f keeps water once the region is
		// drained; the components it finds cut off go to dry.
		dry = dry[:0]
		safe := func(f int32) bool { return st.keepsWater(sc, gen, f, clean, &bfs, &dry) }
		// The boundary of the grown region. The plan's own boundary
		// valves that stay on the boundary are the plan's: those it
		// closes are no extra valves (only what they now cut off counts);
		// behind those on its dry side everything is dry already.
		extra = extra[:0]
		for j, v := range p.ToClose {
			if w := p.FarSide[j]; sc.segMark[w] != gen && v != failedValve {
				safe(w)
			}
		}
		for _, s := range grown {
			for j := n.segValveOff[s]; j < n.segValveOff[s+1]; j++ {
				w, v := n.segValveTo[j], n.segValves[j]
				if sc.segMark[w] == gen || !n.passes(v, st.closed) {
					continue
				}
				if safe(w) && !has(baseClose, v) {
					extra = append(extra, v)
				}
			}
		}

		// Sum what is dry now and was not: the grown region (never dry
		// before: it kept water through the failed valve's far side) and
		// the cut-off segments p did not already count.
		f := &out[k]
		pipes = pipes[:0]
		add := func(s int32) {
			if sc.baseMark[s] == base {
				return
			}
			f.ExtraLength += n.segLen[s]
			f.ExtraCustomers += int(n.segCustOff[s+1] - n.segCustOff[s])
			f.ExtraHouseholds += n.segHH[s]
			for _, q := range n.segPipes(s) {
				// Only pipes with pipe-level customers count here.
				if n.pipeCustOff[q+1] > n.pipeCustOff[q] && !has(p.SegmentPipes, q) && !has(p.UnintendedPipes, q) {
					pipes = append(pipes, q)
				}
			}
		}
		for _, s := range grown {
			add(s)
		}
		for _, s := range dry {
			add(s)
		}
		// Pipe-level customers of the pipes that newly lose water.
		slices.Sort(pipes)
		for _, q := range slices.Compact(pipes) {
			f.ExtraCustomers += int(n.pipeCustOff[q+1] - n.pipeCustOff[q])
			f.ExtraHouseholds += n.pipeHH[q]
		}
		slices.Sort(extra)
		allExtra = append(allExtra, slices.Compact(extra)...)
		ends[k] = len(allExtra)
	}
	// The extra valves of every fallback share one array.
	start := 0
	for k, end := range ends {
		if end > start {
			out[k].ExtraValves = allExtra[start:end:end]
		}
		start = end
	}
	return out
}
