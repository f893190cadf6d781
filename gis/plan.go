package gis

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// Result is a Plan rendered with ids, in the field names of the shutoff API
// and `waterline shutoff --json`. Id lists are sorted in plain string order
// and hold each id once.
type Result struct {
	ValvesToClose       []string `json:"valves_to_close"`
	ValvesDrySide       []string `json:"valves_dry_side"`
	ValvesAlreadyClosed []string `json:"valves_already_closed"`
	ValvesFailed        []string `json:"valves_failed"`
	SegmentPipes        []string `json:"segment_pipes"`
	UnintendedPipes     []string `json:"unintended_pipes"`
	Connections         []string `json:"connections"`
	Customers           []string `json:"customers"`
	CriticalCustomers   []string `json:"critical_customers"`
	Hydrants            []string `json:"hydrants"`
	Households          int64    `json:"households"`
	LengthM             float64  `json:"length_m"`
	SegmentLengthM      float64  `json:"segment_length_m"`
	UnintendedLengthM   float64  `json:"unintended_length_m"`
}

// SortIDs sorts ids in natural order (see naturalLess) in place.
func SortIDs(ids []string) {
	sort.Slice(ids, func(a, b int) bool { return naturalLess(ids[a], ids[b]) })
}

// names returns the ids of the items idx (indices into all), sorted as
// strings and unique. rank, when not nil, is all.Ranks(): the sort then
// compares ranks, not strings.
func names[C interface{ At(int) string }](all C, rank, idx []int32) []string {
	ix := slices.Clone(idx)
	if rank != nil {
		// Equal positions have equal ranks: sorted by rank, they are
		// neighbours for Compact.
		slices.SortFunc(ix, func(a, b int32) int { return cmp.Compare(rank[a], rank[b]) })
	} else {
		slices.Sort(ix)
	}
	ix = slices.Compact(ix)
	out := make([]string, len(ix))
	for k, i := range ix {
		out[k] = all.At(int(i))
	}
	if rank == nil {
		sort.Strings(out)
	}
	return out
}

// idList is a []string column seen as Strings is.
type idList []string

func (l idList) At(i int) string { return l[i] }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Render turns a plan into ids.
func (n *Network) Render(p Plan) Result {
	t := n.Topo
	rk := n.ranks.Load()
	if rk == nil {
		rk = &idRanks{}
	}
	r := Result{
		ValvesToClose:       names(t.ValveID, rk.valve, p.ToClose),
		ValvesDrySide:       names(t.ValveID, rk.valve, p.DrySide),
		ValvesAlreadyClosed: names(t.ValveID, rk.valve, p.AlreadyClosed),
		ValvesFailed:        names(t.ValveID, rk.valve, p.FailedValves),
		SegmentPipes:        names(t.PipeID, rk.pipe, p.SegmentPipes),
		UnintendedPipes:     names(t.PipeID, rk.pipe, p.UnintendedPipes),
		Connections:         names(t.ConnID, rk.conn, p.Connections),
		Customers:           names(t.CustID, rk.cust, p.Customers),
		Hydrants:            names(idList(t.HydrantID), nil, p.Hydrants),
		Households:          p.Households,
		LengthM:             round3(p.SegmentLength + p.UnintendedLength),
		SegmentLengthM:      round3(p.SegmentLength),
		UnintendedLengthM:   round3(p.UnintendedLength),
	}
	var crit []int32
	for _, c := range p.Customers {
		if t.CustCritical[c] {
			crit = append(crit, c)
		}
	}
	r.CriticalCustomers = names(t.CustID, rk.cust, crit)
	return r
}
