package gen

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// pipe metadata kept while the dataset is built.
type pipeMeta struct {
	a, b   int32 // grid nodes at the start and end; -1 off the grid
	street int32 // row j, or ny+column i; -1 none
	along  int32 // node index along the street at the start
}

func (g *city) buildPipes(ds *gis.Dataset, n int) {
	r := g.rng
	nx, ny := g.nx, g.ny
	ds.Pipes = make([]gis.Pipe, 0, n)
	g.meta = make([]pipeMeta, 0, n)
	g.plen = make([]float64, 0, n)
	g.edgePipe = make([]int32, 2*nx*ny)
	verts := make([]orb.Point, 0, 4*n+8*len(g.plants))
	distIDs := make([]string, g.layout.n)
	for k := range distIDs {
		distIDs[k] = g.districtID(k)
	}
	src := gis.Ref{File: "gen", Index: -1}
	// Unknown DN: about 0.1 % of the distribution pipes, at least one.
	nDN0 := max(1, int(math.Round(0.001*float64(g.opt.Pipes))))
	dn0Left, dn0Pool := nDN0, 0
	for e, st := range g.est {
		if st != stNone && st != stRemoved && g.streetCls(e) != clsTrunk {
			dn0Pool++
		}
	}
	for e := range g.edgePipe {
		g.edgePipe[e] = -1
		st := g.est[e]
		if st == stNone || st == stRemoved {
			continue
		}
		a, b := g.ends(e)
		i, j := a%nx, a/nx
		pa, pb := g.pos[a], g.pos[b]
		// Geometry: straight, or with one or two gentle bends.
		start := len(verts)
		verts = append(verts, pa)
		dx, dy := pb[0]-pa[0], pb[1]-pa[1]
		L := math.Hypot(dx, dy)
		px, py := -dy/L, dx/L
		switch x := r.Float64(); {
		case x < 0.5:
		case x < 0.8:
			t := 0.4 + 0.2*r.Float64()
			o := (2*r.Float64() - 1) * bend
			verts = append(verts, orb.Point{pa[0] + t*dx + o*px, pa[1] + t*dy + o*py})
		default:
			t1, t2 := 0.27+0.12*r.Float64(), 0.61+0.12*r.Float64()
			o1, o2 := (2*r.Float64()-1)*bend, (2*r.Float64()-1)*bend
			verts = append(verts,
				orb.Point{pa[0] + t1*dx + o1*px, pa[1] + t1*dy + o1*py},
				orb.Point{pa[0] + t2*dx + o2*px, pa[1] + t2*dy + o2*py})
		}
		verts = append(verts, pb)
		geom := orb.LineString(verts[start:len(verts):len(verts)])

		p := gis.Pipe{Geom: geom, Src: src, Status: gis.StatusInService, Role: roleDistribution}
		var u, v float64
		var cls uint8
		var tr int16 = -1
		m := pipeMeta{a: int32(a), b: int32(b)}
		if e&1 == 0 {
			u, v = float64(i)+0.5, float64(j)
			cls, p.DN, tr = g.rowCls[j], int(g.rowDN[j]), g.rowTrunk[j]
			m.street, m.along = int32(j), int32(i)
			if i == g.railCol {
				p.Crossing = "railway"
			}
		} else {
			u, v = float64(i), float64(j)+0.5
			cls, p.DN, tr = g.colCls[i], int(g.colDN[i]), g.colTrunk[i]
			m.street, m.along = int32(ny+i), int32(j)
			if j == g.riverRow {
				p.Crossing = "river"
			}
		}
		rad := g.radius(u, v)
		switch {
		case cls == clsTrunk:
			t := &g.trunks[tr]
			along := float64(i)
			if !t.row {
				along = float64(j)
			}
			p.DN = t.dnAt(along + 0.5)
			p.Role = roleTransmission
			p.InstallYear = 1985 + r.IntN(36)
			p.Material = matDI
			if p.InstallYear < 1995 || r.Float64() < 0.3 {
				p.Material = matSteel
			}
		default:
			if cls == clsSmall && r.Float64() < 0.03 {
				p.DN = []int{160, 180}[r.IntN(2)]
			}
			if dn0Left > 0 && r.IntN(dn0Pool) < dn0Left {
				p.DN = 0
				dn0Left--
			}
			p.InstallYear, p.Material = g.yearMaterial(p.DN, rad)
		}
		if cls != clsTrunk {
			dn0Pool--
		}
		switch st {
		case stAbandoned:
			p.Status = gis.StatusAbandoned
			p.InstallYear = 1960 + r.IntN(26)
			p.Material = matCI
		case stPlanned:
			p.Status = gis.StatusPlanned
			p.InstallYear = 0
			p.Material = matPE
			if p.DN >= 200 {
				p.Material = matDI
			}
		}
		p.District = distIDs[g.layout.lookup(u, v)]
		g.edgePipe[e] = int32(len(ds.Pipes))
		ds.Pipes = append(ds.Pipes, p)
		g.meta = append(g.meta, m)
		g.plen = append(g.plen, gis.LineLength(geom))
	}
	// Plant outlets and raw-water mains.
	for pi := range g.plants {
		pl := &g.plants[pi]
		t := &g.trunks[pl.trunk]
		pl.pipe0 = len(ds.Pipes)
		i, j := float64(int(pl.node)%nx), float64(int(pl.node)/nx)
		prev := g.pos[pl.node]
		for k := 1; k < len(pl.dist); k++ {
			d := pl.dist[k]
			q := g.at(i+pl.du*d, j+pl.dv*d)
			start := len(verts)
			verts = append(verts, prev, q)
			geom := orb.LineString(verts[start:len(verts):len(verts)])
			prev = q
			mid := (d + pl.dist[k-1]) / 2
			u, v := i+pl.du*mid, j+pl.dv*mid
			p := gis.Pipe{Geom: geom, Src: src, Status: gis.StatusInService, Role: roleTransmission,
				District: distIDs[g.layout.lookup(u, v)]}
			m := pipeMeta{a: -1, b: -1, street: -1}
			if k == 1 {
				p.DN = t.maxDN
				p.Material = matDI
				p.InstallYear = 1990 + r.IntN(30)
				m.a = pl.node
			} else {
				p.DN = g.nRawDN
				p.Material = matSteel
				p.InstallYear = 1975 + r.IntN(30)
			}
			ds.Pipes = append(ds.Pipes, p)
			g.meta = append(g.meta, m)
			g.plen = append(g.plen, gis.LineLength(geom))
		}
	}
	for k := range ds.Pipes {
		ds.Pipes[k].ID = g.str.id("P", k+1)
	}
}

