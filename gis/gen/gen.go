// Package gen generates a deterministic synthetic city water network that
// looks like a real one, for benchmarks at sizes no sample reaches (up to
// millions of pipes) and for the demo.
//
// The city is a street grid (blocks of 100–150 m, smoothly warped and
// rotated so it is not a lattice, corners cut, parks and missing links)
// with one pipe per street block. Pipes meet only at shared end points,
// which coincide exactly; no pipe end comes near another pipe's inside, so
// the topology rules of network-geojson.md read the network exactly as it
// was built. Transmission trunks run from the water plants across the city,
// grade-1 mains follow every ~8th street, branch mains every ~3rd; a river
// and a railway cross the city. Valves sit near tees, service connections
// and hydrants on the distribution pipes, customers on the connections, and
// districts tile the city.
//
// Ids are P1…Pn (pipes), V… (valves), S… (sources), H… (hydrants), SC…
// (service connections), CU… (customers) and D001… (districts). The
// Provenance records the seed, the lattice and the river and railway lines
// as WKT ("river", "railway") for a map to draw.
//
// The same Options always give the same Dataset (bit for bit on a given
// GOARCH; the topology holds on every platform because shared points are
// copies, never recomputed). A million pipes take about 2 s and 0.7 GiB.
package gen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Options shape a generated city.
type Options struct {
	Pipes     int       // target number of pipes (the result is within ±1 %, usually exact)
	Seed      int64     // random seed; the same options give the same dataset
	SRID      int       // output CRS (metres); default DefaultSRID
	Origin    orb.Point // city centre in that CRS; default DefaultOrigin
	Districts int       // number of districts; 0 = about one per PipesPerDistrict pipes
}

// Defaults and limits.
const (
	// DefaultSRID is CGCS2000 / 3-degree Gauss-Kruger CM 117E (metres).
	DefaultSRID      = 4548
	MinPipes         = 100
	MaxPipes         = 10_000_000 // about 7 GiB
	PipesPerDistrict = 5000
	PipesPerPlant    = 100_000
)

// DefaultOrigin is the centre of Jinan in DefaultSRID.
var DefaultOrigin = orb.Point{500000, 4060000}

// Street classes, by the diameter of their pipes.
const (
	clsSmall  uint8 = iota // DN100–150 (grade 3)
	clsBranch              // DN200–250 (grade 2)
	clsMain                // DN300–500 (grade 1)
	clsTrunk               // DN600–1200 transmission (special)
)

// Edge states.
const (
	stNone uint8 = iota
	stKept
	stRemoved
	stAbandoned
	stPlanned
)

// Materials.
const (
	matDI    = "DI"
	matPE    = "PE"
	matSteel = "steel"
	matCI    = "cast_iron"
)

const (
	roleTransmission = "transmission"
	roleDistribution = "distribution"
	jitter           = 5.0 // max node offset from the warped lattice, each axis, metres
	bend             = 2.5 // max perpendicular offset of a pipe's inner vertices, metres
)

var trunkSteps = []int{1200, 1000, 800, 700, 600}

type trunk struct {
	row    bool
	line   int // row j or column i
	lo, hi int // first and last node along it
	plant  int // plant index, -1 none
	atLo   bool
	maxDN  int
}

type plant struct {
	trunk  int
	node   int32   // grid node at the trunk end
	du, dv float64 // outward direction in index space
	dist   []float64
	pipe0  int // index of the outlet pipe; raw-water pipes follow
}

