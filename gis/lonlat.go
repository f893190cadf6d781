package gis

import "math"

// LonLatGrid maps storage-CRS coordinates to WGS84 longitude/latitude by
// bilinear interpolation between control points that PostGIS (PROJ)
// transformed exactly. Over a city, with cells of a kilometre or two, the
// interpolation error is far below a centimetre, and a transformation
// costs nanoseconds instead of a database round trip. Points outside the
// grid are extrapolated from its edge cells (less accurate far away).
// A LonLatGrid is immutable.
type LonLatGrid struct {
	MinX, MinY float64
	DX, DY     float64 // cell size
	NX, NY     int     // cells; (NX+1)*(NY+1) control points, row-major from MinY
	Lon, Lat   []float64
}

// GridPoints returns the control points of a grid of nx×ny cells covering
// the box (minx, miny)–(maxx, maxy), row-major, as the x and y slices to
// transform.
func GridPoints(minx, miny, maxx, maxy float64, nx, ny int) (xs, ys []float64, dx, dy float64) {
	dx = (maxx - minx) / float64(nx)
	dy = (maxy - miny) / float64(ny)
	if dx <= 0 {
		dx = 1
	}
	if dy <= 0 {
		dy = 1
	}
	for j := 0; j <= ny; j++ {
		for i := 0; i <= nx; i++ {
			xs = append(xs, minx+float64(i)*dx)
			ys = append(ys, miny+float64(j)*dy)
		}
	}
	return xs, ys, dx, dy
}

// Apply transforms (x, y).
func (g *LonLatGrid) Apply(x, y float64) (lon, lat float64) {
	fx := (x - g.MinX) / g.DX
	fy := (y - g.MinY) / g.DY
	i := int(math.Floor(fx))
	j := int(math.Floor(fy))
	i = max(0, min(g.NX-1, i))
	j = max(0, min(g.NY-1, j))
	tx, ty := fx-float64(i), fy-float64(j)
	w := g.NX + 1
	k00, k10 := j*w+i, j*w+i+1
	k01, k11 := (j+1)*w+i, (j+1)*w+i+1
	bl := func(v []float64) float64 {
		return v[k00]*(1-tx)*(1-ty) + v[k10]*tx*(1-ty) + v[k01]*(1-tx)*ty + v[k11]*tx*ty
	}
	return bl(g.Lon), bl(g.Lat)
}
