package gen_test

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis/gen"
)

// Streets run over the block grid moved by StreetOffset: every street
// vertex is a pipe end moved by it, and the same options give the same
// pipes as Generate.
func TestStreets(t *testing.T) {
	ds, streets, err := gen.GenerateWithStreets(gen.Options{Pipes: 2000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gen.Generate(gen.Options{Pipes: 2000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Pipes) != len(ds.Pipes) || plain.Pipes[len(plain.Pipes)/2].ID != ds.Pipes[len(ds.Pipes)/2].ID {
		t.Fatal("GenerateWithStreets gives other pipes than Generate")
	}
	ends := map[orb.Point]bool{}
	for _, p := range ds.Pipes {
		ends[p.Geom[0]], ends[p.Geom[len(p.Geom)-1]] = true, true
	}
	if len(streets) < 20 {
		t.Fatalf("%d streets", len(streets))
	}
	verts := 0
	for _, s := range streets {
		if len(s.Geom) < 2 || s.Name == "" || s.Highway == "" {
			t.Fatalf("street %+v", s)
		}
		for _, q := range s.Geom {
			verts++
			if !ends[orb.Point{q[0] - gen.StreetOffset[0], q[1] - gen.StreetOffset[1]}] {
				t.Fatalf("street %s vertex %v is not over a pipe end", s.Name, q)
			}
		}
	}
	// One street per run of blocks: about as many vertices as grid pipes plus runs.
	if verts < len(ds.Pipes)/2 {
		t.Fatalf("%d street vertices for %d pipes", verts, len(ds.Pipes))
	}
}
