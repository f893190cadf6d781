package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
)

// stdJSON is what the API wrote before AppendJSON: encoding/json's Encoder
// without HTML escaping, less its trailing newline.
func stdJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

var testCity = sync.OnceValues(func() (*gis.Network, error) {
	ds, err := gen.Generate(gen.Options{Pipes: 20_000, Seed: 3})
	if err != nil {
		return nil, err
	}
	topo, _ := gis.Resolve(ds, 0)
	n := gis.NewNetwork(topo)
	xs, ys, dx, dy := gis.GridPoints(480000, 4040000, 520000, 4080000, 8, 8)
	lon, lat := make([]float64, len(xs)), make([]float64, len(xs))
	for i := range xs { // roughly Jinan: metres to degrees
		lon[i], lat[i] = 117+(xs[i]-500000)/92000, 36.67+(ys[i]-4060000)/111000
	}
	n.LonLat = &gis.LonLatGrid{MinX: 480000, MinY: 4040000, DX: dx, DY: dy, NX: 8, NY: 8, Lon: lon, Lat: lat}
	return n, nil
})

func inService(n *gis.Network) []string {
	var pipes []string
	for i, ok := range n.Topo.PipeInService {
		if ok {
			pipes = append(pipes, n.Topo.PipeID.At(i))
		}
	}
	return pipes
}

// TestPlanAppendJSONMatchesEncodingJSON encodes thousands of random plans
// both ways — the fast encoder and encoding/json — and wants the same
// bytes; contact fields get awkward strings.
func TestPlanAppendJSONMatchesEncodingJSON(t *testing.T) {
	n, err := testCity()
	if err != nil {
		t.Fatal(err)
	}
	p := &Planner{Live: fixedNetwork{n}}
	pipes := inService(n)
	var valves []string
	for i, q := range n.Topo.ValvePipe {
		if q >= 0 {
			valves = append(valves, n.Topo.ValveID.At(i))
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	odd := []string{"", "张三", `say "hi"`, "a\\b", "line\nbreak", "<b>&</b>", "\u2028", "\xff\xfe", "tab\there", "\x00"}
	ctx := context.Background()
	var buf []byte
	plans, withCritical := 2000, 0
	if testing.Short() {
		plans = 300
	}
	for i := 0; i < plans; i++ {
		at := r.Float64()
		req := PlanRequest{Pipe: pipes[r.IntN(len(pipes))], At: &at}
		if i%4 == 1 {
			no := false
			req.Contingency = &no
		}
		if i%5 == 2 {
			req.FailedValves = []string{valves[r.IntN(len(valves))]}
		}
		resp, err := p.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			resp.Critical = append(resp.Critical, store.CustomerInfo{ID: odd[r.IntN(len(odd))], Name: odd[r.IntN(len(odd))],
				Address: odd[r.IntN(len(odd))], Phone: odd[r.IntN(len(odd))], Category: "hospital", Critical: true, Households: r.IntN(9)})
		}
		if i%7 == 0 {
			resp.Critical = nil
		}
		if i%6 == 3 && len(resp.ClosingOrder) > 0 {
			// A list changed after planning: encoded from the strings, not
			// from the network's cached encoding of the far side.
			s := &resp.ClosingOrder[r.IntN(len(resp.ClosingOrder))]
			s.HoldsBack = append(slices.Clone(s.HoldsBack), odd[r.IntN(len(odd))])
		}
		if len(resp.Critical) > 0 {
			withCritical++
		}
		if buf, err = resp.AppendJSON(buf[:0]); err != nil {
			t.Fatal(err)
		}
		if want := stdJSON(t, resp); !bytes.Equal(buf, want) {
			k := 0
			for k < len(buf) && k < len(want) && buf[k] == want[k] {
				k++
			}
			t.Fatalf("plan %d (%+v): the encodings differ at byte %d:\nfast: …%s\nwant: …%s", i, req, k,
				buf[max(0, k-80):min(len(buf), k+80)], want[max(0, k-80):min(len(want), k+80)])
		}
	}
	if withCritical == 0 {
		t.Fatal("no plan with critical customers")
	}
	// Features of a type the fast encoder does not know go through
	// encoding/json.
	resp, err := p.Plan(ctx, PlanRequest{Pipe: pipes[0]})
	if err != nil {
		t.Fatal(err)
	}
	resp.Range.Features = []map[string]any{{"type": "Feature", "properties": map[string]any{"a": "<&>"}}}
	resp.Valves.Features = nil
	if buf, err = resp.AppendJSON(buf[:0]); err != nil || !bytes.Equal(buf, stdJSON(t, resp)) {
		t.Fatalf("other features: %v\n%s", err, buf)
	}
	// A float that is not finite is an error, as for encoding/json.
	resp.LengthM = math.NaN()
	if _, err := resp.AppendJSON(nil); err == nil {
		t.Fatal("NaN encoded without an error")
	}
}

// TestPlanContingencyEqualsReplanning checks the if_fails of every valve
// of random plans against planning again with that valve failed, the way
// the planner worked before gis.State.Fallbacks.
func TestPlanContingencyEqualsReplanning(t *testing.T) {
	n, err := testCity()
	if err != nil {
		t.Fatal(err)
	}
	p := &Planner{Live: fixedNetwork{n}}
	pipes := inService(n)
	r := rand.New(rand.NewPCG(9, 10))
	ctx := context.Background()
	t0 := n.Topo
	ids := func(all []string, idx []int32) []string {
		idx = slices.Clone(idx)
		slices.Sort(idx)
		idx = slices.Compact(idx)
		out := make([]string, len(idx))
		for k, i := range idx {
			out[k] = all[i]
		}
		return out
	}
	minus := func(a, b []string) []string {
		out := []string{}
		for _, x := range a {
			if !slices.Contains(b, x) {
				out = append(out, x)
			}
		}
		sort.Strings(out)
		return out
	}
	steps := 0
	for i := 0; i < 1000; i++ {
		at := r.Float64()
		req := PlanRequest{Pipe: pipes[r.IntN(len(pipes))], At: &at}
		resp, err := p.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		pi, _ := n.PipeIndex(req.Pipe)
		leak := gis.Leak{Pipe: pi, S: at * t0.PipeLen[pi]}
		base := n.Normal().Isolate(leak)
		baseLen := base.SegmentLength + base.UnintendedLength
		for _, s := range resp.ClosingOrder {
			steps++
			v, _ := n.ValveIndex(s.ID)
			p2 := n.Normal().Isolate(gis.Leak{Pipe: pi, S: leak.S, Failed: []int32{v}})
			want := IfFails{
				ExtraValves:     minus(ids(t0.ValveID.Slice(), p2.ToClose), ids(t0.ValveID.Slice(), base.ToClose)),
				ExtraCustomers:  len(minus(ids(t0.CustID.Slice(), p2.Customers), ids(t0.CustID.Slice(), base.Customers))),
				ExtraHouseholds: p2.Households - base.Households,
				ExtraLengthM:    math.Round((p2.SegmentLength+p2.UnintendedLength-baseLen)*10) / 10,
			}
			got := *s.IfFails
			if !slices.Equal(got.ExtraValves, want.ExtraValves) || got.ExtraCustomers != want.ExtraCustomers ||
				got.ExtraHouseholds != want.ExtraHouseholds || math.Abs(got.ExtraLengthM-want.ExtraLengthM) > 0.1+1e-9 {
				t.Fatalf("leak on %s at %.3f, valve %s: if_fails %+v, replanning says %+v", req.Pipe, at, s.ID, got, want)
			}
		}
	}
	if steps == 0 {
		t.Fatal("no valve to close in any plan")
	}
}
