package route

import (
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// RoadLine is one imported road line (storage CRS) and its OSM layer.
type RoadLine struct {
	Geom  orb.LineString
	Layer int
}

// Roads is a walkable street graph: the imported road lines noded at their
// intersections. It is immutable once built and safe for concurrent use.
//
// Noding (NewRoads), in Go at load time rather than in PostGIS, so that
// OSM's own topology is kept: lines meet
//   - at a vertex they share (equal to 1 cm): OSM ways meet at shared
//     nodes, whatever their layers (a bridge's ends are shared nodes);
//   - where they cross in their interiors on the same layer (data that
//     is not split at junctions, e.g. road centre lines from a GIS);
//     roads on different layers (bridges, tunnels) cross without meeting;
//   - where a line's end lies within SnapM of another line of its layer
//     (a digitised T junction that stops short or overshoots a little).
type Roads struct {
	nodeXY []float64 // per node
	eU, eV []int32
	eOff   []int32     // edge e's polyline is pts[eOff[e]:eOff[e+1]]
	pts    []orb.Point // from its U node to its V node
	eLen   []float64
	bounds []float64 // per edge: minX, minY, maxX, maxY (see box)
	grid   boxGrid   // over bounds
}

// SnapM is how close a road's end must come to another road to meet it.
const SnapM = 0.5

// NumNodes is the number of road junctions (and ends).
func (r *Roads) NumNodes() int { return len(r.nodeXY) / 2 }

// NumEdges is the number of road stretches between junctions.
func (r *Roads) NumEdges() int { return len(r.eU) }

// Edge returns road edge e: its end nodes, its polyline (from u to v; do
// not modify) and its length.
func (r *Roads) Edge(e int32) (u, v int32, line orb.LineString, length float64) {
	return r.eU[e], r.eV[e], orb.LineString(r.pts[r.eOff[e]:r.eOff[e+1]]), r.eLen[e]
}

// Node is the position of road node v.
func (r *Roads) Node(v int32) orb.Point { return orb.Point{r.nodeXY[2*v], r.nodeXY[2*v+1]} }

func (r *Roads) line(e int32) orb.LineString { return orb.LineString(r.pts[r.eOff[e]:r.eOff[e+1]]) }

// EdgesIn calls fn for every road edge whose bounding box meets b (each
// once). fn returns false to stop.
func (r *Roads) EdgesIn(b orb.Bound, fn func(e int32) bool) {
	r.grid.search(r.bounds, b, fn)
}

// Nearest returns the road point nearest to p within maxD: its edge, its
// distance s along the edge's polyline and its distance to p. ok is false
// when no road comes that near.
func (r *Roads) Nearest(p orb.Point, maxD float64) (e int32, s, d float64, ok bool) {
	if r == nil || len(r.eU) == 0 {
		return -1, 0, 0, false
	}
	best := math.Inf(1)
	e = -1
	b := orb.Bound{Min: orb.Point{p[0] - maxD, p[1] - maxD}, Max: orb.Point{p[0] + maxD, p[1] + maxD}}
	r.grid.search(r.bounds, b, func(k int32) bool {
		eb := boundAt(r.bounds, k)
		dx := math.Max(0, math.Max(eb.Min[0]-p[0], p[0]-eb.Max[0]))
		dy := math.Max(0, math.Max(eb.Min[1]-p[1], p[1]-eb.Max[1]))
		if math.Hypot(dx, dy) > math.Min(best, maxD) {
			return true
		}
		ks, kd := gis.Project(r.line(k), p)
		if kd < best || (kd == best && k < e) {
			best, e, s = kd, k, ks
		}
		return true
	})
	if e < 0 || best > maxD {
		return -1, 0, 0, false
	}
	return e, s, best, true
}

// vkey is a vertex position rounded to 1 cm.
type vkey struct{ x, y int64 }

func keyOf(p orb.Point) vkey {
	return vkey{int64(math.Round(p[0] * 100)), int64(math.Round(p[1] * 100))}
}

// NewRoads nodes lines into a road graph (see Roads). Lines with fewer than
// two distinct points are ignored.
func NewRoads(lines []RoadLine) *Roads {
	// Clean lines: drop repeated points.
	var ls []RoadLine
	for _, l := range lines {
		var g orb.LineString
		for _, p := range l.Geom {
			if len(g) == 0 || g[len(g)-1] != p {
				g = append(g, p)
			}
		}
		if len(g) >= 2 {
			ls = append(ls, RoadLine{Geom: g, Layer: l.Layer})
		}
	}
	// Vertices: one id per distinct position (1 cm); break = a node of
	// the graph (an end, a shared vertex, a crossing).
	vid := map[vkey]int32{}
	var vxy []orb.Point
	var vcount []int32
	var brk []bool
	vertex := func(p orb.Point) int32 {
		k := keyOf(p)
		if id, ok := vid[k]; ok {
			return id
		}
		id := int32(len(vxy))
		vid[k] = id
		vxy = append(vxy, p)
		vcount = append(vcount, 0)
		brk = append(brk, false)
		return id
	}
	lineV := make([][]int32, len(ls))
	for i, l := range ls {
		ids := make([]int32, len(l.Geom))
		for k, p := range l.Geom {
			ids[k] = vertex(p)
			vcount[ids[k]]++
		}
		brk[ids[0]], brk[ids[len(ids)-1]] = true, true
		lineV[i] = ids
	}
	for v, c := range vcount {
		if c > 1 {
			brk[v] = true
		}
	}
	// Segments and a grid over them.
	type seg struct {
		line, i int32
	}
	var segs []seg
	for i, l := range ls {
		for k := 0; k+1 < len(l.Geom); k++ {
			segs = append(segs, seg{int32(i), int32(k)})
		}
	}
	segAB := func(s seg) (orb.Point, orb.Point) {
		g := ls[s.line].Geom
		return g[s.i], g[s.i+1]
	}
	// Splits of segments inside their interior: t in (0, 1), at vertex v.
	type split struct {
		t float64
		v int32
	}
	splits := map[seg][]split{}
	uf := newUnionFind()
	if len(segs) > 0 {
		// Each segment's box, widened by SnapM.
		sb := make([]float64, 0, 4*len(segs))
		for _, s := range segs {
			a, b := segAB(s)
			sb = append(sb, math.Min(a[0], b[0])-SnapM, math.Min(a[1], b[1])-SnapM,
				math.Max(a[0], b[0])+SnapM, math.Max(a[1], b[1])+SnapM)
		}
		g := newBoxGrid(sb)
		cellOf := func(p orb.Point) int { c, r := g.cell(p[0], p[1]); return r*g.nx + c }
		for c := 0; c < g.nx*g.ny; c++ {
			list := g.items[g.off[c]:g.off[c+1]]
			for x := 0; x < len(list); x++ {
				s1 := segs[list[x]]
				a1, b1 := segAB(s1)
				for y := x + 1; y < len(list); y++ {
					s2 := segs[list[y]]
					a2, b2 := segAB(s2)
					same := ls[s1.line].Layer == ls[s2.line].Layer
					if !same {
						continue
					}
					// Proper crossing.
					if t1, t2, ok := crossing(a1, b1, a2, b2); ok {
						if s1.line == s2.line && (s1.i-s2.i == 1 || s2.i-s1.i == 1) {
							continue
						}
						x := orb.Point{a1[0] + t1*(b1[0]-a1[0]), a1[1] + t1*(b1[1]-a1[1])}
						if cellOf(x) != c {
							continue
						}
						v := vertex(x)
						brk[v] = true
						splits[s1] = append(splits[s1], split{t1, v})
						splits[s2] = append(splits[s2], split{t2, v})
						continue
					}
					// A line's end near the other segment.
					for pass := 0; pass < 2; pass++ {
						sa, sbb, pa, pb := s1, s2, [2]orb.Point{a1, b1}, [2]orb.Point{a2, b2}
						if pass == 1 {
							sa, sbb, pa, pb = s2, s1, [2]orb.Point{a2, b2}, [2]orb.Point{a1, b1}
						}
						gl := ls[sa.line].Geom
						for end := 0; end < 2; end++ {
							k := sa.i + int32(end)
							if k != 0 && int(k) != len(gl)-1 {
								continue
							}
							p := pa[end]
							if cellOf(p) != c {
								continue
							}
							t, d := projectSeg(pb[0], pb[1], p)
							if d > SnapM || (sa.line == sbb.line && (k == sbb.i || k == sbb.i+1)) {
								continue
							}
							pv := lineV[sa.line][k]
							segLen := math.Hypot(pb[1][0]-pb[0][0], pb[1][1]-pb[0][1])
							switch {
							case t*segLen <= SnapM:
								q := lineV[sbb.line][sbb.i]
								if q != pv {
									uf.union(pv, q)
									brk[q] = true
								}
							case (1-t)*segLen <= SnapM:
								q := lineV[sbb.line][sbb.i+1]
								if q != pv {
									uf.union(pv, q)
									brk[q] = true
								}
							default:
								splits[sbb] = append(splits[sbb], split{t, pv})
							}
						}
					}
				}
			}
		}
	}
	// Nodes: the representatives of break vertices, numbered densely.
	node := map[int32]int32{}
	r := &Roads{}
	nodeOf := func(v int32) int32 {
		v = uf.find(v)
		if n, ok := node[v]; ok {
			return n
		}
		n := int32(len(r.nodeXY) / 2)
		node[v] = n
		r.nodeXY = append(r.nodeXY, vxy[v][0], vxy[v][1])
		return n
	}
	isBreak := func(v int32) bool { return brk[v] || uf.has(v) }
	for i, l := range ls {
		ids := lineV[i]
		cur := []orb.Point{}
		curNode := nodeOf(ids[0])
		cur = append(cur, r.Node(curNode))
		emit := func(endV int32) {
			n := nodeOf(endV)
			cur = append(cur, r.Node(n))
			// Drop repeated points (the snapped ends may repeat).
			clean := cur[:1]
			for _, p := range cur[1:] {
				if p != clean[len(clean)-1] {
					clean = append(clean, p)
				}
			}
			if n != curNode && len(clean) >= 2 {
				r.addEdge(curNode, n, clean)
			}
			curNode = n
			cur = []orb.Point{r.Node(n)}
		}
		for k := 0; k+1 < len(l.Geom); k++ {
			s := seg{int32(i), int32(k)}
			sp := splits[s]
			sort.Slice(sp, func(a, b int) bool { return sp[a].t < sp[b].t })
			for _, x := range sp {
				emit(x.v)
			}
			if k+1 == len(l.Geom)-1 || isBreak(ids[k+1]) {
				emit(ids[k+1])
			} else {
				cur = append(cur, l.Geom[k+1])
			}
		}
	}
	r.grid = newBoxGrid(r.bounds)
	return r
}

func (r *Roads) addEdge(u, v int32, line []orb.Point) {
	r.eU = append(r.eU, u)
	r.eV = append(r.eV, v)
	if len(r.eOff) == 0 {
		r.eOff = append(r.eOff, 0)
	}
	r.pts = append(r.pts, line...)
	r.eOff = append(r.eOff, int32(len(r.pts)))
	r.eLen = append(r.eLen, gis.LineLength(line))
	b := emptyBox()
	for _, p := range line {
		b.add(p[0], p[1])
	}
	r.bounds = append(r.bounds, b[:]...)
}

// crossing reports whether segments ab and cd cross properly (each in its
// interior, away from its ends by more than a millimetre), and where
// (parameters along each).
func crossing(a, b, c, d orb.Point) (t, u float64, ok bool) {
	rx, ry := b[0]-a[0], b[1]-a[1]
	sx, sy := d[0]-c[0], d[1]-c[1]
	den := rx*sy - ry*sx
	if den == 0 {
		return 0, 0, false
	}
	qx, qy := c[0]-a[0], c[1]-a[1]
	t = (qx*sy - qy*sx) / den
	u = (qx*ry - qy*rx) / den
	l1, l2 := math.Hypot(rx, ry), math.Hypot(sx, sy)
	const eps = 1e-3
	if t*l1 <= eps || (1-t)*l1 <= eps || u*l2 <= eps || (1-u)*l2 <= eps {
		return 0, 0, false
	}
	return t, u, true
}

// projectSeg is the parameter of the point of ab nearest p, and its distance.
func projectSeg(a, b, p orb.Point) (t, d float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return t, math.Hypot(p[0]-(a[0]+t*dx), p[1]-(a[1]+t*dy))
}

// unionFind merges vertex ids (sparse: only merged ids are stored).
type unionFind struct{ parent map[int32]int32 }

func newUnionFind() *unionFind { return &unionFind{parent: map[int32]int32{}} }

func (u *unionFind) find(x int32) int32 {
	for {
		p, ok := u.parent[x]
		if !ok || p == x {
			return x
		}
		x = p
	}
}

func (u *unionFind) union(a, b int32) {
	a, b = u.find(a), u.find(b)
	if a == b {
		return
	}
	if a > b {
		a, b = b, a
	}
	u.parent[b] = a
	u.parent[a] = a
}

func (u *unionFind) has(x int32) bool { _, ok := u.parent[x]; return ok }