// streetCls is the class of the street lattice edge e runs along.
func (g *city) streetCls(e int) uint8 {
	a := e / 2
	if e&1 == 0 {
		return g.rowCls[a/g.nx]
	}
	return g.colCls[a%g.nx]
}

// dnAt is the trunk's DN at position x along it: largest at the plant,
// stepping down to DN600 across the city.
func (t *trunk) dnAt(x float64) int {
	steps := trunkSteps
	for len(steps) > 1 && steps[0] > t.maxDN {
		steps = steps[1:]
	}
	span := float64(max(1, t.hi-t.lo))
	f := (x - float64(t.lo)) / span
	if t.plant >= 0 && !t.atLo {
		f = 1 - f
	}
	k := int(f * float64(len(steps)))
	return steps[min(max(k, 0), len(steps)-1)]
}

// radius is the normalised distance of lattice point (u, v) from the centre.
func (g *city) radius(u, v float64) float64 {
	a := 2*u/float64(g.nx-1) - 1
	b := 2*v/float64(g.ny-1) - 1
	return math.Min(1, math.Sqrt(a*a+b*b)/1.2)
}

// yearMaterial draws an install year and a material: the old town is old
// cast iron, the suburbs new PE and ductile iron, with renewals everywhere.
func (g *city) yearMaterial(dn int, rad float64) (int, string) {
	r := g.rng
	y := int(1968 + 45*rad + 8*r.NormFloat64())
	if r.Float64() < 0.15 {
		y = 2000 + r.IntN(26)
	}
	y = min(max(y, 1960), 2025)
	x := r.Float64()
	switch {
	case dn == 0:
		if x < 0.6 {
			if r.Float64() < 0.5 {
				return 0, ""
			}
			return y, ""
		}
		return y, matCI
	case dn >= 300:
		if y < 1985 {
			if x < 0.65 {
				return y, matCI
			}
			return y, matSteel
		}
		if x < 0.9 {
			return y, matDI
		}
		return y, matSteel
	case dn >= 200:
		if y < 1985 {
			return y, matCI
		}
		if x < 0.85 {
			return y, matDI
		}
		return y, matPE
	case dn == 160 || dn == 180:
		return max(y, 1998+r.IntN(8)), matPE
	default:
		switch {
		case y < 1985:
			return y, matCI
		case y < 2000:
			if x < 0.5 {
				return y, matDI
			}
			return y, matCI
		case x < 0.65:
			return y, matPE
		default:
			return y, matDI
		}
	}
}