type city struct {
	opt Options
	rng *rand.Rand

	nx, ny     int
	in         []bool
	colX, rowY []float64
	cx, cy     float64
	cosR, sinR float64
	waves      [6]wave
	pos        []orb.Point

	// mask shape
	mw1, mw2, mc1, ms1, mc2, ms2 float64

	rowCls, colCls   []uint8
	rowDN, colDN     []int16
	rowName, colName []string
	rowTrunk         []int16
	colTrunk         []int16
	trunks           []trunk
	plants           []plant
	nRawDN           int
	riverRow         int // river between rows riverRow and riverRow+1; -1 none
	railCol          int // railway between columns railCol and railCol+1; -1 none
	riverPh, railPh  [3]float64

	est      []uint8 // edge state, edge e = 2*node + dir (0 east, 1 north)
	kcls     []uint8 // removal preference class
	edgePipe []int32

	layout districts
	meta   []pipeMeta
	plen   []float64
	str    arena
}

type wave struct{ kx, ky, amp, ph float64 }

// Generate builds the synthetic city.
func Generate(opt Options) (*gis.Dataset, error) {
	ds, _, err := build(opt)
	return ds, err
}

func build(opt Options) (*gis.Dataset, *city, error) {
	if opt.Pipes < MinPipes || opt.Pipes > MaxPipes {
		return nil, nil, fmt.Errorf("gen: Pipes must be between %d and %d, not %d", MinPipes, MaxPipes, opt.Pipes)
	}
	if opt.Districts < 0 {
		return nil, nil, errors.New("gen: Districts must not be negative")
	}
	if opt.SRID == 0 {
		opt.SRID = DefaultSRID
	}
	if opt.Origin == (orb.Point{}) {
		opt.Origin = DefaultOrigin
	}
	if opt.Districts == 0 {
		opt.Districts = max(1, int(math.Round(float64(opt.Pipes)/PipesPerDistrict)))
	}
	g := &city{opt: opt, rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed_c17e_2024_0531))}
	ds, err := g.generate()
	return ds, g, err
}

// Street is a generated street: one line along a row or column of the
// street grid, through every intersection (OSM-like: ways meet at shared
// vertices), in the dataset's CRS.
type Street struct {
	Name    string
	Highway string // OSM class: primary (mains' streets), secondary, residential
	Geom    orb.LineString
}

// StreetOffset is how far streets lie from the pipes under them: the
// street grid is the block grid moved by (4 m, 3 m).
var StreetOffset = orb.Point{4, 3}

// GenerateWithStreets is Generate plus the city's streets: every row and
// column of the block grid where it has a pipe, as runs of consecutive
// blocks (a park or missing link ends a street), moved by StreetOffset so
// that pipes lie 5 m beside them. Plant chains (raw-water mains outside
// the grid) have no street.
func GenerateWithStreets(opt Options) (*gis.Dataset, []Street, error) {
	ds, g, err := build(opt)
	if err != nil {
		return nil, nil, err
	}
	return ds, g.streetLines(), nil
}

func (g *city) streetLines() []Street {
	var out []Street
	class := func(c uint8) string {
		switch c {
		case clsTrunk, clsMain:
			return "primary"
		case clsBranch:
			return "secondary"
		}
		return "residential"
	}
	at := func(n int) orb.Point { p := g.pos[n]; return orb.Point{p[0] + StreetOffset[0], p[1] + StreetOffset[1]} }
	for dir := 0; dir < 2; dir++ {
		lines := g.ny
		if dir == 1 {
			lines = g.nx
		}
		for k := 0; k < lines; k++ {
			var cur orb.LineString
			flush := func() {
				if len(cur) >= 2 {
					var name, cls string
					if dir == 0 {
						name, cls = g.rowName[k], class(g.rowCls[k])
					} else {
						name, cls = g.colName[k], class(g.colCls[k])
					}
					out = append(out, Street{Name: name, Highway: cls, Geom: cur})
				}
				cur = nil
			}
			steps := g.nx - 1
			if dir == 1 {
				steps = g.ny - 1
			}
			for s := 0; s < steps; s++ {
				a := k*g.nx + s
				if dir == 1 {
					a = s*g.nx + k
				}
				e := 2*a + dir
				if st := g.est[e]; st == stNone || st == stRemoved {
					flush()
					continue
				}
				_, b := g.ends(e)
				if len(cur) == 0 {
					cur = append(cur, at(a))
				}
				cur = append(cur, at(b))
			}
			flush()
		}
	}
	return out
}

