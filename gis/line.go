package gis

import (
	"math"

	"github.com/paulmach/orb"
)

// LineLength is the 2-D length of a polyline.
func LineLength(ls orb.LineString) float64 {
	var l float64
	for i := 1; i < len(ls); i++ {
		l += math.Hypot(ls[i][0]-ls[i-1][0], ls[i][1]-ls[i-1][1])
	}
	return l
}

// Project returns the distance s along ls of the point of ls nearest to p,
// and the 2-D distance from p to that point. For equally near points the
// one nearest the line's start wins.
func Project(ls orb.LineString, p orb.Point) (s, dist float64) {
	best := math.Inf(1)
	var acc float64
	for i := 1; i < len(ls); i++ {
		a, b := ls[i-1], ls[i]
		dx, dy := b[0]-a[0], b[1]-a[1]
		segLen2 := dx*dx + dy*dy
		t := 0.0
		if segLen2 > 0 {
			t = ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / segLen2
			t = math.Max(0, math.Min(1, t))
		}
		qx, qy := a[0]+t*dx, a[1]+t*dy
		d := math.Hypot(p[0]-qx, p[1]-qy)
		segLen := math.Sqrt(segLen2)
		if d < best {
			best = d
			s = acc + t*segLen
		}
		acc += segLen
	}
	if len(ls) == 1 {
		return 0, math.Hypot(p[0]-ls[0][0], p[1]-ls[0][1])
	}
	return s, best
}

// DistanceToLine is the 2-D distance from p to ls.
func DistanceToLine(ls orb.LineString, p orb.Point) float64 {
	_, d := Project(ls, p)
	return d
}

// PointAt is the point at distance s along ls (clamped to its ends).
func PointAt(ls orb.LineString, s float64) orb.Point {
	if len(ls) == 0 {
		return orb.Point{}
	}
	if s <= 0 {
		return ls[0]
	}
	var acc float64
	for i := 1; i < len(ls); i++ {
		a, b := ls[i-1], ls[i]
		l := math.Hypot(b[0]-a[0], b[1]-a[1])
		if acc+l >= s && l > 0 {
			t := (s - acc) / l
			return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		}
		acc += l
	}
	return ls[len(ls)-1]
}

// SubLine is the part of ls between distances from and to (from <= to).
func SubLine(ls orb.LineString, from, to float64) orb.LineString {
	if len(ls) < 2 {
		return append(orb.LineString(nil), ls...)
	}
	out := orb.LineString{PointAt(ls, from)}
	var acc float64
	for i := 1; i < len(ls); i++ {
		acc += math.Hypot(ls[i][0]-ls[i-1][0], ls[i][1]-ls[i-1][1])
		if acc > from && acc < to {
			out = append(out, ls[i])
		}
	}
	end := PointAt(ls, to)
	if end != out[len(out)-1] || len(out) == 1 {
		out = append(out, end)
	}
	return out
}

// flatLine is a polyline stored as x0, y0, x1, y1, … (a view of
// Topology.PipeXY).
type flatLine []float64

func (f flatLine) pt(i int) orb.Point { return orb.Point{f[2*i], f[2*i+1]} }

// pointAt is PointAt on a flat line: the same arithmetic, no copy.
func (f flatLine) pointAt(s float64) orb.Point {
	n := len(f) / 2
	if n == 0 {
		return orb.Point{}
	}
	if s <= 0 {
		return f.pt(0)
	}
	var acc float64
	for i := 1; i < n; i++ {
		a, b := f.pt(i-1), f.pt(i)
		l := math.Hypot(b[0]-a[0], b[1]-a[1])
		if acc+l >= s && l > 0 {
			t := (s - acc) / l
			return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		}
		acc += l
	}
	return f.pt(n - 1)
}

// pipeFlat is pipe i's geometry as a flat view of t.PipeXY.
func (t *Topology) pipeFlat(i int) flatLine {
	return flatLine(t.PipeXY[2*int(t.PipeOff[i]) : 2*int(t.PipeOff[i+1])])
}

// PointOnPipe is PointAt(t.PipeLine(i), s), without copying the line.
func (t *Topology) PointOnPipe(i int, s float64) orb.Point { return t.pipeFlat(i).pointAt(s) }

// AppendSubLine appends to dst the points of SubLine(t.PipeLine(i), from,
// to) — the same points — without copying the pipe's line.
func (t *Topology) AppendSubLine(dst orb.LineString, i int, from, to float64) orb.LineString {
	f := t.pipeFlat(i)
	n := len(f) / 2
	if n < 2 {
		for k := 0; k < n; k++ {
			dst = append(dst, f.pt(k))
		}
		return dst
	}
	first := len(dst)
	dst = append(dst, f.pointAt(from))
	var acc float64
	for k := 1; k < n; k++ {
		acc += math.Hypot(f[2*k]-f[2*k-2], f[2*k+1]-f[2*k-1])
		if acc > from && acc < to {
			dst = append(dst, f.pt(k))
		}
	}
	end := f.pointAt(to)
	if end != dst[len(dst)-1] || len(dst) == first+1 {
		dst = append(dst, end)
	}
	return dst
}
