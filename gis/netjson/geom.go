package netjson

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// geomRaw is a geometry object split into its type and raw coordinates.
type geomRaw struct {
	typ    string // "" for a null geometry
	coords []byte // nil when absent
}

var wantGeom = [nKinds]string{
	kPipe:       "a LineString",
	kValve:      "a Point",
	kSource:     "a Point",
	kHydrant:    "a Point",
	kConnection: "a Point",
	kCustomer:   "a Point or null",
	kDistrict:   "a Polygon or MultiPolygon",
}

// geomMember is a feature's geometry member as found in the file.
type geomMember struct {
	present bool   // the member exists
	raw     []byte // its whole value
	isObj   bool   // the value is an object; then:
	typ     []byte // raw value of its type member (nil when absent)
	coords  []byte // raw value of its coordinates member (nil when absent)
}

// splitGeometry consumes the value at the cursor, splitting an object into
// its type and coordinates on the way.
func splitGeometry(c *cur) geomMember {
	g := geomMember{present: true}
	start := c.i
	if c.peek() != '{' {
		g.raw = c.value()
		return g
	}
	it := objIter{c: *c}
	it.c.i++
	for {
		key, ok := it.nextKey()
		if !ok {
			break
		}
		val := it.c.value()
		switch string(key) {
		case "type":
			g.typ = val
		case "coordinates":
			g.coords = val
		}
	}
	if it.c.peek() == '}' {
		it.c.i++
	}
	c.i = it.c.i
	g.raw, g.isObj = c.b[start:c.i], true
	return g
}

// geometry checks the feature's geometry member. A null or absent geometry
// is an error when required, else it gives a geomRaw with an empty type.
func (f *feat) geometry(m geomMember, required bool) (geomRaw, bool) {
	if !m.present || isNull(m.raw) {
		if required {
			f.err(CodeGeomMissing, fmt.Sprintf("the %s has no geometry", f.kind),
				fmt.Sprintf("give the %s a geometry: %s", f.kind, wantGeom[f.k]))
			return geomRaw{}, false
		}
		return geomRaw{}, true
	}
	if !m.isObj {
		f.err(CodeGeomWrongType, fmt.Sprintf("geometry is %s, not a GeoJSON geometry object", shorten(m.raw)),
			fmt.Sprintf("give the %s a geometry: %s", f.kind, wantGeom[f.k]))
		return geomRaw{}, false
	}
	s, ok := jsonString(m.typ)
	if !ok {
		f.err(CodeGeomWrongType, "the geometry has no type",
			fmt.Sprintf("give the %s a geometry: %s", f.kind, wantGeom[f.k]))
		return geomRaw{}, false
	}
	return geomRaw{typ: s, coords: m.coords}, true
}

func (f *feat) wrongType(g geomRaw, extra string) {
	f.err(CodeGeomWrongType, fmt.Sprintf("the geometry is a %s%s; a %s must be %s", g.typ, extra, f.kind, wantGeom[f.k]),
		fmt.Sprintf("give the %s %s geometry", f.kind, wantGeom[f.k]))
}

func (f *feat) noCoords(g geomRaw) bool {
	if isNull(g.coords) {
		f.err(CodeGeomMissing, fmt.Sprintf("the %s geometry has no coordinates", g.typ),
			fmt.Sprintf("give the %s a geometry: %s", f.kind, wantGeom[f.k]))
		return true
	}
	return false
}

// emptyArray reports whether raw is [] (with any white space).
func emptyArray(raw []byte) bool {
	c := cur{b: raw}
	if c.peek() != '[' {
		return false
	}
	c.i++
	return c.peek() == ']'
}

