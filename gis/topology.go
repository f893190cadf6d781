package gis

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// DefaultTolerance is the snapping tolerance of network-geojson.md, in metres.
const DefaultTolerance = 0.05

// NearMissDistance: a loose pipe end this close to another pipe is
// reported as a probable digitising error.
const NearMissDistance = 0.5

// Topology is a network with its topology resolved, in column form: every
// pipe knows its end junctions and the tees cutting it, and every valve and
// item knows the pipe it sits on and its distance along it. It is what the
// store persists and loads, and what NewNetwork assembles into a graph.
// Indices are into the parallel slices; -1 means "takes no part".
//
// A Topology is plain data; it must not be changed once handed to NewNetwork.
type Topology struct {
	SRID int
	Tol  float64
	// DeadEnds counts pipe ends joined to nothing (not persisted).
	DeadEnds int

	NodeXY []float64 // junction positions, x,y pairs

	PipeID        Strings
	PipeDN        []int32
	PipeInService []bool
	PipeFrom      []int32   // junction at the start (-1 when not in service)
	PipeTo        []int32   // junction at the end
	PipeLen       []float64 // 2-D length
	PipeOff       []int32   // PipeXY[2*PipeOff[i] : 2*PipeOff[i+1]] are pipe i's vertices
	PipeXY        []float64

	TeePipe []int32 // the pipe a tee cuts
	TeeNode []int32 // the junction of the tee
	TeeS    []float64

	ValveID       Strings
	ValvePipe     []int32
	ValveS        []float64
	ValveDN       []int32
	ValveOpen     []bool // normally open
	ValveOperable []bool

	SourceID   []string
	SourcePipe []int32
	SourceS    []float64

	HydrantID   []string
	HydrantPipe []int32
	HydrantS    []float64

	ConnID   Strings
	ConnPipe []int32
	ConnS    []float64

	CustID         Strings
	CustConn       []int32 // supplying connection, or -1
	CustPipe       []int32 // pipe when no connection (or the connection's pipe); -1 = no part
	CustS          []float64
	CustPipeLevel  []bool // affected when any piece of CustPipe is (pipe given, no geometry)
	CustHouseholds []int32
	CustCritical   []bool
	CustCategory   Strings
	CustName       Strings // of critical customers (others may be empty)
}

// PipeLine returns pipe i's geometry (sharing the Topology's memory).
func (t *Topology) PipeLine(i int) orb.LineString {
	a, b := t.PipeOff[i], t.PipeOff[i+1]
	ls := make(orb.LineString, b-a)
	for k := range ls {
		ls[k] = orb.Point{t.PipeXY[2*(int(a)+k)], t.PipeXY[2*(int(a)+k)+1]}
	}
	return ls
}

// NumPipes is the number of pipes.
func (t *Topology) NumPipes() int { return t.PipeID.Len() }

// pipeIndex is a spatial index of in-service pipes.
type pipeIndex struct {
	tr    rtree.RTreeG[int32]
	lines []orb.LineString
	ids   []string
}

func newPipeIndex(ds *Dataset, inService []bool) *pipeIndex {
	ix := &pipeIndex{lines: make([]orb.LineString, len(ds.Pipes)), ids: make([]string, len(ds.Pipes))}
	for i := range ds.Pipes {
		ix.ids[i] = ds.Pipes[i].ID
		if !inService[i] {
			continue
		}
		ls := ds.Pipes[i].Geom
		ix.lines[i] = ls
		b := ls.Bound()
		ix.tr.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, int32(i))
	}
	return ix
}

// tieEps is how close two distances must be to count as a tie.
const tieEps = 1e-9

// nearest returns the nearest in-service pipe to p within maxDist (Inf for
// any distance), ties to the smallest id; -1 when none.
func (ix *pipeIndex) nearest(p orb.Point, maxDist float64) (int32, float64, float64) {
	best, bestD, bestS := int32(-1), math.Inf(1), 0.0
	target := [2]float64{p[0], p[1]}
	ix.tr.Nearby(
		rtree.BoxDist[float64, int32](target, target, func(min, max [2]float64, i int32) float64 {
			_, d := Project(ix.lines[i], p)
			return d * d
		}),
		func(_, _ [2]float64, i int32, d2 float64) bool {
			// Items arrive by increasing distance: the first is the nearest,
			// later ones within tieEps of it are ties, settled by id.
			d := math.Sqrt(d2)
			if d > maxDist || (best >= 0 && d > bestD+tieEps) {
				return false
			}
			if best < 0 || ix.ids[i] < ix.ids[best] {
				if best < 0 {
					bestD = d
				}
				best = i
				bestS, _ = Project(ix.lines[i], p)
			}
			return true
		})
	return best, bestD, bestS
}

