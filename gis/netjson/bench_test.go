package netjson

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

// benchFile builds a deterministic network the size of a large utility:
// 100,000 pipes, 30,000 valves and 100,000 customers, with properties like
// the Giswater sample's.
func benchFile(tb testing.TB) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	ds := &gis.Dataset{Name: "bench", SRID: 25831}
	materials := []string{"PVC", "FD", "FC", "PE-HD"}
	for i := 0; i < 100_000; i++ {
		x, y := 400000+rng.Float64()*50000, 4570000+rng.Float64()*50000
		ls := orb.LineString{{x, y}}
		for n := 1 + rng.IntN(4); n > 0; n-- {
			x, y = x+rng.Float64()*40-20, y+rng.Float64()*40-20
			ls = append(ls, orb.Point{x, y})
		}
		ds.Pipes = append(ds.Pipes, gis.Pipe{
			ID: fmt.Sprint(100000 + i), DN: []int{63, 110, 160, 200}[rng.IntN(4)], Material: materials[rng.IntN(4)],
			Role: "distribution", Status: gis.StatusInService, InstallYear: 1960 + rng.IntN(60),
			District: fmt.Sprintf("dma%d", 1+rng.IntN(5)), Geom: ls,
			Extra: map[string]any{"catalog": "PVC110-PN16", "node_a": fmt.Sprint(rng.IntN(1e6)), "node_b": fmt.Sprint(rng.IntN(1e6))},
		})
	}
	for i := 0; i < 30_000; i++ {
		p := ds.Pipes[rng.IntN(len(ds.Pipes))]
		ds.Valves = append(ds.Valves, gis.Valve{
			ID: fmt.Sprint(i), Pipe: p.ID, DN: p.DN, NormallyOpen: rng.IntN(50) != 0, Operable: rng.IntN(30) != 0,
			Geom: p.Geom[0], Extra: map[string]any{"catalog": "SHTFF-VALVE110-PN16"},
		})
	}
	for i := 0; i < 100_000; i++ {
		ds.Customers = append(ds.Customers, gis.Customer{
			ID: fmt.Sprint(i), Connection: fmt.Sprint(rng.IntN(30000)), Address: fmt.Sprintf("Carrer Major, %d", rng.IntN(300)),
			Category: "residential", Households: 1,
			Extra: map[string]any{"code": fmt.Sprint(10000 + i), "customer_code": fmt.Sprintf("cc%d", i), "priority": "low", "meter": "DN15"},
		})
	}
	var buf bytes.Buffer
	if err := Write(&buf, ds); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkRead(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ds, _, err := Read(bytes.NewReader(data), Options{Name: "bench.geojson"})
		if err != nil {
			b.Fatal(err)
		}
		if len(ds.Pipes) != 100_000 || len(ds.Valves) != 30_000 || len(ds.Customers) != 100_000 {
			b.Fatal("wrong counts")
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	ds, _, err := Read(bytes.NewReader(benchFile(b)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