// point reads a Point (or a MultiPoint of one point). present is false for
// an empty point, which is allowed when not required.
func (f *feat) point(g geomRaw, required bool) (pt orb.Point, z []float64, present bool, ok bool) {
	if g.typ != "Point" && g.typ != "MultiPoint" {
		f.wrongType(g, "")
		return pt, nil, false, false
	}
	if f.noCoords(g) {
		return pt, nil, false, false
	}
	if emptyArray(g.coords) {
		if required {
			f.err(CodeGeomMissing, fmt.Sprintf("the %s is empty", g.typ),
				fmt.Sprintf("give the %s a geometry: %s", f.kind, wantGeom[f.k]))
			return pt, nil, false, false
		}
		return pt, nil, false, true
	}
	p := coordParser{f: f}
	c := cur{b: g.coords}
	var zv float64
	if g.typ == "Point" {
		pt[0], pt[1], zv = p.position(&c)
	} else {
		pts, zs := p.positions(&c)
		if p.failed {
			return pt, nil, false, false
		}
		if len(pts) != 1 {
			f.wrongType(g, fmt.Sprintf(" of %d points", len(pts)))
			return pt, nil, false, false
		}
		pt = pts[0]
		if zs != nil {
			zv = zs[0]
		}
	}
	if p.failed {
		return pt, nil, false, false
	}
	p.done()
	if p.dims == 3 {
		z = []float64{zv}
	}
	return pt, z, true, true
}

// line reads a LineString (or a MultiLineString of one part).
func (f *feat) line(g geomRaw) (orb.LineString, []float64, bool) {
	if g.typ != "LineString" && g.typ != "MultiLineString" {
		f.wrongType(g, "")
		return nil, nil, false
	}
	if f.noCoords(g) {
		return nil, nil, false
	}
	p := coordParser{f: f}
	c := cur{b: g.coords}
	var pts []orb.Point
	var zs []float64
	if g.typ == "LineString" {
		// Size the slices: a LineString's coordinates hold one ']' per
		// position, plus one.
		n := min(bytes.Count(g.coords, []byte{']'})-1, len(g.coords)/5)
		pts, zs = p.positionsN(&c, n)
	} else {
		parts := 0
		p.each(&c, "line strings", func() {
			parts++
			pts, zs = p.positions(&c)
		})
		if !p.failed && parts != 1 {
			f.wrongType(g, fmt.Sprintf(" of %d parts", parts))
			return nil, nil, false
		}
	}
	if p.failed {
		return nil, nil, false
	}
	p.done()
	if len(pts) < 2 {
		f.err(CodeGeomTooFew, fmt.Sprintf("the pipe has %d position(s); it needs at least 2", len(pts)),
			"draw the pipe from its start to its end, or remove it")
		return nil, nil, false
	}
	return orb.LineString(pts), zs, true
}

// area reads a Polygon or MultiPolygon as a MultiPolygon. Z is dropped.
func (f *feat) area(g geomRaw) (orb.MultiPolygon, bool) {
	if g.typ != "Polygon" && g.typ != "MultiPolygon" {
		f.wrongType(g, "")
		return nil, false
	}
	if f.noCoords(g) {
		return nil, false
	}
	p := coordParser{f: f}
	c := cur{b: g.coords}
	var mp orb.MultiPolygon
	if g.typ == "Polygon" {
		mp = orb.MultiPolygon{p.polygon(&c)}
	} else {
		p.each(&c, "polygons", func() { mp = append(mp, p.polygon(&c)) })
	}
	if p.failed {
		return nil, false
	}
	p.done()
	if len(mp) == 0 {
		f.err(CodeGeomTooFew, "the MultiPolygon is empty", "give the district its area as a Polygon or MultiPolygon")
		return nil, false
	}
	for i, poly := range mp {
		where := ""
		if len(mp) > 1 {
			where = fmt.Sprintf(" of polygon %d", i)
		}
		if len(poly) == 0 {
			f.err(CodeGeomTooFew, "a polygon has no rings", "give every polygon an outer ring")
			return nil, false
		}
		for j, ring := range poly {
			if len(ring) < 4 {
				f.err(CodeGeomTooFew, fmt.Sprintf("ring %d%s has %d positions; a ring needs at least 4 (the first repeated at the end)", j, where, len(ring)),
					"fix the polygon so that every ring encloses an area")
				return nil, false
			}
			if ring[0] != ring[len(ring)-1] {
				f.err(CodeGeomNotClosed, fmt.Sprintf("ring %d%s is not closed: its last position differs from its first", j, where),
					"repeat the first position of every ring at its end")
				return nil, false
			}
		}
	}
	return mp, true
}