func (g *city) generate() (*gis.Dataset, error) {
	nPlants := max(2, int(math.Round(float64(g.opt.Pipes)/PipesPerPlant)))
	extras := 0
	rawLen := make([]int, nPlants)
	for p := range rawLen {
		rawLen[p] = 2 + p%2
		extras += 1 + rawLen[p]
	}
	g.size(g.opt.Pipes - extras)
	g.geometry()
	g.streets(nPlants, rawLen)
	nGrid := g.topology(g.opt.Pipes - extras)
	if err := g.planDistricts(); err != nil {
		return nil, err
	}
	ds := &gis.Dataset{
		Name: fmt.Sprintf("synthetic city (seed %d, %d pipes)", g.opt.Seed, g.opt.Pipes),
		SRID: g.opt.SRID,
	}
	g.buildPipes(ds, nGrid+extras)
	g.buildSources(ds)
	g.buildValves(ds)
	g.buildConnections(ds)
	g.buildHydrants(ds)
	g.buildDistricts(ds)
	ds.Provenance = map[string]string{
		"generator": "waterline gis/gen",
		"seed":      strconv.FormatInt(g.opt.Seed, 10),
		"target":    strconv.Itoa(g.opt.Pipes),
		"grid":      strconv.Itoa(g.nx) + "x" + strconv.Itoa(g.ny),
	}
	if g.riverRow >= 0 {
		ds.Provenance["river"] = g.riverWKT()
	}
	if g.railCol >= 0 {
		ds.Provenance["railway"] = g.railWKT()
	}
	return ds, nil
}

// ---------------------------------------------------------------- sizing

// inside reports whether lattice node (i, j) of an nx×ny lattice lies in the
// city: a superellipse with a wobbly rim.
func (g *city) inside(i, j, nx, ny int) bool {
	a := 2*float64(i)/float64(nx-1) - 1
	b := 2*float64(j)/float64(ny-1) - 1
	r2 := a*a + b*b
	if r2 == 0 {
		return true
	}
	r := math.Sqrt(r2)
	c, s := a/r, b/r
	sin3, cos3 := 3*s-4*s*s*s, 4*c*c*c-3*c
	s2, c2 := s*s, c*c
	sin5, cos5 := s*(16*s2*s2-20*s2+5), c*(16*c2*c2-20*c2+5)
	w := 1.0 + g.mw1*(sin3*g.mc1+cos3*g.ms1) + g.mw2*(sin5*g.mc2+cos5*g.ms2)
	w2 := w * w
	return a*a*a*a+b*b*b*b <= w2*w2
}

func (g *city) countEdges(nx, ny int) int {
	prev := make([]bool, nx)
	cur := make([]bool, nx)
	n := 0
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			cur[i] = g.inside(i, j, nx, ny)
			if cur[i] && i > 0 && cur[i-1] {
				n++
			}
			if cur[i] && j > 0 && prev[i] {
				n++
			}
		}
		prev, cur = cur, prev
	}
	return n
}

