// Package tilestest builds synthetic networks for the tests and benchmarks
// of the map (tiles, the UI): a street grid of pipes with mains every few
// streets, valves, hydrants, connections with customers, two sources and
// four districts, in EPSG:4548 near Jinan. The grid is deterministic: the
// same options give the same network.
package tilestest

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// GridOptions shapes a grid.
type GridOptions struct {
	NX, NY  int       // nodes across and down; pipes: (NX-1)·NY + NX·(NY-1)
	Spacing float64   // metres between nodes; default 100
	Origin  orb.Point // south-west node; default {500000, 4060000} (117°E, 36.67°N)
}

// ForPipes returns options for a square grid of about n pipes.
func ForPipes(n int) GridOptions {
	k := int(math.Ceil(math.Sqrt(float64(n)/2))) + 1
	return GridOptions{NX: k, NY: k}
}

// LineDN is the DN of the pipes along grid line k (a row for east-west
// pipes, a column for north-south ones): every 10th line a DN600
// transmission main, every 5th a DN300 supply main, every other a DN200
// branch, the rest DN100.
func LineDN(k int) int {
	switch {
	case k%10 == 0:
		return 600
	case k%5 == 0:
		return 300
	case k%2 == 0:
		return 200
	}
	return 100
}

func material(dn int) string {
	switch {
	case dn >= 600:
		return "steel"
	case dn >= 300:
		return "ductile_iron"
	case dn >= 200:
		return "cast_iron"
	}
	return "PE"
}

// streets name the east-west streets of the grid, row by row.
var streets = []string{"经十路", "泺源大街", "文化西路", "解放路", "和平路", "山大路", "历山路", "花园路", "工业南路", "二环东路", "北园大街", "经七路"}

// Address is the address of the customers on the north side of HPipe(r, c)
// (two a block: the west one and, with east, the east one): "经十路 13号"
// style, the street by row, the number by block; rows past the named
// streets get a 段 (section) suffix.
func Address(r, c int, east bool) string {
	name := streets[r%len(streets)]
	if k := r / len(streets); k > 0 {
		name += fmt.Sprintf("%d段", k+1)
	}
	n := 2*c + 1
	if east {
		n++
	}
	return fmt.Sprintf("%s %d号", name, n)
}

// HPipe and VPipe name the pipes of the grid: HPipe(r, c) runs east from
// node (c, r), VPipe(c, r) north from node (c, r).
func HPipe(r, c int) string { return fmt.Sprintf("H-%d-%d", r, c) }

// VPipe names the pipe running north from node (c, r).
func VPipe(c, r int) string { return fmt.Sprintf("V-%d-%d", c, r) }

