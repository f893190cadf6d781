package gen

import (
	"math"

	"github.com/waterline-gis/waterline/gis"
)

// valveCell is the size, in blocks, of the cells whose boundaries carry
// valves: every in-service street pipe crossing a cell boundary gets one,
// about 1/valveCell valves per pipe, so a leak drains a few blocks.
const valveCell = 3

// missingValve is the share of boundary crossings left without a valve,
// as in a real network (some shutoffs then drain two cells).
const missingValve = 0.04

func (g *city) buildValves(ds *gis.Dataset) {
	r := g.rng
	nx := g.nx
	ox, oy := r.IntN(valveCell), r.IntN(valveCell)
	cellOf := func(n int32) (int, int) {
		i, j := int(n)%nx, int(n)/nx
		return (i + ox) / valveCell, (j + oy) / valveCell
	}
	ds.Valves = make([]gis.Valve, 0, len(ds.Pipes)/valveCell+16)
	node := make([]int32, 0, cap(ds.Valves)) // the intersection each valve is near
	vp := make([]int32, 0, cap(ds.Valves))   // its pipe
	src := gis.Ref{File: "gen", Index: -1}
	for pi := range ds.Pipes {
		pp := &ds.Pipes[pi]
		m := g.meta[pi]
		if m.a < 0 || m.b < 0 || pp.Status != gis.StatusInService {
			continue
		}
		ca, ra := cellOf(m.a)
		cb, rb := cellOf(m.b)
		if (ca == cb && ra == rb) || r.Float64() < missingValve {
			continue
		}
		d := 2 + 3*r.Float64() // 2–5 m from the intersection
		s, nd := d, m.a
		if r.IntN(2) == 1 {
			s, nd = g.plen[pi]-d, m.b
		}
		ds.Valves = append(ds.Valves, gis.Valve{
			Pipe: pp.ID, DN: pp.DN, NormallyOpen: true, Operable: true,
			Geom: gis.PointAt(pp.Geom, s), Src: src,
		})
		node = append(node, nd)
		vp = append(vp, int32(pi))
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