// size picks the lattice so that about 3.5–6 % of its edges can be left
// out (missing links, parks, river banks) to hit the target exactly.
func (g *city) size(target int) {
	g.mw1 = 0.04 + 0.03*g.rng.Float64()
	g.mw2 = 0.02 + 0.02*g.rng.Float64()
	ph1, ph2 := 2*math.Pi*g.rng.Float64(), 2*math.Pi*g.rng.Float64()
	g.mc1, g.ms1 = math.Cos(ph1), math.Sin(ph1)
	g.mc2, g.ms2 = math.Cos(ph2), math.Sin(ph2)
	const aspect, keep = 1.35, 0.965
	nxOf := func(ny int) int { return max(5, int(math.Round(float64(ny)*aspect))) }
	ok := func(nx, ny int) bool { return float64(g.countEdges(nx, ny))*keep >= float64(target) }
	lo, hi := 4, 8
	for !ok(nxOf(hi), hi) {
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		m := (lo + hi) / 2
		if ok(nxOf(m), m) {
			hi = m
		} else {
			lo = m
		}
	}
	ny, nx := hi, nxOf(hi)
	for nx > 5 && ok(nx-1, ny) {
		nx--
	}
	g.nx, g.ny = nx, ny
	g.in = make([]bool, nx*ny)
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			g.in[j*nx+i] = g.inside(i, j, nx, ny)
		}
	}
	// Keep the largest connected part of the lattice.
	uf := newUF(nx * ny)
	g.eachLatticeEdge(func(e, a, b int) { uf.union(int32(a), int32(b)) })
	size := make([]int32, nx*ny)
	best := int32(-1)
	for n, in := range g.in {
		if in {
			r := uf.find(int32(n))
			size[r]++
			if best < 0 || size[r] > size[best] {
				best = r
			}
		}
	}
	for n, in := range g.in {
		if in && uf.find(int32(n)) != best {
			g.in[n] = false
		}
	}
}

// eachLatticeEdge calls f for every edge between two city nodes.
func (g *city) eachLatticeEdge(f func(e, a, b int)) {
	nx, ny := g.nx, g.ny
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			n := j*nx + i
			if !g.in[n] {
				continue
			}
			if i+1 < nx && g.in[n+1] {
				f(2*n, n, n+1)
			}
			if j+1 < ny && g.in[n+nx] {
				f(2*n+1, n, n+nx)
			}
		}
	}
}

// ---------------------------------------------------------------- geometry

func (g *city) geometry() {
	r := g.rng
	g.colX = make([]float64, g.nx)
	for i := 1; i < g.nx; i++ {
		g.colX[i] = g.colX[i-1] + 100 + 50*r.Float64()
	}
	g.rowY = make([]float64, g.ny)
	for j := 1; j < g.ny; j++ {
		g.rowY[j] = g.rowY[j-1] + 100 + 50*r.Float64()
	}
	g.cx, g.cy = g.colX[g.nx-1]/2, g.rowY[g.ny-1]/2
	rot := (r.Float64()*2 - 1) * 10 * math.Pi / 180
	g.cosR, g.sinR = math.Cos(rot), math.Sin(rot)
	// Smooth displacement: each wave tilts the grid by at most 0.035 rad, so
	// the city bends and turns from district to district without folding.
	for k := range g.waves {
		L := []float64{2600, 5200, 9700}[k%3] * (0.85 + 0.3*r.Float64())
		dir := 2 * math.Pi * r.Float64()
		g.waves[k] = wave{
			kx:  2 * math.Pi / L * math.Cos(dir),
			ky:  2 * math.Pi / L * math.Sin(dir),
			amp: 0.035 * L / (2 * math.Pi),
			ph:  2 * math.Pi * r.Float64(),
		}
	}
	g.pos = make([]orb.Point, g.nx*g.ny)
	for j := 0; j < g.ny; j++ {
		for i := 0; i < g.nx; i++ {
			n := j*g.nx + i
			if !g.in[n] {
				continue
			}
			p := g.at(float64(i), float64(j))
			p[0] += (2*r.Float64() - 1) * jitter
			p[1] += (2*r.Float64() - 1) * jitter
			g.pos[n] = p
		}
	}
}

func interp(xs []float64, u float64) float64 {
	n := len(xs)
	if u <= 0 {
		return xs[0] + u*125
	}
	if u >= float64(n-1) {
		return xs[n-1] + (u-float64(n-1))*125
	}
	k := int(u)
	t := u - float64(k)
	return xs[k] + t*(xs[k+1]-xs[k])
}

