package gis_test

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
)

// TestLineViews checks the copy-free PointOnPipe and AppendSubLine against
// PointAt and SubLine on the pipes of a generated city.
func TestLineViews(t *testing.T) {
	ds, err := gen.Generate(gen.Options{Pipes: 5000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	topo, _ := gis.Resolve(ds, 0)
	r := rand.New(rand.NewPCG(4, 4))
	prefix := orb.LineString{{1, 2}}
	for i := range topo.PipeID.Len() {
		ls := topo.PipeLine(i)
		L := topo.PipeLen[i]
		for range 5 {
			a, b := r.Float64()*L*1.1-0.05*L, r.Float64()*L*1.1-0.05*L
			if a > b {
				a, b = b, a
			}
			if r.IntN(4) == 0 {
				a = 0
			}
			if r.IntN(4) == 0 {
				b = L
			}
			if got, want := topo.PointOnPipe(i, a), gis.PointAt(ls, a); got != want {
				t.Fatalf("pipe %d at %v: %v, want %v", i, a, got, want)
			}
			got := topo.AppendSubLine(append(orb.LineString(nil), prefix...), i, a, b)
			want := append(append(orb.LineString(nil), prefix...), gis.SubLine(ls, a, b)...)
			if len(got) != len(want) {
				t.Fatalf("pipe %d from %v to %v: %v, want %v", i, a, b, got, want)
			}
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("pipe %d from %v to %v: %v, want %v", i, a, b, got, want)
				}
			}
		}
	}
}