// Grid builds a grid network. Pipe properties: DN by LineDN; six pipes in
// seven have a valve 10% along (one in 37 of them normally closed, one in 23
// inoperable), so a leak is mostly isolated by the four valves around a
// junction; every fourth north-south pipe a hydrant at its middle;
// DN ≤ 200 east-west pipes two connections each, one customer on each (one
// in 50 critical) with an Address; a few river and railway crossings, one abandoned and one
// planned pipe; four districts (quadrants).
func Grid(o GridOptions) *gis.Dataset {
	if o.NX < 2 {
		o.NX = 2
	}
	if o.NY < 2 {
		o.NY = 2
	}
	if o.Spacing == 0 {
		o.Spacing = 100
	}
	if o.Origin == (orb.Point{}) {
		o.Origin = orb.Point{500000, 4060000}
	}
	ds := &gis.Dataset{Name: fmt.Sprintf("grid %dx%d", o.NX, o.NY), SRID: 4548}
	node := func(c, r int) orb.Point {
		return orb.Point{o.Origin[0] + float64(c)*o.Spacing, o.Origin[1] + float64(r)*o.Spacing}
	}
	district := func(p orb.Point) string {
		c := int((p[0] - o.Origin[0]) / o.Spacing / float64(o.NX-1) * 2)
		r := int((p[1] - o.Origin[1]) / o.Spacing / float64(o.NY-1) * 2)
		return fmt.Sprintf("D%d", 1+min(r, 1)*2+min(c, 1))
	}
	var nv, nh, nc, nk int
	addPipe := func(id string, a, b orb.Point, dn int) {
		mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
		p := gis.Pipe{ID: id, DN: dn, Material: material(dn), Status: gis.StatusInService,
			District: district(mid), Geom: orb.LineString{a, b}, Src: gis.Ref{File: "grid", Index: -1}}
		switch {
		case dn >= 600:
			p.Role = "transmission"
		default:
			p.Role = "distribution"
		}
		k := len(ds.Pipes)
		if k%7 != 3 { // most pipes; a few without, so some segments are larger
			v := gis.Valve{ID: fmt.Sprintf("VA%d", nv+1), Pipe: id, DN: dn, NormallyOpen: true, Operable: true,
				Geom: orb.Point{a[0] + 0.1*(b[0]-a[0]), a[1] + 0.1*(b[1]-a[1])}}
			if (nv+1)%37 == 0 {
				v.NormallyOpen = false
			}
			if (nv+1)%23 == 0 {
				v.Operable = false
			}
			ds.Valves = append(ds.Valves, v)
			nv++
		}
		ds.Pipes = append(ds.Pipes, p)
	}
	for r := 0; r < o.NY; r++ {
		for c := 0; c+1 < o.NX; c++ {
			dn := LineDN(r)
			addPipe(HPipe(r, c), node(c, r), node(c+1, r), dn)
			if dn <= 200 {
				for _, f := range []float64{0.3, 0.7} {
					a, b := node(c, r), node(c+1, r)
					nc++
					cid := fmt.Sprintf("C%d", nc)
					ds.Connections = append(ds.Connections, gis.Connection{ID: cid, Pipe: HPipe(r, c),
						Geom: orb.Point{a[0] + f*(b[0]-a[0]), a[1] + 1}})
					nk++
					cu := gis.Customer{ID: fmt.Sprintf("K%d", nk), Connection: cid, Households: 1 + nk%40,
						Category: "residential", Name: fmt.Sprintf("住户 %d", nk), Address: Address(r, c, f > 0.5)}
					if nk%50 == 0 {
						cu.Critical, cu.Category, cu.Households = true, "hospital", 1
						cu.Name = fmt.Sprintf("第%d人民医院", nk/50)
					}
					ds.Customers = append(ds.Customers, cu)
				}
			}
		}
	}
	for c := 0; c < o.NX; c++ {
		for r := 0; r+1 < o.NY; r++ {
			addPipe(VPipe(c, r), node(c, r), node(c, r+1), LineDN(c))
			if (c+r)%4 == 0 {
				a, b := node(c, r), node(c, r+1)
				nh++
				ds.Hydrants = append(ds.Hydrants, gis.Hydrant{ID: fmt.Sprintf("FH%d", nh), Pipe: VPipe(c, r),
					Geom: orb.Point{a[0], (a[1] + b[1]) / 2}})
			}
		}
	}
	// Crossings, an abandoned and a planned pipe.
	for i := range ds.Pipes {
		p := &ds.Pipes[i]
		var r, c int
		if _, err := fmt.Sscanf(p.ID, "H-%d-%d", &r, &c); err == nil && r == o.NY/2 && c >= o.NX/3 && c < o.NX/3+2 {
			p.Crossing = "river"
		}
		if _, err := fmt.Sscanf(p.ID, "V-%d-%d", &c, &r); err == nil && c == o.NX/2+1 && r == o.NY/4 {
			p.Crossing = "railway"
		}
	}
	ds.Pipes[len(ds.Pipes)-1].Status = gis.StatusAbandoned
	ds.Pipes[len(ds.Pipes)-2].Status = gis.StatusPlanned
	ds.Sources = []gis.Source{
		{ID: "S1", Type: "plant", Geom: node(0, 0)},
		{ID: "S2", Type: "reservoir", Geom: node(o.NX-1, o.NY-1)},
	}
	// Districts: quadrants, a little larger than the grid.
	names := []string{"西南片区", "东南片区", "西北片区", "东北片区"}
	x0, y0 := o.Origin[0]-o.Spacing/2, o.Origin[1]-o.Spacing/2
	xm, ym := o.Origin[0]+float64(o.NX-1)*o.Spacing/2, o.Origin[1]+float64(o.NY-1)*o.Spacing/2
	x1, y1 := o.Origin[0]+float64(o.NX-1)*o.Spacing+o.Spacing/2, o.Origin[1]+float64(o.NY-1)*o.Spacing+o.Spacing/2
	boxes := [][4]float64{{x0, y0, xm, ym}, {xm, y0, x1, ym}, {x0, ym, xm, y1}, {xm, ym, x1, y1}}
	for i, b := range boxes {
		ring := orb.Ring{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}}
		ds.Districts = append(ds.Districts, gis.District{ID: fmt.Sprintf("D%d", i+1), Name: names[i],
			Manager: fmt.Sprintf("管理员%d", i+1), Geom: orb.MultiPolygon{{ring}}})
	}
	return ds
}
