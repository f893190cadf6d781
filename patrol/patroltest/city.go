// Package patroltest builds synthetic networks for the patrol tests and
// benchmarks: a street grid of pipes (one per block), split into
// rectangular districts, with a deterministic mix of grades and a river
// and a railway crossing the city. The same Options give the same
// network.
package patroltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Options shape a grid city.
type Options struct {
	NX, NY  int       // junctions across and down; pipes ≈ 2·NX·NY
	Spacing float64   // metres between junctions; default 100
	DX, DY  int       // districts across and down; default 1×1
	Origin  orb.Point // south-west junction; default {500000, 4060000} (EPSG:4548, Jinan)
	Jitter  float64   // junctions moved up to this many metres (seeded); default 0
	Seed    uint64
}

// ForPipes returns options for a square city of about n pipes in d
// districts (d rounded to a near rectangle).
func ForPipes(n, d int) Options {
	k := int(math.Ceil(math.Sqrt(float64(n)/2))) + 1
	dx := int(math.Ceil(math.Sqrt(float64(d))))
	dy := (d + dx - 1) / dx
	return Options{NX: k, NY: k, DX: dx, DY: dy, Jitter: 8, Seed: 1}
}

// SRID is the CRS of the generated coordinates.
const SRID = 4548

// LineDN is the DN of the pipes along grid line k: every 10th line DN600
// (special), every 5th DN300 (grade 1), every other DN200 (grade 2), the
// rest DN100 (grade 3).
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

// HPipe names the pipe running east from junction (c, r).
func HPipe(r, c int) string { return fmt.Sprintf("H-%d-%d", r, c) }

// VPipe names the pipe running north from junction (c, r).
func VPipe(c, r int) string { return fmt.Sprintf("V-%d-%d", c, r) }

// DistrictID names district (i, j) (column i, row j).
func DistrictID(i, j int) string { return fmt.Sprintf("D%02d%02d", j, i) }

// City builds the grid. East-west pipes crossing the river (between
// columns NX/3 and NX/3+1) are river crossings; north-south pipes
// between rows NY/3 and NY/3+1 in the east half are railway crossings.
// Each district is a rectangle with one manager ("M-" + its id).
func City(o Options) *gis.Dataset {
	o.NX, o.NY = max(o.NX, 2), max(o.NY, 2)
	o.DX, o.DY = max(o.DX, 1), max(o.DY, 1)
	if o.Spacing == 0 {
		o.Spacing = 100
	}
	if o.Origin == (orb.Point{}) {
		o.Origin = orb.Point{500000, 4060000}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	pos := make([]orb.Point, o.NX*o.NY)
	for r := 0; r < o.NY; r++ {
		for c := 0; c < o.NX; c++ {
			p := orb.Point{o.Origin[0] + float64(c)*o.Spacing, o.Origin[1] + float64(r)*o.Spacing}
			if o.Jitter > 0 {
				p[0] += (rng.Float64()*2 - 1) * o.Jitter
				p[1] += (rng.Float64()*2 - 1) * o.Jitter
			}
			pos[r*o.NX+c] = p
		}
	}
	w := float64(o.NX-1) * o.Spacing
	h := float64(o.NY-1) * o.Spacing
	districtOf := func(p orb.Point) string {
		i := int((p[0] - o.Origin[0]) / w * float64(o.DX))
		j := int((p[1] - o.Origin[1]) / h * float64(o.DY))
		return DistrictID(min(max(i, 0), o.DX-1), min(max(j, 0), o.DY-1))
	}
	ds := &gis.Dataset{Name: fmt.Sprintf("grid city %dx%d", o.NX, o.NY), SRID: SRID}
	for j := 0; j < o.DY; j++ {
		for i := 0; i < o.DX; i++ {
			x0 := o.Origin[0] + w*float64(i)/float64(o.DX) - o.Spacing/2
			x1 := o.Origin[0] + w*float64(i+1)/float64(o.DX) + o.Spacing/2
			y0 := o.Origin[1] + h*float64(j)/float64(o.DY) - o.Spacing/2
			y1 := o.Origin[1] + h*float64(j+1)/float64(o.DY) + o.Spacing/2
			id := DistrictID(i, j)
			ds.Districts = append(ds.Districts, gis.District{ID: id, Name: "片区 " + id, Manager: "M-" + id,
				Geom: orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}})
		}
	}
	add := func(id string, a, b orb.Point, dn int, crossing string) {
		mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
		role := "distribution"
		if dn >= 600 {
			role = "transmission"
		}
		ds.Pipes = append(ds.Pipes, gis.Pipe{ID: id, DN: dn, Material: "DI", Role: role, Crossing: crossing,
			Status: gis.StatusInService, District: districtOf(mid), Geom: orb.LineString{a, b},
			Src: gis.Ref{File: "grid", Index: -1}})
	}
	river, rail := o.NX/3, o.NY/3
	for r := 0; r < o.NY; r++ {
		for c := 0; c+1 < o.NX; c++ {
			cross := ""
			if c == river {
				cross = "river"
			}
			add(HPipe(r, c), pos[r*o.NX+c], pos[r*o.NX+c+1], LineDN(r), cross)
		}
	}
	for c := 0; c < o.NX; c++ {
		for r := 0; r+1 < o.NY; r++ {
			cross := ""
			if r == rail && c > o.NX/2 {
				cross = "railway"
			}
			add(VPipe(c, r), pos[r*o.NX+c], pos[(r+1)*o.NX+c], LineDN(c), cross)
		}
	}
	return ds
}

// Topology resolves the city's topology (no valves: the grid's junctions
// only), for tests that need no database.
func Topology(ds *gis.Dataset) *gis.Topology {
	t, _ := gis.Resolve(ds, gis.DefaultTolerance)
	return t
}
