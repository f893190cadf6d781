package repair

import (
	"context"
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
			pipes = append(pipes, topo.PipeID[i])
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
