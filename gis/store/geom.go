package store

// This file is where the two geometry libraries meet: orb (2-D, what the
// rest of the service computes with) and go-geom (EWKB, the database's
// binary format, read and written here).

import (
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
	"github.com/twpayne/go-geom/encoding/wkb"
)

func lineEWKB(ls orb.LineString, srid int) ([]byte, error) {
	flat := make([]float64, 0, 2*len(ls))
	for _, p := range ls {
		flat = append(flat, p[0], p[1])
	}
	g := geom.NewLineStringFlat(geom.XY, flat)
	g.SetSRID(srid)
	return ewkb.Marshal(g, binary.LittleEndian)
}

func pointEWKB(p orb.Point, srid int) ([]byte, error) {
	g := geom.NewPointFlat(geom.XY, []float64{p[0], p[1]})
	g.SetSRID(srid)
	return ewkb.Marshal(g, binary.LittleEndian)
}

func multiPolygonEWKB(mp orb.MultiPolygon, srid int) ([]byte, error) {
	var flat []float64
	var endss [][]int
	for _, poly := range mp {
		var ends []int
		for _, ring := range poly {
			for _, p := range ring {
				flat = append(flat, p[0], p[1])
			}
			ends = append(ends, len(flat))
		}
		endss = append(endss, ends)
	}
	g := geom.NewMultiPolygonFlat(geom.XY, flat, endss)
	g.SetSRID(srid)
	return ewkb.Marshal(g, binary.LittleEndian)
}

func decode(b []byte) (geom.T, error) {
	g, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("store: decode geometry: %w", err)
	}
	return g, nil
}

// appendLineXY appends the x,y pairs of an EWKB LineString to dst.
func appendLineXY(dst []float64, b []byte) ([]float64, error) {
	g, err := decode(b)
	if err != nil {
		return dst, err
	}
	ls, ok := g.(*geom.LineString)
	if !ok {
		return dst, fmt.Errorf("store: expected a LineString, got %T", g)
	}
	stride := ls.Stride()
	fc := ls.FlatCoords()
	for i := 0; i+1 < len(fc); i += stride {
		dst = append(dst, fc[i], fc[i+1])
	}
	return dst, nil
}

func toLine(b []byte) (orb.LineString, error) {
	xy, err := appendLineXY(nil, b)
	if err != nil {
		return nil, err
	}
	ls := make(orb.LineString, len(xy)/2)
	for i := range ls {
		ls[i] = orb.Point{xy[2*i], xy[2*i+1]}
	}
	return ls, nil
}

func toPoint(b []byte) (orb.Point, error) {
	g, err := decode(b)
	if err != nil {
		return orb.Point{}, err
	}
	p, ok := g.(*geom.Point)
	if !ok {
		return orb.Point{}, fmt.Errorf("store: expected a Point, got %T", g)
	}
	return orb.Point{p.X(), p.Y()}, nil
}

func toMultiPolygon(b []byte) (orb.MultiPolygon, error) {
	g, err := decode(b)
	if err != nil {
		return nil, err
	}
	mp, ok := g.(*geom.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("store: expected a MultiPolygon, got %T", g)
	}
	out := make(orb.MultiPolygon, mp.NumPolygons())
	for i := range out {
		poly := mp.Polygon(i)
		out[i] = make(orb.Polygon, poly.NumLinearRings())
		for j := range out[i] {
			ring := poly.LinearRing(j)
			r := make(orb.Ring, ring.NumCoords())
			for k := range r {
				c := ring.Coord(k)
				r[k] = orb.Point{c[0], c[1]}
			}
			out[i][j] = r
		}
	}
	return out, nil
}

func multiPointWKB(xs, ys []float64) ([]byte, error) {
	flat := make([]float64, 0, 2*len(xs))
	for i := range xs {
		flat = append(flat, xs[i], ys[i])
	}
	return wkb.Marshal(geom.NewMultiPointFlat(geom.XY, flat), binary.LittleEndian)
}

func multiPointXY(b []byte, n int) ([]float64, []float64, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, nil, fmt.Errorf("store: decode points: %w", err)
	}
	mp, ok := g.(*geom.MultiPoint)
	if !ok || mp.NumPoints() != n {
		return nil, nil, fmt.Errorf("store: transform returned %T with a different number of points", g)
	}
	fc, stride := mp.FlatCoords(), mp.Stride()
	xs, ys := make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		xs[i], ys[i] = fc[i*stride], fc[i*stride+1]
	}
	return xs, ys, nil
}
