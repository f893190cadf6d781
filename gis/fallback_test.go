package gis_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
)

// fullFallback is the fallback of valve k of p by re-isolating from
// scratch with that valve failed too: what Fallbacks must equal. It also
// reports the unrounded extra length as the difference of two totals.
func fullFallback(st *gis.State, l gis.Leak, p gis.Plan, k int) gis.Fallback {
	l2 := l
	l2.Failed = append(slices.Clone(l.Failed), p.ToClose[k])
	p2 := st.Isolate(l2)
	uniq := func(xs []int32) []int32 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return slices.Compact(xs)
	}
	minus := func(a, b []int32) []int32 {
		var out []int32
		for _, x := range a {
			if _, ok := slices.BinarySearch(b, x); !ok {
				out = append(out, x)
			}
		}
		return out
	}
	return gis.Fallback{
		ExtraValves:     minus(uniq(p2.ToClose), uniq(p.ToClose)),
		ExtraCustomers:  len(minus(uniq(p2.Customers), uniq(p.Customers))),
		ExtraHouseholds: p2.Households - p.Households,
		ExtraLength:     p2.SegmentLength + p2.UnintendedLength - p.SegmentLength - p.UnintendedLength,
	}
}

// fallbackStats counts what the compared cases exercised, so that a test
// cannot pass on trivial cases only.
type fallbackStats struct {
	plans, valves, extraValves, extraCustomers, grownCutOff, pipeLevel int
}

// checkFallbacks compares Fallbacks with full re-isolation for the leak l.
func checkFallbacks(t *testing.T, n *gis.Network, st *gis.State, l gis.Leak, stats *fallbackStats) {
	t.Helper()
	p := st.Isolate(l)
	got := st.Fallbacks(l, p)
	if len(got) != len(p.ToClose) {
		t.Fatalf("leak %+v: %d fallbacks for %d valves", l, len(got), len(p.ToClose))
	}
	stats.plans++
	for k := range p.ToClose {
		want := fullFallback(st, l, p, k)
		g := got[k]
		stats.valves++
		if len(want.ExtraValves) > 0 {
			stats.extraValves++
		}
		if want.ExtraCustomers > 0 {
			stats.extraCustomers++
		}
		if !slices.Equal(g.ExtraValves, want.ExtraValves) && !(len(g.ExtraValves) == 0 && len(want.ExtraValves) == 0) ||
			g.ExtraCustomers != want.ExtraCustomers || g.ExtraHouseholds != want.ExtraHouseholds ||
			math.Abs(g.ExtraLength-want.ExtraLength) > 1e-6*math.Max(1, p.SegmentLength+p.UnintendedLength+want.ExtraLength) {
			t.Fatalf("leak %+v, valve %d (#%d): incremental %+v, full re-isolation %+v", l, p.ToClose[k], k, g, want)
		}
		// Failing a valve only drains more.
		if want.ExtraHouseholds < 0 || want.ExtraLength < -1e-6 {
			t.Fatalf("leak %+v, valve %d: failing it drains less: %+v", l, p.ToClose[k], want)
		}
		l2 := l
		l2.Failed = append(slices.Clone(l.Failed), p.ToClose[k])
		p2 := st.Isolate(l2)
		if len(p2.Unintended) > len(p.Unintended) {
			stats.grownCutOff++
		}
		for _, c := range p2.Customers[len(p2.Customers)-min(len(p2.Customers), 50):] {
			if n.Topo.CustPipeLevel[c] && !slices.Contains(p.Customers, c) {
				stats.pipeLevel++
				break
			}
		}
	}
}