// at maps lattice coordinates (u, v) to the CRS.
func (g *city) at(u, v float64) orb.Point {
	x := interp(g.colX, u) - g.cx
	y := interp(g.rowY, v) - g.cy
	var dx, dy float64
	for k := 0; k < 3; k++ {
		w := &g.waves[k]
		dx += w.amp * math.Sin(w.kx*x+w.ky*y+w.ph)
		w = &g.waves[k+3]
		dy += w.amp * math.Sin(w.kx*x+w.ky*y+w.ph)
	}
	x, y = x+dx, y+dy
	return orb.Point{g.opt.Origin[0] + x*g.cosR - y*g.sinR, g.opt.Origin[1] + x*g.sinR + y*g.cosR}
}

// ---------------------------------------------------------------- streets

func (g *city) streets(nPlants int, rawLen []int) {
	r := g.rng
	nx, ny := g.nx, g.ny
	g.rowCls, g.colCls = make([]uint8, ny), make([]uint8, nx)
	g.rowDN, g.colDN = make([]int16, ny), make([]int16, nx)
	g.rowTrunk, g.colTrunk = make([]int16, ny), make([]int16, nx)
	for j := range g.rowTrunk {
		g.rowTrunk[j] = -1
	}
	for i := range g.colTrunk {
		g.colTrunk[i] = -1
	}
	maxDN, rawDN := 800, 1400
	switch {
	case g.opt.Pipes >= 300_000:
		maxDN, rawDN = 1200, 1600
	case g.opt.Pipes >= 50_000:
		maxDN = 1000
	}
	g.nRawDN = rawDN

	// Trunks: rows and columns in the middle of the city, alternately.
	nT := nPlants + 1
	nTR, nTC := (nT+1)/2, nT/2
	pick := func(n, count int, used []int16) []int {
		var out []int
		for k := 0; k < count; k++ {
			c := int(math.Round((0.3+0.4*(float64(k)+0.5)/float64(count))*float64(n-1))) + r.IntN(3) - 1
			c = min(max(c, 1), n-2)
			for d := 0; d < n; d++ {
				if x := c + d; x < n-1 && used[x] < 0 {
					c = x
					break
				}
				if x := c - d; x > 0 && used[x] < 0 {
					c = x
					break
				}
			}
			used[c] = 0 // provisional
			out = append(out, c)
		}
		return out
	}
	rows, cols := pick(ny, nTR, g.rowTrunk), pick(nx, nTC, g.colTrunk)
	for k := 0; k < nT; k++ {
		var t trunk
		if k%2 == 0 {
			t = trunk{row: true, line: rows[k/2]}
		} else {
			t = trunk{line: cols[k/2]}
		}
		t.lo, t.hi = -1, -1
		if t.row {
			for i := 0; i < nx; i++ {
				if g.in[t.line*nx+i] {
					if t.lo < 0 {
						t.lo = i
					}
					t.hi = i
				}
			}
			g.rowTrunk[t.line] = int16(k)
			g.rowCls[t.line] = clsTrunk
		} else {
			for j := 0; j < ny; j++ {
				if g.in[j*nx+t.line] {
					if t.lo < 0 {
						t.lo = j
					}
					t.hi = j
				}
			}
			g.colTrunk[t.line] = int16(k)
			g.colCls[t.line] = clsTrunk
		}
		t.plant = -1
		t.maxDN = 800
		if k < nPlants {
			t.plant = k
			t.atLo = (k/2)%2 == 0
			t.maxDN = maxDN
		}
		g.trunks = append(g.trunks, t)
	}
	// Plants at the trunk ends, fed by raw-water mains from their reservoirs.
	for p := 0; p < nPlants; p++ {
		t := &g.trunks[p]
		end, sign := t.hi, 1.0
		if t.atLo {
			end, sign = t.lo, -1
		}
		pl := plant{trunk: p}
		if t.row {
			pl.node = int32(t.line*nx + end)
			pl.du = sign
		} else {
			pl.node = int32(end*nx + t.line)
			pl.dv = sign
		}
		pl.dist = []float64{0, 1}
		for k := 1; k <= rawLen[p]; k++ {
			pl.dist = append(pl.dist, 1+0.8*float64(k))
		}
		g.plants = append(g.plants, pl)
	}

	classify := func(cls []uint8, dn []int16) {
		next1, next2 := r.IntN(8), r.IntN(3)
		for k := range cls {
			if k == next1 {
				next1 += 6 + r.IntN(5)
				if cls[k] == clsSmall {
					cls[k] = clsMain
				}
			}
			if k == next2 {
				next2 += 2 + r.IntN(3)
				if cls[k] == clsSmall {
					cls[k] = clsBranch
				}
			}
			switch cls[k] {
			case clsMain:
				dn[k] = int16([]int{300, 300, 400, 400, 500}[r.IntN(5)])
			case clsBranch:
				dn[k] = int16([]int{200, 200, 250}[r.IntN(3)])
			case clsSmall:
				dn[k] = int16([]int{100, 150, 150}[r.IntN(3)])
			}
		}
	}
	classify(g.rowCls, g.rowDN)
	classify(g.colCls, g.colDN)

	// River between two rows in the north, railway between two columns west
	// of the centre; both cross the whole city.
	g.riverRow, g.railCol = -1, -1
	if ny >= 8 {
		g.riverRow = int(float64(ny-1)*(0.6+0.12*r.Float64())) - 1
	}
	if nx >= 8 {
		g.railCol = int(float64(nx-1) * (0.3 + 0.15*r.Float64()))
	}
	for k := range g.riverPh {
		g.riverPh[k] = 2 * math.Pi * r.Float64()
		g.railPh[k] = 2 * math.Pi * r.Float64()
	}

	g.rowName, g.colName = make([]string, ny), make([]string, nx)
	for j := range g.rowName {
		band := -1
		if b0 := ny/2 - 6; j >= b0 && j < b0+12 {
			band = b0 + 11 - j // 经一路 in the north
		}
		g.rowName[j] = streetName(j, true, g.rowCls[j], band)
	}
	for i := range g.colName {
		band := -1
		if b0 := nx/2 - 6; i >= b0 && i < b0+12 {
			band = i - b0 // 纬一路 in the west
		}
		g.colName[i] = streetName(ny+i, false, g.colCls[i], band)
	}
}

