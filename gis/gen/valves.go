package gen

import (
	"math"

	"github.com/waterline-gis/waterline/gis"
)

func (g *city) buildValves(ds *gis.Dataset) {
	r := g.rng
	nn := g.nx * g.ny
	var buf [6]int32
	var sb [6]bool
	deg3 := 0
	for n := 0; n < nn; n++ {
		if g.in[n] && g.degree(n) >= 3 {
			deg3++
		}
	}
	// Per tee 0, 1 or 2 valves, about 0.3 per pipe in all.
	m := math.Min(1, 0.3*float64(len(ds.Pipes))/float64(max(1, deg3)))
	p2, p1 := m/4, m/2
	count := make([]uint8, nn)
	total := 0
	for n := 0; n < nn; n++ {
		if !g.in[n] || g.degree(n) < 3 {
			continue
		}
		switch x := r.Float64(); {
		case x < p2:
			count[n] = 2
		case x < p2+p1:
			count[n] = 1
		}
		total += int(count[n])
	}
	ds.Valves = make([]gis.Valve, 0, total)
	node := make([]int32, 0, total) // the tee each valve is near
	vp := make([]int32, 0, total)   // its pipe
	src := gis.Ref{File: "gen", Index: -1}
	for n := 0; n < nn; n++ {
		k := int(count[n])
		if k == 0 {
			continue
		}
		inc, st := g.incident(n, buf[:0], sb[:0])
		first := r.IntN(len(inc))
		second := (first + 1 + r.IntN(len(inc)-1)) % len(inc)
		for c := 0; c < k; c++ {
			x := first
			if c == 1 {
				x = second
			}
			pi := inc[x]
			pp := &ds.Pipes[pi]
			d := 2 + 3*r.Float64()
			s := d
			if !st[x] {
				s = g.plen[pi] - d
			}
			ds.Valves = append(ds.Valves, gis.Valve{
				Pipe: pp.ID, DN: pp.DN, NormallyOpen: true, Operable: true,
				Geom: gis.PointAt(pp.Geom, s), Src: src,
			})
			node = append(node, int32(n))
			vp = append(vp, pi)
		}
	}
	V := len(ds.Valves)
	// Normally closed: ~1 %, first on the district boundaries (a distribution
	// pipe whose ends lie in different districts), never where closing would
	// leave the pipe dry.
	closable := func(v int) (ok, boundary bool) {
		pi := vp[v]
		m := g.meta[pi]
		if ds.Pipes[pi].Role != roleDistribution || m.a < 0 || m.b < 0 {
			return false, false
		}
		far := m.b
		if m.b == node[v] {
			far = m.a
		}
		if g.degree(int(far)) < 2 {
			return false, false
		}
		return true, g.nodeDistrict(m.a) != g.nodeDistrict(m.b)
	}
	wantClosed := int(math.Round(0.01 * float64(V)))
	var nb, no int
	kind := make([]uint8, V) // 1 boundary, 2 other closable
	for v := 0; v < V; v++ {
		ok, b := closable(v)
		switch {
		case b:
			kind[v], nb = 1, nb+1
		case ok:
			kind[v], no = 2, no+1
		}
	}
	needB := min(wantClosed, nb)
	needO := min(wantClosed-needB, no)
	for v := 0; v < V; v++ {
		switch kind[v] {
		case 1:
			if r.IntN(nb) < needB {
				ds.Valves[v].NormallyOpen = false
				needB--
			}
			nb--
		case 2:
			if r.IntN(no) < needO {
				ds.Valves[v].NormallyOpen = false
				needO--
			}
			no--
		}
	}
	// Inoperable: ~2 %.
	need := int(math.Round(0.02 * float64(V)))
	for v := 0; v < V; v++ {
		if r.IntN(V-v) < need {
			ds.Valves[v].Operable = false
			need--
		}
	}
	for k := range ds.Valves {
		ds.Valves[k].ID = g.str.id("V", k+1)
	}
}