// coordParser reads GeoJSON coordinate arrays. It reports the first
// problem of a geometry only, then stops.
type coordParser struct {
	f      *feat
	dims   int // 2 or 3 once the first position is read
	extra  bool
	failed bool
}

func (p *coordParser) fail(code, msg, fix string) {
	if !p.failed {
		p.failed = true
		p.f.err(code, msg, fix)
	}
}

func (p *coordParser) badCoords(c *cur, what string) {
	c2 := *c
	found := c2.value()
	p.fail(CodeGeomBadCoords, fmt.Sprintf("expected %s in the coordinates, found %s", what, shorten(found)),
		"coordinates must be nested arrays of numbers as GeoJSON defines for the geometry type, e.g. [[x, y], [x, y]] for a LineString")
}

// done emits warnings about the geometry once it is read.
func (p *coordParser) done() {
	if p.extra {
		p.f.warn(CodeExtraOrdinates, "positions have more than 3 numbers; only x, y and z are kept",
			"export without M values")
	}
}

// each calls fn for every element of an array; fn must consume the element
// or fail.
func (p *coordParser) each(c *cur, what string, fn func()) {
	if c.peek() != '[' {
		p.badCoords(c, "an array of "+what)
		return
	}
	c.i++
	for !p.failed {
		switch c.peek() {
		case ']':
			c.i++
			return
		case ',':
			c.i++
		case 0:
			p.badCoords(c, "the end of an array")
			return
		default:
			fn()
		}
	}
}

func (p *coordParser) positions(c *cur) (pts []orb.Point, zs []float64) {
	return p.positionsN(c, 0)
}

// positionsN reads an array of positions, expecting about n of them.
func (p *coordParser) positionsN(c *cur, n int) (pts []orb.Point, zs []float64) {
	if n > 0 {
		pts = make([]orb.Point, 0, n)
	}
	p.each(c, "positions", func() {
		x, y, z := p.position(c)
		pts = append(pts, orb.Point{x, y})
		if p.dims == 3 {
			if zs == nil {
				zs = make([]float64, 0, cap(pts))
			}
			zs = append(zs, z)
		}
	})
	return pts, zs
}

func (p *coordParser) polygon(c *cur) orb.Polygon {
	var poly orb.Polygon
	p.each(c, "rings", func() {
		pts, _ := p.positions(c)
		poly = append(poly, orb.Ring(pts))
	})
	return poly
}

// position reads [x, y] or [x, y, z] (further numbers are dropped).
func (p *coordParser) position(c *cur) (x, y, z float64) {
	if c.peek() != '[' {
		p.badCoords(c, "a position [x, y]")
		return
	}
	c.i++
	var v [3]float64
	n := 0
loop:
	for !p.failed {
		ch := c.peek()
		switch {
		case ch == ']':
			c.i++
			break loop
		case ch == ',':
			c.i++
		case ch == '-' || (ch >= '0' && ch <= '9'):
			start := c.i
			c.scalarEnd()
			num := c.b[start:c.i]
			f, err := strconv.ParseFloat(string(num), 64)
			if math.IsInf(f, 0) || math.IsNaN(f) {
				p.fail(CodeGeomNotFinite, fmt.Sprintf("coordinate %s is not a finite number", shorten(num)),
					"fix the coordinates of this feature: every coordinate must be a finite number")
				return
			}
			if err != nil && f != 0 { // underflow gives 0, which is fine
				p.badCoords(&cur{b: num}, "a number")
				return
			}
			if n < 3 {
				v[n] = f
			}
			n++
		default:
			p.badCoords(c, "a number")
			return
		}
	}
	if p.failed {
		return
	}
	if n < 2 {
		p.fail(CodeGeomBadCoords, fmt.Sprintf("a position has %d number(s); it needs x and y (and optionally z)", n),
			"write every position as [x, y] or [x, y, z]")
		return
	}
	d := n
	if d > 3 {
		d, p.extra = 3, true
	}
	if p.dims == 0 {
		p.dims = d
	} else if p.dims != d {
		p.fail(CodeGeomMixedDims, "the geometry mixes 2-D and 3-D positions",
			"give every position of the geometry the same number of values: all with z, or all without")
		return
	}
	p.f.rd.track(v[0], v[1], p.f.idx)
	return v[0], v[1], v[2]
}