// riverV is the river's lattice row coordinate at column coordinate u.
func (g *city) riverV(u float64) float64 {
	return float64(g.riverRow) + 0.5 + 0.15*math.Sin(2*math.Pi*u/17+g.riverPh[0]) + 0.08*math.Sin(2*math.Pi*u/5.3+g.riverPh[1])
}

func (g *city) railU(v float64) float64 {
	return float64(g.railCol) + 0.5 + 0.12*math.Sin(2*math.Pi*v/29+g.railPh[0])
}

func (g *city) lineWKT(n int, f func(k int) orb.Point) string {
	b := make([]byte, 0, n*24+16)
	b = append(b, "LINESTRING("...)
	for k := 0; k < n; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		p := f(k)
		b = strconv.AppendFloat(b, p[0], 'f', 2, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, p[1], 'f', 2, 64)
	}
	return string(append(b, ')'))
}

func (g *city) riverWKT() string {
	u0 := -3.0
	n := int((float64(g.nx)+5)/0.5) + 1
	return g.lineWKT(n, func(k int) orb.Point { u := u0 + 0.5*float64(k); return g.at(u, g.riverV(u)) })
}

func (g *city) railWKT() string {
	v0 := -3.0
	n := int((float64(g.ny)+5)/0.5) + 1
	return g.lineWKT(n, func(k int) orb.Point { v := v0 + 0.5*float64(k); return g.at(g.railU(v), v) })
}
