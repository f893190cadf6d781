package gen

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// districts is a tiling of the city by rectangles in lattice space, mapped
// to the CRS with the city's warp. Boundaries lie at lattice coordinates
// k−0.25, a quarter block away from every node and pipe midpoint, so a
// pipe's district is decided exactly in lattice space.
type districts struct {
	colB  []float64   // column boundaries in u
	rowB  [][]float64 // per column, row boundaries in v
	first []int       // index of column c's first district
	n     int
}

// lookup is the district of lattice point (u, v). No node, pipe midpoint or
// plant-chain point lies on a boundary, so the inner boundaries below u are
// exactly those before the first one >= u.
func (d *districts) lookup(u, v float64) int {
	c := sort.SearchFloat64s(d.colB[1:len(d.colB)-1], u)
	rb := d.rowB[c]
	rr := sort.SearchFloat64s(rb[1:len(rb)-1], v)
	return d.first[c] + rr
}

// quantileCuts splits the counts cnt into k parts of about equal totals, each
// at least two wide, returning the k−1 inner cut indices (a cut at x puts
// index x in the upper part).
func quantileCuts(cnt []int, k int) ([]int, bool) {
	total := 0
	for _, c := range cnt {
		total += c
	}
	cuts := make([]int, 0, k-1)
	acc, x := 0, 0
	prev := -1
	for q := 1; q < k; q++ {
		want := (total*q + k/2) / k
		for x < len(cnt) && acc+cnt[x] <= want {
			acc += cnt[x]
			x++
		}
		cut := x
		if prev >= 0 && cut < prev+2 {
			cut = prev + 2
		}
		if cut < 2 {
			cut = 2
		}
		if cut > len(cnt)-2*(k-q) {
			return nil, false
		}
		for x < cut {
			acc += cnt[x]
			x++
		}
		cuts = append(cuts, cut)
		prev = cut
	}
	return cuts, true
}

func (g *city) planDistricts() error {
	D := g.opt.Districts
	nx, ny := g.nx, g.ny
	tooMany := fmt.Errorf("gen: %d districts do not fit a city of %d pipes", D, g.opt.Pipes)
	if D > nx*ny/8 {
		return tooMany
	}
	cols := int(math.Round(math.Sqrt(float64(D) * float64(nx) / float64(ny))))
	cols = min(max(cols, 1), D)
	colCnt := make([]int, nx)
	for n, in := range g.in {
		if in {
			colCnt[n%nx]++
		}
	}
	cuts, ok := quantileCuts(colCnt, cols)
	if !ok {
		return tooMany
	}
	// Extents in lattice space of everything that must be covered.
	type pt struct{ u, v float64 }
	var extra []pt
	for _, pl := range g.plants {
		i, j := float64(int(pl.node)%nx), float64(int(pl.node)/nx)
		for k, d := range pl.dist {
			extra = append(extra, pt{i + pl.du*d, j + pl.dv*d})
			if k > 0 {
				m := (d + pl.dist[k-1]) / 2
				extra = append(extra, pt{i + pl.du*m, j + pl.dv*m})
			}
		}
	}
	uMin, uMax := 0.0, float64(nx-1)
	for _, p := range extra {
		uMin, uMax = math.Min(uMin, p.u), math.Max(uMax, p.u)
	}
	d := &g.layout
	d.colB = append(d.colB, math.Floor(uMin)-1-0.25)
	for _, c := range cuts {
		d.colB = append(d.colB, float64(c)-0.25)
	}
	d.colB = append(d.colB, math.Ceil(uMax)+2-0.25)
	d.rowB = make([][]float64, cols)
	d.first = make([]int, cols)
	rowCnt := make([]int, ny)
	for c := 0; c < cols; c++ {
		rows := D / cols
		if c < D%cols {
			rows++
		}
		clear(rowCnt)
		lo, hi := d.colB[c], d.colB[c+1]
		vMin, vMax := math.Inf(1), math.Inf(-1)
		for j := 0; j < ny; j++ {
			for i := max(0, int(math.Ceil(lo))); i < nx && float64(i) < hi; i++ {
				if g.in[j*nx+i] {
					rowCnt[j]++
					vMin, vMax = math.Min(vMin, float64(j)), math.Max(vMax, float64(j))
				}
			}
		}
		for _, p := range extra {
			if p.u >= lo && p.u < hi {
				vMin, vMax = math.Min(vMin, p.v), math.Max(vMax, p.v)
			}
		}
		rc, ok := quantileCuts(rowCnt, rows)
		if !ok || math.IsInf(vMin, 1) {
			return tooMany
		}
		rb := []float64{math.Floor(vMin) - 1 - 0.25}
		for _, x := range rc {
			rb = append(rb, float64(x)-0.25)
		}
		rb = append(rb, math.Ceil(vMax)+2-0.25)
		for k := 1; k < len(rb); k++ {
			if rb[k] <= rb[k-1] {
				return tooMany
			}
		}
		d.rowB[c] = rb
		d.first[c] = d.n
		d.n += rows
	}
	return nil
}

func (g *city) buildDistricts(ds *gis.Dataset) {
	d := &g.layout
	ds.Districts = make([]gis.District, 0, d.n)
	for c := range d.rowB {
		u0, u1 := d.colB[c], d.colB[c+1]
		rb := d.rowB[c]
		for k := 0; k+1 < len(rb); k++ {
			v0, v1 := rb[k], rb[k+1]
			nu, nv := int(math.Round(u1-u0)), int(math.Round(v1-v0))
			ring := make(orb.Ring, 0, 2*(nu+nv)+1)
			for s := 0; s < nu; s++ {
				ring = append(ring, g.at(u0+float64(s), v0))
			}
			for s := 0; s < nv; s++ {
				ring = append(ring, g.at(u1, v0+float64(s)))
			}
			for s := 0; s < nu; s++ {
				ring = append(ring, g.at(u1-float64(s), v1))
			}
			for s := 0; s < nv; s++ {
				ring = append(ring, g.at(u0, v1-float64(s)))
			}
			ring = append(ring, ring[0])
			num := len(ds.Districts) + 1
			n3 := fmt.Sprintf("%03d", num)
			ds.Districts = append(ds.Districts, gis.District{
				ID: "D" + n3, Name: "片区" + n3, Manager: "manager-" + n3,
				Geom: orb.MultiPolygon{orb.Polygon{ring}},
				Src:  gis.Ref{File: "gen", Index: -1},
			})
		}
	}
}

func (g *city) districtID(k int) string {
	return fmt.Sprintf("D%03d", k+1)
}
