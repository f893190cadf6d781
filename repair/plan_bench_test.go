package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
)

type fixedNetwork struct{ n *gis.Network }

func (f fixedNetwork) Network() *gis.Network { return f.n }

// BenchmarkPlanResponse is the dispatcher's whole answer, in-process, on a
// generated city with an interpolation grid (no database round trip):
// isolation, contingency of every valve, closing order, GeoJSON.
func BenchmarkPlanResponse(b *testing.B) {
	ds, err := gen.Generate(gen.Options{Pipes: 200_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	topo, _ := gis.Resolve(ds, 0)
	n := gis.NewNetwork(topo)
	// A flat grid (lon/lat here are just scaled metres): the benchmark is
	// about the work, not the projection.
	xs, ys, dx, dy := gis.GridPoints(400000, 3900000, 600000, 4200000, 4, 4)
	n.LonLat = &gis.LonLatGrid{MinX: 400000, MinY: 3900000, DX: dx, DY: dy, NX: 4, NY: 4, Lon: xs, Lat: ys}
	p := &Planner{Live: fixedNetwork{n}}
	var pipes []string
	for i, ok := range topo.PipeInService {
		if ok {
			pipes = append(pipes, topo.PipeID.At(i))
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Plan(ctx, PlanRequest{Pipe: pipes[r.IntN(len(pipes))]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanEncode encodes plan answers of a generated city, with
// AppendJSON and with encoding/json.
func BenchmarkPlanEncode(b *testing.B) {
	n, err := testCity()
	if err != nil {
		b.Fatal(err)
	}
	p := &Planner{Live: fixedNetwork{n}}
	pipes := inService(n)
	r := rand.New(rand.NewPCG(1, 1))
	var resps []*PlanResponse
	size := 0
	for range 100 {
		resp, err := p.Plan(context.Background(), PlanRequest{Pipe: pipes[r.IntN(len(pipes))]})
		if err != nil {
			b.Fatal(err)
		}
		resps = append(resps, resp)
		size += len(stdJSON(b, resp))
	}
	b.Run("append", func(b *testing.B) {
		b.SetBytes(int64(size / len(resps)))
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf, _ = resps[i%len(resps)].AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(size / len(resps)))
		var buf bytes.Buffer
		for i := 0; i < b.N; i++ {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(resps[i%len(resps)])
		}
	})
}
