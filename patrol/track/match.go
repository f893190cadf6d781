package track

import (
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// Matcher answers "how much of this pipe lies within the buffer of the
// track, and when was the track there" for a track in a metric CRS. The
// track is a chain of segments between consecutive points; a segment
// longer than the maximum gap (lost signal) is not taken as walked, only
// its end points are. The buffer of a segment is a capsule (the points
// within Buffer metres of it), so the covered part of each straight piece
// of a pipe is found exactly: the union of its intersections with the
// capsules near it. A Matcher is immutable and safe for concurrent use.
type Matcher struct {
	buffer float64
	ax, ay []float64 // segment starts
	bx, by []float64 // segment ends (== start for a lone point)
	t      []time.Time
	length float64

	x0, y0, cell float64
	nx, ny       int
	off, segs    []int32
	bound        orb.Bound
}

// NewMatcher indexes a track given as points xy (metric CRS) with their
// times. bufferM is the distance within which a pipe counts as seen;
// maxGapM the longest segment taken as walked (<= 0: no limit).
func NewMatcher(xy []orb.Point, times []time.Time, bufferM, maxGapM float64) *Matcher {
	m := &Matcher{buffer: bufferM}
	add := func(a, b orb.Point, t time.Time) {
		m.ax, m.ay = append(m.ax, a[0]), append(m.ay, a[1])
		m.bx, m.by = append(m.bx, b[0]), append(m.by, b[1])
		m.t = append(m.t, t)
	}
	for i := 0; i+1 < len(xy); i++ {
		a, b := xy[i], xy[i+1]
		d := math.Hypot(b[0]-a[0], b[1]-a[1])
		if maxGapM > 0 && d > maxGapM {
			add(a, a, times[i])
			add(b, b, times[i+1])
			continue
		}
		m.length += d
		add(a, b, times[i])
	}
	if len(xy) == 1 {
		add(xy[0], xy[0], times[0])
	}
	if len(m.ax) == 0 {
		return m
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range m.ax {
		minX = math.Min(minX, math.Min(m.ax[i], m.bx[i]))
		maxX = math.Max(maxX, math.Max(m.ax[i], m.bx[i]))
		minY = math.Min(minY, math.Min(m.ay[i], m.by[i]))
		maxY = math.Max(maxY, math.Max(m.ay[i], m.by[i]))
	}
	r := bufferM
	m.bound = orb.Bound{Min: orb.Point{minX - r, minY - r}, Max: orb.Point{maxX + r, maxY + r}}
	m.cell = math.Max(2*r, 25)
	m.x0, m.y0 = minX-r, minY-r
	m.nx = int((maxX+r-m.x0)/m.cell) + 1
	m.ny = int((maxY+r-m.y0)/m.cell) + 1
	// Guard memory on a track spread thin over a huge area.
	for m.nx*m.ny > 4*len(m.ax)+1024 {
		m.cell *= 2
		m.nx = int((maxX+r-m.x0)/m.cell) + 1
		m.ny = int((maxY+r-m.y0)/m.cell) + 1
	}
	cells := func(i int, fn func(c int)) {
		c0, r0 := m.cellOf(math.Min(m.ax[i], m.bx[i])-r, math.Min(m.ay[i], m.by[i])-r)
		c1, r1 := m.cellOf(math.Max(m.ax[i], m.bx[i])+r, math.Max(m.ay[i], m.by[i])+r)
		for y := r0; y <= r1; y++ {
			for x := c0; x <= c1; x++ {
				fn(y*m.nx + x)
			}
		}
	}
	m.off = make([]int32, m.nx*m.ny+1)
	for i := range m.ax {
		cells(i, func(c int) { m.off[c+1]++ })
	}
	for c := 0; c < m.nx*m.ny; c++ {
		m.off[c+1] += m.off[c]
	}
	m.segs = make([]int32, m.off[m.nx*m.ny])
	pos := append([]int32(nil), m.off[:m.nx*m.ny]...)
	for i := range m.ax {
		cells(i, func(c int) { m.segs[pos[c]] = int32(i); pos[c]++ })
	}
	return m
}

func (m *Matcher) cellOf(x, y float64) (int, int) {
	c := int((x - m.x0) / m.cell)
	r := int((y - m.y0) / m.cell)
	return min(max(c, 0), m.nx-1), min(max(r, 0), m.ny-1)
}

// Bound is the box of the track widened by the buffer: only pipes meeting
// it can be covered.
func (m *Matcher) Bound() orb.Bound { return m.bound }

// Length is the walked length of the track (gaps excluded), metres.
func (m *Matcher) Length() float64 { return m.length }

type span struct {
	lo, hi float64
	t      time.Time
}

// Cover returns the length of ls lying within the buffer of the track and
// the earliest time the track covered any of it (zero when none).
func (m *Matcher) Cover(ls orb.LineString) (covered float64, at time.Time) {
	if len(m.ax) == 0 {
		return 0, time.Time{}
	}
	var spans []span
	for k := 1; k < len(ls); k++ {
		p, q := ls[k-1], ls[k]
		dx, dy := q[0]-p[0], q[1]-p[1]
		L := math.Hypot(dx, dy)
		if L == 0 {
			continue
		}
		r := m.buffer
		bx0, by0 := math.Min(p[0], q[0]), math.Min(p[1], q[1])
		bx1, by1 := math.Max(p[0], q[0]), math.Max(p[1], q[1])
		if bx1 < m.bound.Min[0] || bx0 > m.bound.Max[0] || by1 < m.bound.Min[1] || by0 > m.bound.Max[1] {
			continue
		}
		spans = spans[:0]
		c0, r0 := m.cellOf(bx0, by0)
		c1, r1 := m.cellOf(bx1, by1)
		for y := r0; y <= r1; y++ {
			for x := c0; x <= c1; x++ {
				c := y*m.nx + x
				for _, i := range m.segs[m.off[c]:m.off[c+1]] {
					lo, hi, ok := capsule(p, dx, dy, m.ax[i], m.ay[i], m.bx[i], m.by[i], r)
					if ok {
						spans = append(spans, span{lo, hi, m.t[i]})
					}
				}
			}
		}
		if len(spans) == 0 {
			continue
		}
		sort.Slice(spans, func(a, b int) bool { return spans[a].lo < spans[b].lo })
		curLo, curHi := spans[0].lo, spans[0].hi
		for _, s := range spans {
			if at.IsZero() || s.t.Before(at) {
				at = s.t
			}
			if s.lo > curHi {
				covered += (curHi - curLo) * L
				curLo, curHi = s.lo, s.hi
			} else if s.hi > curHi {
				curHi = s.hi
			}
		}
		covered += (curHi - curLo) * L
	}
	return covered, at
}

// capsule returns the parameter interval [lo, hi] ⊆ [0, 1] of the points
// p + t·(dx, dy) within r of the segment (ax, ay)-(bx, by). The capsule is
// convex, so the points form one interval: the hull of the intervals
// inside the two end disks and inside the band along the segment.
func capsule(p orb.Point, dx, dy, ax, ay, bx, by, r float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	hull := func(a, b float64) {
		a, b = math.Max(a, 0), math.Min(b, 1)
		if a <= b {
			lo, hi = math.Min(lo, a), math.Max(hi, b)
		}
	}
	disk := func(cx, cy float64) {
		// |p + t d - c|² <= r²
		fx, fy := p[0]-cx, p[1]-cy
		a := dx*dx + dy*dy
		b := 2 * (dx*fx + dy*fy)
		c := fx*fx + fy*fy - r*r
		disc := b*b - 4*a*c
		if disc < 0 {
			return
		}
		s := math.Sqrt(disc)
		hull((-b-s)/(2*a), (-b+s)/(2*a))
	}
	disk(ax, ay)
	ex, ey := bx-ax, by-ay
	el2 := ex*ex + ey*ey
	if el2 > 0 {
		disk(bx, by)
		el := math.Sqrt(el2)
		// Band: 0 <= u(t) <= 1 and |v(t)| <= r, with u the projection on
		// the segment (fraction) and v the signed distance from its line;
		// both are linear in t: f0 + t·f1.
		u0 := ((p[0]-ax)*ex + (p[1]-ay)*ey) / el2
		u1 := (dx*ex + dy*ey) / el2
		v0 := ((p[0]-ax)*ey - (p[1]-ay)*ex) / el
		v1 := (dx*ey - dy*ex) / el
		a, b := 0.0, 1.0
		clip := func(f0, f1, lower, upper float64) {
			// lower <= f0 + t f1 <= upper
			if f1 == 0 {
				if f0 < lower || f0 > upper {
					a, b = 1, 0
				}
				return
			}
			t1, t2 := (lower-f0)/f1, (upper-f0)/f1
			if t1 > t2 {
				t1, t2 = t2, t1
			}
			a, b = math.Max(a, t1), math.Min(b, t2)
		}
		clip(u0, u1, 0, 1)
		clip(v0, v1, -r, r)
		hull(a, b)
	}
	return lo, hi, lo <= hi
}