type unionFind []int32

func newUnionFind(n int) unionFind {
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

func (u unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if ra < rb {
		u[rb] = ra
	} else {
		u[ra] = rb
	}
}

// Resolve builds the topology of ds exactly as network-geojson.md defines it
// (snapping, tees, placement of valves and items). It never fails on data
// that a reader accepted; what it cannot place is reported as a warning and
// takes no part. tol <= 0 means DefaultTolerance.
func Resolve(ds *Dataset, tol float64) (*Topology, []Issue) {
	if tol <= 0 {
		tol = DefaultTolerance
	}
	var warns []Issue
	warn := func(code string, ref Ref, feature, msg, fix string) {
		warns = append(warns, Issue{Code: code, Where: ref.String(), Feature: feature, Msg: msg, Fix: fix})
	}
	n := len(ds.Pipes)
	t := &Topology{SRID: ds.SRID, Tol: tol}
	var pipeIDs, valveIDs StringsBuilder
	t.PipeDN = make([]int32, n)
	t.PipeInService = make([]bool, n)
	t.PipeFrom = make([]int32, n)
	t.PipeTo = make([]int32, n)
	t.PipeLen = make([]float64, n)
	t.PipeOff = make([]int32, n+1)
	pipeByID := make(map[string]int32, n)
	nv := 0
	for i := range ds.Pipes {
		nv += len(ds.Pipes[i].Geom)
	}
	t.PipeXY = make([]float64, 0, 2*nv)
	for i := range ds.Pipes {
		p := &ds.Pipes[i]
		pipeIDs.Add(p.ID)
		t.PipeDN[i] = int32(p.DN)
		t.PipeInService[i] = p.Status == "" || p.Status == StatusInService
		t.PipeLen[i] = LineLength(p.Geom)
		t.PipeFrom[i], t.PipeTo[i] = -1, -1
		for _, pt := range p.Geom {
			t.PipeXY = append(t.PipeXY, pt[0], pt[1])
		}
		t.PipeOff[i+1] = int32(len(t.PipeXY) / 2)
		pipeByID[p.ID] = int32(i)
	}
	t.PipeID = pipeIDs.Strings()

	// Junctions: pipe ends within tol, transitively (grid hash, cell = tol).
	type cell struct{ x, y int64 }
	ends := make([]orb.Point, 2*n) // end k: pipe k/2, start if k even
	grid := make(map[cell][]int32, 2*n)
	cellOf := func(p orb.Point) cell {
		return cell{int64(math.Floor(p[0] / tol)), int64(math.Floor(p[1] / tol))}
	}
	uf := newUnionFind(2 * n)
	for i := range ds.Pipes {
		if !t.PipeInService[i] || len(ds.Pipes[i].Geom) == 0 {
			continue
		}
		g := ds.Pipes[i].Geom
		ends[2*i], ends[2*i+1] = g[0], g[len(g)-1]
		for k := 2 * i; k <= 2*i+1; k++ {
			p := ends[k]
			c := cellOf(p)
			for dx := int64(-1); dx <= 1; dx++ {
				for dy := int64(-1); dy <= 1; dy++ {
					for _, o := range grid[cell{c.x + dx, c.y + dy}] {
						if math.Hypot(ends[o][0]-p[0], ends[o][1]-p[1]) <= tol {
							uf.union(int32(k), o)
						}
					}
				}
			}
			grid[c] = append(grid[c], int32(k))
		}
	}
	grid = nil

	// Tees: a pipe end within tol of another pipe's inside cuts that pipe.
	ix := newPipeIndex(ds, t.PipeInService)
	type tee struct {
		pipe int32
		end  int32 // an end of the junction
		s    float64
	}
	var tees []tee
	for i := range ds.Pipes {
		if !t.PipeInService[i] || len(ds.Pipes[i].Geom) < 2 {
			continue
		}
		for k := 2 * i; k <= 2*i+1; k++ {
			p := ends[k]
			ix.tr.Search([2]float64{p[0] - tol, p[1] - tol}, [2]float64{p[0] + tol, p[1] + tol},
				func(_, _ [2]float64, q int32) bool {
					if int(q) == i {
						return true
					}
					s, d := Project(ix.lines[q], p)
					if d > tol {
						return true
					}
					switch {
					case s <= tol:
						uf.union(int32(k), 2*q)
					case s >= t.PipeLen[q]-tol:
						uf.union(int32(k), 2*q+1)
					default:
						tees = append(tees, tee{pipe: q, end: int32(k), s: s})
					}
					return true
				})
		}
	}
	// Number the junctions.
	nodeOf := make(map[int32]int32)
	node := func(end int32) int32 {
		r := uf.find(end)
		if id, ok := nodeOf[r]; ok {
			return id
		}
		id := int32(len(t.NodeXY) / 2)
		nodeOf[r] = id
		t.NodeXY = append(t.NodeXY, ends[r][0], ends[r][1])
		return id
	}
	for i := range ds.Pipes {
		if !t.PipeInService[i] || len(ds.Pipes[i].Geom) < 2 {
			continue
		}
		t.PipeFrom[i] = node(int32(2 * i))
		t.PipeTo[i] = node(int32(2*i + 1))
	}
	// One cut per (pipe, junction): the same junction reached by several ends.
	sort.Slice(tees, func(a, b int) bool {
		if tees[a].pipe != tees[b].pipe {
			return tees[a].pipe < tees[b].pipe
		}
		return tees[a].s < tees[b].s
	})
	seen := make(map[[2]int32]bool)
	for _, te := range tees {
		nd := node(te.end)
		key := [2]int32{te.pipe, nd}
		if seen[key] || nd == t.PipeFrom[te.pipe] || nd == t.PipeTo[te.pipe] {
			continue
		}
		seen[key] = true
		t.TeePipe = append(t.TeePipe, te.pipe)
		t.TeeNode = append(t.TeeNode, nd)
		t.TeeS = append(t.TeeS, te.s)
	}

	// Loose ends: a pipe end joined to nothing. One within NearMissDistance
	// of another pipe is probably a digitising error (a near miss); the
	// others are dead ends, normal at the end of a line but worth a look.
	degree := make([]int32, len(t.NodeXY)/2)
	for i := range t.PipeFrom {
		if t.PipeFrom[i] >= 0 {
			degree[t.PipeFrom[i]]++
			degree[t.PipeTo[i]]++
		}
	}
	for _, nd := range t.TeeNode {
		degree[nd] += 2
	}
	var deadEnds []string
	for i := range ds.Pipes {
		if t.PipeFrom[i] < 0 {
			continue
		}
		for k, nd := range [2]int32{t.PipeFrom[i], t.PipeTo[i]} {
			if degree[nd] != 1 {
				continue
			}
			p := ends[2*i+k]
			near, nearD := int32(-1), math.Inf(1)
			ix.tr.Search([2]float64{p[0] - NearMissDistance, p[1] - NearMissDistance}, [2]float64{p[0] + NearMissDistance, p[1] + NearMissDistance},
				func(_, _ [2]float64, q int32) bool {
					if int(q) != i {
						if _, d := Project(ix.lines[q], p); d <= NearMissDistance && d < nearD {
							near, nearD = q, d
						}
					}
					return true
				})
			if near >= 0 {
				warn("topology.near_miss", ds.Pipes[i].Src, KindPipe+":"+ds.Pipes[i].ID,
					fmt.Sprintf("an end of pipe %s is %.2f m from pipe %s but not joined to it (tolerance %.2f m)", ds.Pipes[i].ID, nearD, ds.Pipes[near].ID, tol),
					"move the end onto the other pipe, or confirm they do not meet")
			} else {
				deadEnds = append(deadEnds, ds.Pipes[i].ID)
			}
		}
	}
	t.DeadEnds = len(deadEnds)
	if len(deadEnds) > 0 {
		sample := deadEnds
		if len(sample) > 10 {
			sample = sample[:10]
		}
		warn("topology.dead_end", Ref{File: ds.Name, Index: -1}, "",
			fmt.Sprintf("%d pipe ends are joined to no other pipe (dead ends), e.g. pipes %s", len(deadEnds), strings.Join(sample, ", ")),
			"normal at the end of a line; check the others")
	}

	// pipeFor resolves a named pipe: its index, or -1 with a warning.
	pipeFor := func(kind, id, pipe string, ref Ref) int32 {
		q, ok := pipeByID[pipe]
		if !ok {
			warn("placement.unknown_pipe", ref, kind+":"+id, fmt.Sprintf("%s %s names pipe %q, which is not in the network", kind, id, pipe), "correct the pipe id or remove it to place by position")
			return -1
		}
		if !t.PipeInService[q] || len(ds.Pipes[q].Geom) < 2 {
			return -1 // not in service: takes no part, by the format's rules
		}
		return q
	}

	// Valves.
	for i := range ds.Valves {
		v := &ds.Valves[i]
		q, s := int32(-1), 0.0
		if v.Pipe != "" {
			if q = pipeFor(KindValve, v.ID, v.Pipe, v.Src); q >= 0 {
				var d float64
				s, d = Project(ix.lines[q], v.Geom)
				if d > 1 {
					warn("valve.far_from_pipe", v.Src, KindValve+":"+v.ID, fmt.Sprintf("valve %s is %.2f m from its pipe %s", v.ID, d, v.Pipe), "check the valve's position or its pipe")
				}
			}
		} else {
			var d float64
			q, d, s = ix.nearest(v.Geom, tol)
			_ = d
			if q < 0 {
				warn("valve.not_on_pipe", v.Src, KindValve+":"+v.ID, fmt.Sprintf("valve %s is not within %.2f m of any in-service pipe; it is ignored", v.ID, tol), "move it onto its pipe or name the pipe")
			}
		}
		if q >= 0 {
			if s <= tol {
				s = 0
			} else if s >= t.PipeLen[q]-tol {
				s = t.PipeLen[q]
			}
		}
		valveIDs.Add(v.ID)
		t.ValvePipe = append(t.ValvePipe, q)
		t.ValveS = append(t.ValveS, s)
		t.ValveDN = append(t.ValveDN, int32(v.DN))
		t.ValveOpen = append(t.ValveOpen, v.NormallyOpen)
		t.ValveOperable = append(t.ValveOperable, v.Operable)
	}
	t.ValveID = valveIDs.Strings()

	// place puts an item on its named pipe or on the nearest in-service pipe.
	place := func(kind, id, pipe string, pt orb.Point, ref Ref) (int32, float64) {
		if pipe != "" {
			q := pipeFor(kind, id, pipe, ref)
			if q < 0 {
				return -1, 0
			}
			s, _ := Project(ix.lines[q], pt)
			return q, s
		}
		q, _, s := ix.nearest(pt, math.Inf(1))
		if q < 0 {
			warn("placement.no_pipe", ref, kind+":"+id, kind+" "+id+" has no in-service pipe to sit on", "")
		}
		return q, s
	}
	for i := range ds.Sources {
		x := &ds.Sources[i]
		q, s := place(KindSource, x.ID, "", x.Geom, x.Src)
		t.SourceID = append(t.SourceID, x.ID)
		t.SourcePipe = append(t.SourcePipe, q)
		t.SourceS = append(t.SourceS, s)
	}
	for i := range ds.Hydrants {
		x := &ds.Hydrants[i]
		q, s := place(KindHydrant, x.ID, x.Pipe, x.Geom, x.Src)
		t.HydrantID = append(t.HydrantID, x.ID)
		t.HydrantPipe = append(t.HydrantPipe, q)
		t.HydrantS = append(t.HydrantS, s)
	}
	connByID := make(map[string]int32, len(ds.Connections))
	var connIDs, custIDs, custCats, custNames StringsBuilder
	for i := range ds.Connections {
		x := &ds.Connections[i]
		q, s := place(KindConnection, x.ID, x.Pipe, x.Geom, x.Src)
		connByID[x.ID] = int32(i)
		connIDs.Add(x.ID)
		t.ConnPipe = append(t.ConnPipe, q)
		t.ConnS = append(t.ConnS, s)
	}
	nc := len(ds.Customers)
	t.ConnID = connIDs.Strings()
	t.CustConn = make([]int32, nc)
	t.CustPipe = make([]int32, nc)
	t.CustS = make([]float64, nc)
	t.CustPipeLevel = make([]bool, nc)
	t.CustHouseholds = make([]int32, nc)
	t.CustCritical = make([]bool, nc)
	for i := range ds.Customers {
		c := &ds.Customers[i]
		custIDs.Add(c.ID)
		custCats.Add(c.Category)
		custNames.Add(c.Name)
		t.CustConn[i], t.CustPipe[i] = -1, -1
		hh := c.Households
		if hh <= 0 {
			hh = 1
		}
		t.CustHouseholds[i] = int32(hh)
		t.CustCritical[i] = c.Critical
		feature := KindCustomer + ":" + c.ID
		switch {
		case c.Connection != "":
			k, ok := connByID[c.Connection]
			if !ok {
				warn("customer.unknown_connection", c.Src, feature, fmt.Sprintf("customer %s names connection %q, which is not in the network", c.ID, c.Connection), "correct the connection id")
				continue
			}
			t.CustConn[i] = k
			t.CustPipe[i], t.CustS[i] = t.ConnPipe[k], t.ConnS[k]
		case c.Pipe != "" && c.Geom == nil:
			t.CustPipe[i] = pipeFor(KindCustomer, c.ID, c.Pipe, c.Src)
			t.CustPipeLevel[i] = true
		case c.Geom != nil:
			t.CustPipe[i], t.CustS[i] = place(KindCustomer, c.ID, c.Pipe, *c.Geom, c.Src)
		default:
			warn("customer.unplaced", c.Src, feature, "customer "+c.ID+" has no connection, pipe or position", "give it a connection, a pipe or a point")
		}
	}
	t.CustID, t.CustCategory, t.CustName = custIDs.Strings(), custCats.Strings(), custNames.Strings()
	return t, warns
}
