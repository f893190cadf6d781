package gen

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

func (g *city) nodeDistrict(n int32) int {
	return g.layout.lookup(float64(int(n)%g.nx), float64(int(n)/g.nx))
}

// tappable reports whether service connections may sit on pipe p.
func tappable(p *gis.Pipe) bool {
	return p.Status == gis.StatusInService && p.Role == roleDistribution && p.DN <= 300
}

func (g *city) streetName(k int) string {
	s := g.meta[k].street
	switch {
	case s < 0:
		return ""
	case int(s) < g.ny:
		return g.rowName[s]
	default:
		return g.colName[int(s)-g.ny]
	}
}

// buildConnections puts about one service connection per pipe on the
// distribution pipes, and about one customer on each connection.
func (g *city) buildConnections(ds *gis.Dataset) {
	r := g.rng
	P := len(ds.Pipes)
	elig := 0
	for k := range ds.Pipes {
		if tappable(&ds.Pipes[k]) {
			elig++
		}
	}
	lam := math.Min(1.5, float64(g.opt.Pipes)/float64(max(1, elig)))
	cnt := make([]uint8, P)
	total := 0
	for k := range ds.Pipes {
		if !tappable(&ds.Pipes[k]) {
			continue
		}
		c := int(2*lam*r.Float64() + 0.5) // 0..3, mean lam
		cnt[k] = uint8(c)
		total += c
	}
	// Customers per connection: none (6 %), one, or two (8 %); a quarter
	// of them with a point at the building.
	cc := make([]uint8, total)
	nCust, nGeom := 0, 0
	for c := range cc {
		k := 1
		switch x := r.Float64(); {
		case x < 0.06:
			k = 0
		case x < 0.14:
			k = 2
		}
		f := uint8(k)
		for q := 0; q < k; q++ {
			if r.Float64() < 0.25 {
				f |= 4 << q
				nGeom++
			}
		}
		cc[c] = f
		nCust += k
	}
	ds.Connections = make([]gis.Connection, 0, total)
	ds.Customers = make([]gis.Customer, 0, nCust)
	pts := make([]orb.Point, 0, nGeom)
	src := gis.Ref{File: "gen", Index: -1}
	ci := 0
	for k := range ds.Pipes {
		c := int(cnt[k])
		if c == 0 {
			continue
		}
		pp := &ds.Pipes[k]
		L := g.plen[k]
		var s [4]float64
		for q := 0; q < c; q++ {
			s[q] = 8 + (L-16)*r.Float64()
		}
		for a := 1; a < c; a++ { // insertion sort: taps in order along the pipe
			for b := a; b > 0 && s[b] < s[b-1]; b-- {
				s[b], s[b-1] = s[b-1], s[b]
			}
		}
		a, b := pp.Geom[0], pp.Geom[len(pp.Geom)-1]
		dl := math.Hypot(b[0]-a[0], b[1]-a[1])
		nxp, nyp := -(b[1]-a[1])/dl, (b[0]-a[0])/dl
		street := g.streetName(k)
		along := int(g.meta[k].along)
		for q := 0; q < c; q++ {
			pt := gis.PointAt(pp.Geom, s[q])
			conn := g.str.id("SC", len(ds.Connections)+1)
			ds.Connections = append(ds.Connections, gis.Connection{ID: conn, Pipe: pp.ID, Geom: pt, Src: src})
			f := cc[ci]
			ci++
			if f&3 == 0 {
				continue
			}
			side := r.IntN(2)
			house := 2*(along*6+int(6*s[q]/L)) + 1 + side
			addr := g.str.address(street, house)
			sign := float64(1 - 2*side)
			for cu := 0; cu < int(f&3); cu++ {
				cust := gis.Customer{Connection: conn, Address: addr, Src: src}
				if f&(4<<cu) != 0 {
					off := sign * (8 + 12*r.Float64())
					pts = append(pts, orb.Point{pt[0] + off*nxp, pt[1] + off*nyp})
					cust.Geom = &pts[len(pts)-1]
				}
				g.customer(&cust, len(ds.Customers)+1)
				ds.Customers = append(ds.Customers, cust)
			}
		}
	}
	// A few thermal power plants, critical like hospitals.
	if n := len(ds.Customers); n > 0 {
		for t := 2 + g.opt.Pipes/250_000; t > 0; t-- {
			c := &ds.Customers[r.IntN(n)]
			c.Category, c.Critical, c.Households = "thermal_power", true, 1
		}
	}
}