// TestFallbacksEqualFullReisolation checks the incremental contingency
// against full re-isolation on thousands of random leaks of generated
// cities: in the normal state, with valves held closed, with valves named
// failed.
func TestFallbacksEqualFullReisolation(t *testing.T) {
	leaks := 3000
	if testing.Short() {
		leaks = 500
	}
	var stats fallbackStats
	for seed := int64(1); seed <= 2; seed++ {
		ds, err := gen.Generate(gen.Options{Pipes: 20_000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		// Every fifth customer known by its pipe alone (affected when any
		// piece of the pipe is).
		connPipe := map[string]string{}
		for _, c := range ds.Connections {
			connPipe[c.ID] = c.Pipe
		}
		for i := range ds.Customers {
			if c := &ds.Customers[i]; i%5 == 0 && c.Connection != "" {
				c.Pipe, c.Connection, c.Geom = connPipe[c.Connection], "", nil
			}
		}
		topo, _ := gis.Resolve(ds, 0)
		n := gis.NewNetwork(topo)
		var pipes, valves []int32
		for i, ok := range topo.PipeInService {
			if ok {
				pipes = append(pipes, int32(i))
			}
		}
		for i, p := range topo.ValvePipe {
			if p >= 0 {
				valves = append(valves, int32(i))
			}
		}
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		// Valves held closed by jobs: a few hundred at random, so that
		// boundaries are already closed and whole areas go dry.
		var held []int32
		for range 300 {
			held = append(held, valves[r.IntN(len(valves))])
		}
		states := []*gis.State{n.Normal(), n.WithClosed(held)}
		for i := 0; i < leaks; i++ {
			st := states[i%2]
			p := pipes[r.IntN(len(pipes))]
			l := gis.Leak{Pipe: p, S: r.Float64() * topo.PipeLen[p]}
			if i%3 == 0 {
				// A valve of the plan failed already, and one anywhere.
				if base := st.Isolate(l); len(base.ToClose) > 0 {
					l.Failed = append(l.Failed, base.ToClose[r.IntN(len(base.ToClose))])
				}
				l.Failed = append(l.Failed, valves[r.IntN(len(valves))])
			}
			checkFallbacks(t, n, st, l, &stats)
		}
	}
	t.Logf("%d plans, %d valves: %d with extra valves, %d with extra customers, %d cutting off more, %d with extra pipe-level customers",
		stats.plans, stats.valves, stats.extraValves, stats.extraCustomers, stats.grownCutOff, stats.pipeLevel)
	if stats.valves < stats.plans || stats.extraValves == 0 || stats.extraCustomers == 0 || stats.grownCutOff == 0 || stats.pipeLevel == 0 {
		t.Fatalf("the cases do not exercise the fallbacks: %+v", stats)
	}
}

// TestFallbacksGiswater compares Fallbacks with full re-isolation on every
// in-service pipe of the Giswater sample.
func TestFallbacksGiswater(t *testing.T) {
	net := loadGiswater(t)
	var stats fallbackStats
	for i, ok := range net.Topo.PipeInService {
		if !ok {
			continue
		}
		for _, at := range []float64{0.1, 0.5, 0.9} {
			checkFallbacks(t, net, net.Normal(), gis.Leak{Pipe: int32(i), S: at * net.Topo.PipeLen[i]}, &stats)
		}
	}
	t.Logf("%d plans, %d valves: %d with extra valves, %d with extra customers, %d cutting off more, %d with extra pipe-level customers",
		stats.plans, stats.valves, stats.extraValves, stats.extraCustomers, stats.grownCutOff, stats.pipeLevel)
	if stats.valves == 0 {
		t.Fatal("no valve to close in the sample")
	}
}

// TestRenderWithRanks: plans rendered after RankIDs list the same ids in
// the same order as before it, when they were sorted as strings.
func TestRenderWithRanks(t *testing.T) {
	ds, err := gen.Generate(gen.Options{Pipes: 5000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	topo, _ := gis.Resolve(ds, 0)
	n := gis.NewNetwork(topo)
	var leaks []gis.Leak
	for p := 0; p < topo.NumPipes(); p += 7 {
		if topo.PipeInService[p] {
			leaks = append(leaks, gis.Leak{Pipe: int32(p), S: topo.PipeLen[p] / 2})
		}
	}
	before := make([]gis.Result, len(leaks))
	for i, l := range leaks {
		before[i] = n.Render(n.Normal().Isolate(l))
	}
	n.RankIDs()
	customers := 0
	for i, l := range leaks {
		after := n.Render(n.Normal().Isolate(l))
		if !reflect.DeepEqual(after, before[i]) {
			t.Fatalf("leak on %s: ranked %+v, sorted as strings %+v", topo.PipeID.At(int(l.Pipe)), after, before[i])
		}
		customers += len(after.Customers)
	}
	if customers == 0 {
		t.Fatal("no plan had customers to sort")
	}
}
