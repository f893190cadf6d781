package gis

import "sort"

// SegmentInfo describes one shutoff unit: the base segments joined by
// normally open valves that cannot close (inoperable), i.e. what a leak
// anywhere in it drains.
type SegmentInfo struct {
	Pipes          []string `json:"pipes"`
	PipeCount      int      `json:"pipe_count"`
	LengthM        float64  `json:"length_m"`
	Customers      int      `json:"customers"`
	Households     int64    `json:"households"`
	BoundaryValves int      `json:"boundary_valves"`
	HasSource      bool     `json:"has_source"`
	// With the unintended isolation a shutoff of it causes (the top lists only).
	TotalCustomers  int     `json:"total_customers,omitempty"`
	TotalHouseholds int64   `json:"total_households,omitempty"`
	TotalLengthM    float64 `json:"total_length_m,omitempty"`
}

// SegmentStats is the network-wide view of shutoff units.
type SegmentStats struct {
	Units         int     `json:"units"`
	BaseSegments  int     `json:"base_segments"`
	MeanLengthM   float64 `json:"mean_length_m"`
	MedianLengthM float64 `json:"median_length_m"`
	MaxCustomers  int     `json:"max_customers"`
	WithoutValves int     `json:"without_boundary_valves"` // units no valve bounds at all
	WithSource    int     `json:"with_source"`             // units holding a source: isolating them cuts supply
	DryUnits      int     `json:"dry_units"`               // units with no path to any source in the normal state
	// Worst: the units with most customers behind one shutoff (unintended
	// isolation included), worst first.
	Worst []SegmentInfo `json:"worst"`
	// Unisolable: units that hold a source or have no boundary valve: a
	// leak there cannot be isolated without cutting supply.
	Unisolable []SegmentInfo `json:"unisolable"`
}

// SegmentStats computes every shutoff unit of the normal state and the top
// worst ones. The aggregate pass is linear in the network's size; full
// plans (with unintended isolation) are computed for the 3×top units with
// most own customers, and the worst list ranks those.
func (n *Network) SegmentStats(top int) SegmentStats {
	t := n.Topo
	uf := newUnionFind(int(n.nSeg))
	for v := range t.ValveID.Len() {
		a, b := n.valveSegA[v], n.valveSegB[v]
		if a >= 0 && a != b && t.ValveOpen[v] && !t.ValveOperable[v] {
			uf.union(a, b)
		}
	}
	type agg struct {
		length     float64
		pipes      int
		customers  int
		households int64
		valves     int
		source     bool
		seg        int32 // a member segment
	}
	units := map[int32]*agg{}
	for s := int32(0); s < n.nSeg; s++ {
		r := uf.find(s)
		a := units[r]
		if a == nil {
			a = &agg{seg: -1}
			units[r] = a
		}
		if a.seg < 0 && n.segPieceOff[s+1] > n.segPieceOff[s] {
			a.seg = s // a member with pieces, to plan a leak in
		}
		for _, pc := range n.segPieces[n.segPieceOff[s]:n.segPieceOff[s+1]] {
			a.length += n.pieceTo[pc] - n.pieceFrom[pc]
			a.pipes++
		}
		for _, c := range n.segCusts[n.segCustOff[s]:n.segCustOff[s+1]] {
			a.customers++
			a.households += int64(t.CustHouseholds[c])
		}
		for _, v := range n.segValves[n.segValveOff[s]:n.segValveOff[s+1]] {
			if uf.find(n.valveSegA[v]) != uf.find(n.valveSegB[v]) {
				a.valves++
			}
		}
	}
	for _, s := range n.segSources {
		units[uf.find(s)].source = true
	}
	st := SegmentStats{BaseSegments: int(n.nSeg)}
	var lengths []float64
	var list []*agg
	for _, a := range units {
		if a.pipes == 0 {
			continue // the empty vertex between valves in series
		}
		list = append(list, a)
		lengths = append(lengths, a.length)
		if a.valves == 0 {
			st.WithoutValves++
		}
		if a.source {
			st.WithSource++
		}
		if !n.normal.reach[a.seg] {
			st.DryUnits++
		}
		if a.customers > st.MaxCustomers {
			st.MaxCustomers = a.customers
		}
	}
	st.Units = len(list)
	if len(lengths) > 0 {
		sort.Float64s(lengths)
		var sum float64
		for _, l := range lengths {
			sum += l
		}
		st.MeanLengthM = round3(sum / float64(len(lengths)))
		st.MedianLengthM = round3(lengths[len(lengths)/2])
	}
	info := func(a *agg, full bool) SegmentInfo {
		si := SegmentInfo{PipeCount: a.pipes, LengthM: round3(a.length), Customers: a.customers,
			Households: a.households, BoundaryValves: a.valves, HasSource: a.source}
		// A leak inside the unit drains exactly the unit (it grows through
		// the inoperable valves that made it), plus what that cuts off.
		pc := n.segPieces[n.segPieceOff[a.seg]]
		r := n.Render(n.normal.Isolate(Leak{Pipe: n.piecePipe[pc], S: (n.pieceFrom[pc] + n.pieceTo[pc]) / 2}))
		si.Pipes = r.SegmentPipes
		si.PipeCount = len(r.SegmentPipes)
		if full {
			si.TotalCustomers = len(r.Customers)
			si.TotalHouseholds = r.Households
			si.TotalLengthM = r.LengthM
		}
		return si
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].customers != list[j].customers {
			return list[i].customers > list[j].customers
		}
		return list[i].seg < list[j].seg
	})
	cand := list
	if len(cand) > 3*top {
		cand = cand[:3*top]
	}
	for _, a := range cand {
		st.Worst = append(st.Worst, info(a, true))
	}
	sort.SliceStable(st.Worst, func(i, j int) bool {
		a, b := st.Worst[i], st.Worst[j]
		if a.TotalCustomers != b.TotalCustomers {
			return a.TotalCustomers > b.TotalCustomers
		}
		if a.TotalHouseholds != b.TotalHouseholds {
			return a.TotalHouseholds > b.TotalHouseholds
		}
		return a.TotalLengthM > b.TotalLengthM
	})
	if len(st.Worst) > top {
		st.Worst = st.Worst[:top]
	}
	for _, a := range list {
		if (a.source || a.valves == 0) && len(st.Unisolable) < top {
			st.Unisolable = append(st.Unisolable, info(a, false))
		}
	}
	if st.Worst == nil {
		st.Worst = []SegmentInfo{}
	}
	if st.Unisolable == nil {
		st.Unisolable = []SegmentInfo{}
	}
	return st
}
