package route

import (
	"math"

	"github.com/paulmach/orb"
)

// box is a bounding box as minX, minY, maxX, maxY: the layout, four
// float64 per item, of the flat bounds slices that Net (per pipe), Roads
// (per edge) and boxGrid use. emptyBox is the box of no points (min > max).
type box [4]float64

func emptyBox() box { return box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)} }

// add widens b to take in (x, y).
func (b *box) add(x, y float64) {
	b[0], b[1] = math.Min(b[0], x), math.Min(b[1], y)
	b[2], b[3] = math.Max(b[2], x), math.Max(b[3], y)
}

// boundAt is item i's box in a flat bounds slice (see box).
func boundAt(bounds []float64, i int32) orb.Bound {
	b := bounds[4*i : 4*i+4]
	return orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
}

// boxGrid is a uniform grid over items' bounding boxes: each cell lists the
// items whose box meets it, in increasing item order. It indexes Net's
// pipes, Roads' edges and, while noding, road segments.
type boxGrid struct {
	x0, y0, size float64
	nx, ny       int
	off          []int32 // cell k's items are items[off[k]:off[k+1]]
	items        []int32
}

const gridTarget = 4 // items per cell aimed at

// newBoxGrid indexes the items whose boxes bounds holds (four float64 per
// item, see box; len(bounds)/4 items). The grid covers the boxes' extent
// in square cells of about gridTarget items each (at least 10 units
// wide); an empty box (min > max: an item with no points) is in no cell.
// With no items, or only empty boxes, the grid is one empty cell. The
// grid does not keep bounds: search is given it again.
func newBoxGrid(bounds []float64) boxGrid {
	n := len(bounds) / 4
	g := boxGrid{nx: 1, ny: 1, size: 1}
	ext := emptyBox()
	for i := 0; i < n; i++ {
		b := bounds[4*i : 4*i+4]
		ext[0], ext[1] = math.Min(ext[0], b[0]), math.Min(ext[1], b[1])
		ext[2], ext[3] = math.Max(ext[2], b[2]), math.Max(ext[3], b[3])
	}
	if n == 0 || ext[0] > ext[2] {
		g.off = make([]int32, 2)
		return g
	}
	minX, minY, maxX, maxY := ext[0], ext[1], ext[2], ext[3]
	area := math.Max((maxX-minX)*(maxY-minY), 1)
	g.size = math.Max(math.Sqrt(area*gridTarget/float64(n)), 10)
	g.x0, g.y0 = minX, minY
	g.nx = int((maxX-minX)/g.size) + 1
	g.ny = int((maxY-minY)/g.size) + 1
	nc := g.nx * g.ny
	// Count the items per cell, then place them (CSR).
	g.off = make([]int32, nc+1)
	for i := 0; i < n; i++ {
		b := bounds[4*i : 4*i+4]
		if b[0] > b[2] {
			continue
		}
		c0, r0 := g.cell(b[0], b[1])
		c1, r1 := g.cell(b[2], b[3])
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				g.off[r*g.nx+c+1]++
			}
		}
	}
	for k := 0; k < nc; k++ {
		g.off[k+1] += g.off[k]
	}
	g.items = make([]int32, g.off[nc])
	pos := append([]int32(nil), g.off[:nc]...)
	for i := 0; i < n; i++ {
		b := bounds[4*i : 4*i+4]
		if b[0] > b[2] {
			continue
		}
		c0, r0 := g.cell(b[0], b[1])
		c1, r1 := g.cell(b[2], b[3])
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				k := r*g.nx + c
				g.items[pos[k]] = int32(i)
				pos[k]++
			}
		}
	}
	return g
}

// cell is the column and row of the cell holding (x, y), clamped to the
// grid.
func (g *boxGrid) cell(x, y float64) (int, int) {
	c := int((x - g.x0) / g.size)
	r := int((y - g.y0) / g.size)
	return min(max(c, 0), g.nx-1), min(max(r, 0), g.ny-1)
}

// search calls fn for every item whose box meets b, each once, in cell
// order (row by row) and item order within a cell; fn returns false to
// stop. bounds must be the slice the grid was built from. An item is
// listed in every cell its box meets and is reported only from the cell
// holding the lower-left corner of its box's intersection with b.
func (g *boxGrid) search(bounds []float64, b orb.Bound, fn func(i int32) bool) {
	if len(g.items) == 0 || b.Max[0] < g.x0 || b.Max[1] < g.y0 ||
		b.Min[0] > g.x0+float64(g.nx)*g.size || b.Min[1] > g.y0+float64(g.ny)*g.size {
		return
	}
	c0, r0 := g.cell(b.Min[0], b.Min[1])
	c1, r1 := g.cell(b.Max[0], b.Max[1])
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			k := r*g.nx + c
			for _, i := range g.items[g.off[k]:g.off[k+1]] {
				ib := boundAt(bounds, i)
				if !ib.Intersects(b) {
					continue
				}
				if cc, rr := g.cell(math.Max(ib.Min[0], b.Min[0]), math.Max(ib.Min[1], b.Min[1])); cc != c || rr != r {
					continue
				}
				if !fn(i) {
					return
				}
			}
		}
	}
}