// ---------------------------------------------------------------- sources

func (g *city) buildSources(ds *gis.Dataset) {
	r := g.rng
	nTanks := 2 + g.opt.Pipes/300_000
	ds.Sources = make([]gis.Source, 0, 2*len(g.plants)+nTanks)
	src := gis.Ref{File: "gen", Index: -1}
	for _, pl := range g.plants {
		out := ds.Pipes[pl.pipe0].Geom
		ds.Sources = append(ds.Sources, gis.Source{Type: "plant", Geom: out[len(out)-1], Src: src})
	}
	for _, pl := range g.plants {
		last := pl.pipe0 + len(pl.dist) - 2
		raw := ds.Pipes[last].Geom
		ds.Sources = append(ds.Sources, gis.Source{Type: "reservoir", Geom: raw[len(raw)-1], Src: src})
	}
	// Tanks on high ground (the south), at a junction of in-service pipes.
	nx := g.nx
	used := map[int]bool{}
	for tries := 0; nTanks > 0 && tries < 10000; tries++ {
		i, j := r.IntN(nx), r.IntN(max(1, g.ny/3))
		n := j*nx + i
		if !g.in[n] || used[n] || g.degree(n) < 2 {
			continue
		}
		used[n] = true
		ds.Sources = append(ds.Sources, gis.Source{Type: "tank", Geom: g.pos[n], Src: src})
		nTanks--
	}
	for k := range ds.Sources {
		ds.Sources[k].ID = g.str.id("S", k+1)
	}
}

// incident lists the in-service pipes at grid node n, with whether n is
// their start.
func (g *city) incident(n int, out []int32, starts []bool) ([]int32, []bool) {
	out, starts = out[:0], starts[:0]
	nx := g.nx
	i, j := n%nx, n/nx
	add := func(e int, start bool) {
		if e < 0 {
			return
		}
		if p := g.edgePipe[e]; p >= 0 && (g.est[e] == stKept) {
			out = append(out, p)
			starts = append(starts, start)
		}
	}
	add(2*n, true)
	add(2*n+1, true)
	if i > 0 {
		add(2*(n-1), false)
	}
	if j > 0 {
		add(2*(n-nx)+1, false)
	}
	for _, pl := range g.plants {
		if int(pl.node) == n {
			out = append(out, int32(pl.pipe0))
			starts = append(starts, true)
		}
	}
	return out, starts
}

func (g *city) degree(n int) int {
	var buf [6]int32
	var sb [6]bool
	p, _ := g.incident(n, buf[:0], sb[:0])
	return len(p)
}
