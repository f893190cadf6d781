package epanet

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

// FuzzRead: Read never panics, and either returns a dataset or a
// *gis.InvalidError with at least one issue.
func FuzzRead(f *testing.F) {
	f.Add([]byte(tiny), uint8(0))
	f.Add([]byte(tiny), uint8(3))
	f.Add([]byte("[PIPES]\nP A B 1 1 1\n[JUNCTIONS]\nA 0\nB 0 1\n[COORDINATES]\nA 0 0\nB 0 0\n"), uint8(1))
	f.Add([]byte("[JUNCTIONS]\n\"J 1\" 1 2\nJ2 1\n[RESERVOIRS]\nR 3\n[TANKS]\nT 1 2 3 4 5 6 c\n[PIPES]\nP1 R \"J 1\" 10 100 100 CV\nP2 \"J 1\" J2 1e3 8 100 0 closed\n[PUMPS]\nPU J2 T HEAD 1\n[VALVES]\nV T R 6 gpv c1\n[STATUS]\nPU closed\nP1 open\n[DEMANDS]\nJ2 -1\nJ2 3\n[COORDINATES]\n\"J 1\" 1 1\nJ2 2 2\nR 0 0\nT 5 5\n[VERTICES]\nP2 1.5 1.5\n[OPTIONS]\nunits cmh\n[END]\n"), uint8(2))
	f.Add([]byte("[pipes]\r\nP A B x\r\n[options]\r\nUNITS\r\n[coordinates]\r\nA NaN 1\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := Options{Name: "fuzz.inp", MaxBytes: 1 << 16, Seed: int64(mode)}
		switch mode % 4 {
		case 0:
			opt.SRID = 25831
		case 1:
			opt.Origin = &orb.Point{117, 36.67}
			opt.Valves = "n-1"
		case 2:
			opt.Origin = &orb.Point{-3, 40}
			opt.Units = "ft"
			opt.Valves = "n-1"
		case 3: // no CRS: always an error
		}
		ds, _, err := Read(bytes.NewReader(data), opt)
		if err != nil {
			var inv *gis.InvalidError
			if !errors.As(err, &inv) || len(inv.Issues) == 0 {
				t.Fatalf("error %v is not an InvalidError with issues", err)
			}
			if ds != nil {
				t.Fatal("dataset with an error")
			}
			return
		}
		if mode%4 == 3 {
			t.Fatal("no CRS, yet no error")
		}
		finite := func(q orb.Point) bool {
			return !math.IsNaN(q[0]) && !math.IsInf(q[0], 0) && !math.IsNaN(q[1]) && !math.IsInf(q[1], 0)
		}
		for _, p := range ds.Pipes {
			if len(p.Geom) < 2 {
				t.Fatalf("pipe %s with %d points", p.ID, len(p.Geom))
			}
			for _, q := range p.Geom {
				if !finite(q) {
					t.Fatalf("pipe %s point %v", p.ID, q)
				}
			}
		}
		for _, v := range ds.Valves {
			if !finite(v.Geom) {
				t.Fatalf("valve %s point %v", v.ID, v.Geom)
			}
		}
		seen := map[string]bool{}
		for _, v := range ds.Valves {
			if seen[v.ID] {
				t.Fatalf("duplicate valve id %s", v.ID)
			}
			seen[v.ID] = true
		}
	})
}