// customer fills in a customer's number, name, phone, category and size.
func (g *city) customer(c *gis.Customer, num int) {
	r := g.rng
	c.ID = g.str.id("CU", num)
	c.Name = g.str.id("客户 ", num)
	c.Phone = g.str.phone(r.IntN(10_000_000))
	c.Households = 1
	switch x := r.Float64(); {
	case x < 0.001:
		c.Category, c.Critical = "hospital", true
	case x < 0.011:
		c.Category = "school"
	case x < 0.016:
		c.Category = "vip"
	case x < 0.041:
		c.Category = "industrial"
	case x < 0.131:
		c.Category = "commercial"
	default:
		c.Category = "residential"
		switch y := r.Float64(); {
		case y < 0.4:
		case y < 0.7:
			c.Households = 2 + r.IntN(11)
		default:
			c.Households = 13 + r.IntN(48) // apartment blocks, up to 60
		}
	}
}

// buildHydrants puts about one hydrant per twenty pipes on DN100–300
// distribution pipes.
func (g *city) buildHydrants(ds *gis.Dataset) {
	r := g.rng
	ok := func(p *gis.Pipe) bool {
		return p.Status == gis.StatusInService && p.Role == roleDistribution && p.DN >= 100 && p.DN <= 300
	}
	elig := 0
	for k := range ds.Pipes {
		if ok(&ds.Pipes[k]) {
			elig++
		}
	}
	need := min(elig, int(math.Round(0.05*float64(g.opt.Pipes))))
	ds.Hydrants = make([]gis.Hydrant, 0, need)
	src := gis.Ref{File: "gen", Index: -1}
	for k := range ds.Pipes {
		if need == 0 {
			break
		}
		if !ok(&ds.Pipes[k]) {
			continue
		}
		if r.IntN(elig) < need {
			pp := &ds.Pipes[k]
			s := 15 + (g.plen[k]-30)*r.Float64()
			ds.Hydrants = append(ds.Hydrants, gis.Hydrant{
				ID: g.str.id("H", len(ds.Hydrants)+1), Pipe: pp.ID, Geom: gis.PointAt(pp.Geom, s), Src: src,
			})
			need--
		}
		elig--
	}
}

// ---------------------------------------------------------------- helpers

// arena hands out short strings carved from large byte chunks, so that
// millions of ids, names and addresses cost a few allocations. Bytes are
// only ever appended, never changed, so the strings stay immutable.
type arena struct{ buf []byte }

func (a *arena) reserve(n int) int {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, 1<<20))
	}
	return len(a.buf)
}

func (a *arena) done(mark int) string {
	return unsafe.String(&a.buf[mark], len(a.buf)-mark)
}

// id is prefix followed by n in decimal.
func (a *arena) id(prefix string, n int) string {
	m := a.reserve(len(prefix) + 20)
	a.buf = append(a.buf, prefix...)
	a.buf = strconv.AppendInt(a.buf, int64(n), 10)
	return a.done(m)
}

// address is "street 123号".
func (a *arena) address(street string, house int) string {
	m := a.reserve(len(street) + 24)
	a.buf = append(a.buf, street...)
	a.buf = append(a.buf, ' ')
	a.buf = strconv.AppendInt(a.buf, int64(house), 10)
	a.buf = append(a.buf, "号"...)
	return a.done(m)
}

// phone is a Jinan landline, 0531-8xxxxxxx.
func (a *arena) phone(n int) string {
	m := a.reserve(13)
	a.buf = append(a.buf, "0531-8"...)
	for d := 1_000_000; d > 0; d /= 10 {
		a.buf = append(a.buf, byte('0'+n/d%10))
	}
	return a.done(m)
}

type unionFind []int32

func newUF(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = int32(i)
	}
	return u
}

func (u unionFind) find(x int32) int32 {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

// union joins the sets of a and b and reports whether they were apart.
func (u unionFind) union(a, b int32) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if ra < rb {
		u[rb] = ra
	} else {
		u[ra] = rb
	}
	return true
}
