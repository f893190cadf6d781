package gis_test

import (
	"math/rand/v2"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
)

// BenchmarkIsolate plans random leaks on a generated city (in memory), with
// and without the contingency of every valve to close: by re-isolating
// with each valve failed, and incrementally (State.Fallbacks, as the
// planner does).
func BenchmarkIsolate(b *testing.B) {
	ds, err := gen.Generate(gen.Options{Pipes: 200_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	topo, _ := gis.Resolve(ds, 0)
	n := gis.NewNetwork(topo)
	var pipes []int32
	for i, ok := range topo.PipeInService {
		if ok {
			pipes = append(pipes, int32(i))
		}
	}
	st := n.Normal()
	b.Run("plan", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < b.N; i++ {
			p := pipes[r.IntN(len(pipes))]
			st.Isolate(gis.Leak{Pipe: p, S: topo.PipeLen[p] / 2})
		}
	})
	b.Run("plan+contingency", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < b.N; i++ {
			p := pipes[r.IntN(len(pipes))]
			l := gis.Leak{Pipe: p, S: topo.PipeLen[p] / 2}
			pl := st.Isolate(l)
			for _, v := range pl.ToClose {
				st.Isolate(gis.Leak{Pipe: p, S: l.S, Failed: []int32{v}})
			}
		}
	})
	b.Run("plan+fallbacks", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < b.N; i++ {
			p := pipes[r.IntN(len(pipes))]
			l := gis.Leak{Pipe: p, S: topo.PipeLen[p] / 2}
			st.Fallbacks(l, st.Isolate(l))
		}
	})
}
