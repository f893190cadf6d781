package asbuilt

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"github.com/waterline-gis/waterline/gis"
)

// Change is one change a delivery makes to the live network.
type Change struct {
	Kind   string    `json:"kind"` // pipe, valve, hydrant, …
	ID     string    `json:"id"`
	Action string    `json:"action"`           // add, change, remove, split
	At     []float64 `json:"at,omitempty"`     // split: distances along the live pipe where new pipes tie in
	Points []string  `json:"points,omitempty"` // split: the survey points that tie in
}

// Change actions.
const (
	ActAdd    = "add"
	ActChange = "change"
	ActRemove = "remove"
	ActSplit  = "split"
)

// ValidateOptions controls Validate. Zero values take the defaults.
type ValidateOptions struct {
	Tol      float64 // snapping tolerance (gis.DefaultTolerance)
	NearMiss float64 // ends this close that do not meet are reported (0.5 m)
	Mapping  *Mapping
	// Remove lists live features (kind:id) the delivery takes out (a
	// compensating batch).
	Remove []string
}

// Validation is what Validate found: the issues (the delivery's own
// included), the changes, and the network as it would be.
type Validation struct {
	Issues  []Issue
	Changes []Change
	Merged  *gis.Dataset  // the live network with the delivery applied
	Topo    *gis.Topology // Merged, resolved
}

// standardDN are the nominal sizes (and PE outside diameters) in use.
var standardDN = map[int]bool{}

func init() {
	for _, d := range []int{15, 20, 25, 32, 40, 50, 63, 65, 75, 80, 90, 100, 110, 125, 150, 160, 175, 180, 200, 225, 250, 280, 300, 315,
		350, 355, 400, 450, 500, 560, 600, 630, 700, 710, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1800, 2000, 2200, 2400, 2600, 2800, 3000, 3200, 3400, 3600, 4000} {
		standardDN[d] = true
	}
}

// knownMaterials are pipe materials as written in deliveries (upper case
// for Latin names).
var knownMaterials = []string{"球墨铸铁", "铸铁", "灰口铸铁", "灰铸铁", "钢", "钢管", "镀锌钢", "镀锌", "不锈钢", "焊接钢", "无缝钢", "螺旋钢", "PE", "HDPE", "MPE", "PE100", "PE80",
	"PVC", "UPVC", "PVC-U", "PPR", "PP", "ABS", "混凝土", "钢筋混凝土", "预应力混凝土", "PCCP", "PCP", "玻璃钢", "夹砂玻璃钢", "FRP", "GRP", "石棉水泥", "石棉",
	"铜", "DI", "DIP", "CI", "ST", "SS", "STEEL", "DUCTILE IRON", "CAST IRON", "CONCRETE", "COPPER", "钢塑复合", "衬塑钢", "砼"}

func knownMaterial(m string) bool {
	u := strings.ToUpper(strings.TrimSpace(m))
	for _, k := range knownMaterials {
		if u == k || strings.Contains(u, k) && len([]rune(k)) >= 2 {
			return true
		}
	}
	return false
}

type segIndex struct {
	tr rtree.RTreeG[int32]
}

var _ = (*segIndex)(nil)

// Validate checks a delivery — its Dataset already in the live network's
// CRS — against the live network (nil or empty for a first import) and
// returns every issue with its source rows and position, the changes it
// makes, and the merged network. Tie-in points of a survey (非普查,
// 接现状…) within NearMiss of a live pipe are moved onto it (tie.snapped).
func Validate(d *Delivery, live *gis.Dataset, opt ValidateOptions) *Validation {
	if opt.Tol <= 0 {
		opt.Tol = gis.DefaultTolerance
	}
	if opt.NearMiss <= 0 {
		opt.NearMiss = 0.5
	}
	if live == nil {
		live = &gis.Dataset{}
	}
	tol := opt.Tol
	v := &Validation{}
	is := &issues{cap: 5000}
	for _, i := range d.Issues {
		is.add(i)
	}
	ds := d.Dataset
	rowsOf := func(feature string) []int { return d.Refs[feature] }
	whereOf := func(feature string, src gis.Ref) string {
		if r := rowsOf(feature); len(r) > 0 && d.Survey != nil {
			return d.Survey.where(r[0])
		}
		return src.String()
	}
	add := func(sev, code, feature string, src gis.Ref, at orb.Point, msg, fix string) {
		is.add(Issue{Severity: sev, Code: code, Where: whereOf(feature, src), Rows: rowsOf(feature), Feature: feature, Msg: msg, Fix: fix, At: ptr(at)})
	}
	livePipes := map[string]int{}
	for i := range live.Pipes {
		livePipes[live.Pipes[i].ID] = i
	}
	liveIdx := &segIndex{}
	for i := range live.Pipes {
		if st := live.Pipes[i].Status; st != "" && st != gis.StatusInService {
			continue
		}
		b := live.Pipes[i].Geom.Bound()
		liveIdx.tr.Insert(b.Min, b.Max, int32(i))
	}

	// Tie-ins: move a declared tie-in point onto the live pipe it meets.
	if d.Survey != nil && len(live.Pipes) > 0 {
		for i := range d.Survey.Points {
			p := &d.Survey.Points[i]
			at, ok := d.PointAt[p.ID]
			if !ok || !isTieIn(p) {
				continue
			}
			best, bestD, bestS := -1, math.Inf(1), 0.0
			liveIdx.tr.Search([2]float64{at[0] - opt.NearMiss, at[1] - opt.NearMiss}, [2]float64{at[0] + opt.NearMiss, at[1] + opt.NearMiss}, func(_, _ [2]float64, k int32) bool {
				s, dist := gis.Project(live.Pipes[k].Geom, at)
				if dist < bestD || (dist == bestD && live.Pipes[k].ID < live.Pipes[best].ID) {
					best, bestD, bestS = int(k), dist, s
				}
				return true
			})
			feature := "point:" + p.ID
			switch {
			case best < 0:
				add(SevWarning, CodeTieNotFound, feature, gis.Ref{}, at, fmt.Sprintf("point %s is marked as a tie-in to the existing network (%s %s) but no live pipe is within %.1f m", p.ID, p.Feature, p.Remark, opt.NearMiss),
					"check the point's coordinates against the live main, or the CRS")
			case bestD > tol:
				lp := live.Pipes[best]
				L := gis.LineLength(lp.Geom)
				s := bestS
				if s <= opt.NearMiss && math.Hypot(lp.Geom[0][0]-at[0], lp.Geom[0][1]-at[1]) <= opt.NearMiss {
					s = 0
				} else if L-s <= opt.NearMiss && math.Hypot(lp.Geom[len(lp.Geom)-1][0]-at[0], lp.Geom[len(lp.Geom)-1][1]-at[1]) <= opt.NearMiss {
					s = L
				}
				np := gis.PointAt(lp.Geom, s)
				moveVertex(ds, at, np)
				d.PointAt[p.ID] = np
				add(SevWarning, CodeTieSnapped, feature, gis.Ref{}, np, fmt.Sprintf("tie-in point %s was %.2f m from live pipe %s; it was moved onto it", p.ID, math.Hypot(np[0]-at[0], np[1]-at[1]), lp.ID),
					"acknowledge, or correct the survey coordinates of the tie-in")
			}
		}
	}

	// Each new pipe on its own.
	for i := range ds.Pipes {
		p := &ds.Pipes[i]
		f := "pipe:" + p.ID
		mid := midpoint(p.Geom)
		if gis.LineLength(p.Geom) < 0.001 {
			add(SevError, CodePipeZeroLength, f, p.Src, mid, fmt.Sprintf("pipe %s has no length: its ends are at the same spot", p.ID), "correct the coordinates of its points, or remove the duplicate point")
		} else if x, ok := selfIntersection(p.Geom); ok {
			add(SevError, CodePipeSelfIntersecting, f, p.Src, x, fmt.Sprintf("pipe %s crosses itself", p.ID), "redraw the pipe without the loop")
		}
		switch {
		case p.Extra != nil && (p.Extra["dn_text"] != nil || p.Extra["dn_invalid"] != nil):
			add(SevError, CodePipeDNImplausible, f, p.Src, mid, fmt.Sprintf("pipe %s: the diameter %q cannot be read", p.ID, fmt.Sprint(p.Extra["dn_text"])), "write it as 300 or 800X600")
		case p.DN == 0:
			add(SevError, CodePipeDNMissing, f, p.Src, mid, fmt.Sprintf("pipe %s has no diameter", p.ID), "fill in 管径 (mm)")
		case p.DN < 15 || p.DN > 4000:
			add(SevError, CodePipeDNImplausible, f, p.Src, mid, fmt.Sprintf("pipe %s has diameter %d mm, outside 15–4000 mm", p.ID, p.DN), "check the unit (mm) and the value")
		case !standardDN[p.DN] && (p.Extra == nil || p.Extra["section"] == nil):
			add(SevWarning, CodePipeDNNonstandard, f, p.Src, mid, fmt.Sprintf("pipe %s has diameter %d mm, not a standard size", p.ID, p.DN), "check the value")
		}
		switch {
		case strings.TrimSpace(p.Material) == "":
			add(SevWarning, CodePipeMaterialMissing, f, p.Src, mid, fmt.Sprintf("pipe %s has no material", p.ID), "fill in 管线材料")
		case !knownMaterial(p.Material):
			add(SevWarning, CodePipeMaterialUnknown, f, p.Src, mid, fmt.Sprintf("pipe %s has material %q, which is not a known pipe material", p.ID, p.Material), "check the spelling (e.g. 球墨铸铁, 钢, PE)")
		}
	}

	// The merged network.
	merged, changes, isNew := Merge(live, ds, opt.Remove)
	v.Changes = changes
	v.Merged = merged
	topo, _ := gis.Resolve(merged, tol)
	v.Topo = topo

	// Node degrees.
	nn := len(topo.NodeXY) / 2
	deg := make([]int, nn)
	for i := range merged.Pipes {
		if topo.PipeFrom[i] >= 0 {
			deg[topo.PipeFrom[i]]++
			deg[topo.PipeTo[i]]++
		}
	}
	for k := range topo.TeePipe {
		deg[topo.TeeNode[k]] += 2
	}
	teeSet := make(map[[2]int32]bool, len(topo.TeePipe))
	for k := range topo.TeePipe {
		teeSet[[2]int32{topo.TeePipe[k], topo.TeeNode[k]}] = true
	}
	// Node of every survey point: from the ends of new pipes.
	endNode := map[orb.Point]int32{}
	for i := range merged.Pipes {
		if !isNew[i] || topo.PipeFrom[i] < 0 {
			continue
		}
		g := merged.Pipes[i].Geom
		endNode[g[0]] = topo.PipeFrom[i]
		endNode[g[len(g)-1]] = topo.PipeTo[i]
	}
	// Hydrants and valves at a node make it an end.
	itemAt := map[int32]bool{}
	for k := range topo.HydrantPipe {
		if q := topo.HydrantPipe[k]; q >= 0 {
			if topo.HydrantS[k] <= tol {
				itemAt[topo.PipeFrom[q]] = true
			} else if topo.HydrantS[k] >= topo.PipeLen[q]-tol {
				itemAt[topo.PipeTo[q]] = true
			}
		}
	}
	if d.Survey != nil {
		for i := range d.Survey.Points {
			p := &d.Survey.Points[i]
			at, ok := d.PointAt[p.ID]
			if !ok {
				continue
			}
			n, ok := endNode[at]
			if !ok {
				continue
			}
			f := "point:" + p.ID
			if want := teeDegree(p.Feature); want > 0 && deg[n] != want {
				add(SevError, CodeTeeWrongDegree, f, gis.Ref{}, at, fmt.Sprintf("point %s is a %s but %d pipes meet there, not %d", p.ID, p.Feature, deg[n], want),
					"add the missing pipe rows (连接点号) or correct the feature")
			}
			if deg[n] == 1 && !isTerminal(p, opt.Mapping) {
				add(SevWarning, CodePipeDanglingEnd, f, gis.Ref{}, at, fmt.Sprintf("point %s (%s) ends a pipe that meets nothing there", p.ID, p.Feature),
					"connect it (连接点号), or mark it as an end (预留口, 终止点, 非普查)")
			}
		}
	} else {
		for i := range merged.Pipes {
			if !isNew[i] || topo.PipeFrom[i] < 0 {
				continue
			}
			p := &merged.Pipes[i]
			for e, n := range []int32{topo.PipeFrom[i], topo.PipeTo[i]} {
				if deg[n] == 1 && !itemAt[n] {
					at := p.Geom[0]
					if e == 1 {
						at = p.Geom[len(p.Geom)-1]
					}
					add(SevWarning, CodePipeDanglingEnd, "pipe:"+p.ID, p.Src, at, fmt.Sprintf("an end of pipe %s meets nothing", p.ID), "connect it, or acknowledge a dead end")
				}
			}
		}
	}
	// Valves that sit on no pipe.
	for k := range topo.ValveID.Len() {
		if topo.ValvePipe[k] >= 0 {
			continue
		}
		vv := &merged.Valves[k]
		if _, ok := d.Refs["valve:"+vv.ID]; !ok && !isNewValve(ds, vv.ID) {
			continue
		}
		add(SevError, CodeValveNotOnPipe, "valve:"+vv.ID, vv.Src, vv.Geom, fmt.Sprintf("valve %s is not on any pipe (none within %.2f m)", vv.ID, tol), "move it onto its pipe or name the pipe")
	}

	// Splits: live pipes cut by new pipe ends.
	newNode := map[int32]bool{}
	for _, n := range endNode {
		newNode[n] = true
	}
	splits := map[int32]*Change{}
	var splitOrder []int32
	for k := range topo.TeePipe {
		q := topo.TeePipe[k]
		if isNew[q] || !newNode[topo.TeeNode[k]] {
			continue
		}
		c, ok := splits[q]
		if !ok {
			c = &Change{Kind: gis.KindPipe, ID: merged.Pipes[q].ID, Action: ActSplit}
			splits[q] = c
			splitOrder = append(splitOrder, q)
		}
		c.At = append(c.At, math.Round(topo.TeeS[k]*1000)/1000)
	}
	for _, q := range splitOrder {
		v.Changes = append(v.Changes, *splits[q])
	}

	// Islands: components with new pipes and no source.
	uf := newUF(nn)
	for i := range merged.Pipes {
		if topo.PipeFrom[i] >= 0 {
			uf.union(int(topo.PipeFrom[i]), int(topo.PipeTo[i]))
		}
	}
	for k := range topo.TeePipe {
		uf.union(int(topo.TeeNode[k]), int(topo.PipeFrom[topo.TeePipe[k]]))
	}
	fed := map[int]bool{}
	for k := range topo.SourcePipe {
		if q := topo.SourcePipe[k]; q >= 0 && topo.PipeFrom[q] >= 0 {
			fed[uf.find(int(topo.PipeFrom[q]))] = true
		}
	}
	if len(ds.Pipes) > 0 {
		if len(fed) == 0 {
			is.add(Issue{Severity: SevWarning, Code: CodeNetworkNoSources, Where: d.File,
				Msg: "the network has no source (plant, reservoir, tank…), so islands cannot be checked", Fix: "import the sources of the network"})
		} else {
			islands := map[int][]int{}
			var order []int
			for i := range merged.Pipes {
				if !isNew[i] || topo.PipeFrom[i] < 0 {
					continue
				}
				r := uf.find(int(topo.PipeFrom[i]))
				if fed[r] {
					continue
				}
				if _, ok := islands[r]; !ok {
					order = append(order, r)
				}
				islands[r] = append(islands[r], i)
			}
			for _, r := range order {
				ps := islands[r]
				first := &merged.Pipes[ps[0]]
				var rows []int
				var ids []string
				for _, i := range ps {
					rows = append(rows, d.Refs["pipe:"+merged.Pipes[i].ID]...)
					if len(ids) < 5 {
						ids = append(ids, merged.Pipes[i].ID)
					}
				}
				sort.Ints(rows)
				is.add(Issue{Severity: SevError, Code: CodeNetworkIsland, Where: whereOf("pipe:"+first.ID, first.Src), Rows: dedupInts(rows), Feature: "pipe:" + first.ID,
					Msg: fmt.Sprintf("%d new pipes (%s…) have no path to any source once tied into the network", len(ps), strings.Join(ids, ", ")),
					Fix: "check the tie-in points (非普查) against the live mains; a tie-in must meet a live pipe", At: ptr(midpoint(first.Geom))})
			}
		}
	}

	// Geometry against every other pipe: near misses, crossings, duplicates.
	all := &segIndex{}
	for i := range merged.Pipes {
		if topo.PipeFrom[i] < 0 {
			continue
		}
		b := merged.Pipes[i].Geom.Bound()
		all.tr.Insert(b.Min, b.Max, int32(i))
	}
	nm := opt.NearMiss
	reported := map[[2]int32]bool{}
	for i := range merged.Pipes {
		if !isNew[i] || topo.PipeFrom[i] < 0 {
			continue
		}
		p := &merged.Pipes[i]
		f := "pipe:" + p.ID
		nodes := [2]int32{topo.PipeFrom[i], topo.PipeTo[i]}
		// Near misses at each end.
		for e, end := range []orb.Point{p.Geom[0], p.Geom[len(p.Geom)-1]} {
			n := nodes[e]
			all.tr.Search([2]float64{end[0] - nm, end[1] - nm}, [2]float64{end[0] + nm, end[1] + nm}, func(_, _ [2]float64, q int32) bool {
				if int(q) == i || topo.PipeFrom[q] == n || topo.PipeTo[q] == n || teeSet[[2]int32{q, n}] {
					return true
				}
				_, dist := gis.Project(merged.Pipes[q].Geom, end)
				if dist > tol && dist <= nm {
					key := [2]int32{int32(i), q}
					if isNew[q] && q < int32(i) {
						key = [2]int32{q, int32(i)}
					}
					if reported[key] {
						return true
					}
					reported[key] = true
					add(SevWarning, CodePipeNearMiss, f, p.Src, end, fmt.Sprintf("an end of pipe %s is %.2f m from pipe %s but does not meet it", p.ID, dist, merged.Pipes[q].ID),
						"if they connect, make the coordinates meet; if not, acknowledge")
				}
				return true
			})
		}
		// Crossings and duplicates.
		b := p.Geom.Bound()
		all.tr.Search([2]float64{b.Min[0] - nm, b.Min[1] - nm}, [2]float64{b.Max[0] + nm, b.Max[1] + nm}, func(_, _ [2]float64, q int32) bool {
			if int(q) == i || (isNew[q] && q < int32(i)) {
				return true
			}
			o := &merged.Pipes[q]
			if !isNew[q] && duplicates(p.Geom, o.Geom, nm) {
				add(SevError, CodePipeDuplicatesLive, f, p.Src, midpoint(p.Geom), fmt.Sprintf("new pipe %s lies on live pipe %s", p.ID, o.ID),
					"drop it from the delivery if it is the same pipe, or deliver it with the live id to change that pipe")
				return true
			}
			if x, ok := crossing(p.Geom, o.Geom, tol); ok {
				add(SevWarning, CodePipeCrossingNoNode, f, p.Src, x, fmt.Sprintf("pipe %s crosses pipe %s with no node there", p.ID, o.ID),
					"if they connect, add the tee point; if one passes over the other, acknowledge")
			}
			return true
		})
	}
	v.Issues = is.done(d.File)
	SortIssues(v.Issues)
	return v
}

// Merge applies a delivery to the live network: live features of the same
// kind and id are replaced (change), those named in removeList (kind:id)
// are taken out (remove), the rest are added (add). isNew tells, for each
// pipe of the merged network, whether it comes from the delivery.
func Merge(live, ds *gis.Dataset, removeList []string) (merged *gis.Dataset, changes []Change, isNew []bool) {
	if live == nil {
		live = &gis.Dataset{}
	}
	merged = &gis.Dataset{Name: live.Name, SRID: live.SRID, Proj: live.Proj}
	if merged.SRID == 0 {
		merged.SRID = ds.SRID
	}
	// remove[kind][id]: the live features to take out.
	remove := map[string]map[string]bool{}
	for _, r := range removeList {
		kind, id, _ := strings.Cut(r, ":")
		if remove[kind] == nil {
			remove[kind] = map[string]bool{}
		}
		remove[kind][id] = true
	}
	newPipe := map[string]int{}
	for i := range ds.Pipes {
		newPipe[ds.Pipes[i].ID] = i
	}
	livePipes := make(map[string]bool, len(live.Pipes))
	for i := range live.Pipes {
		livePipes[live.Pipes[i].ID] = true
	}
	isNew = make([]bool, 0, len(live.Pipes)+len(ds.Pipes))
	if n := len(live.Pipes) + len(ds.Pipes); n > 0 {
		merged.Pipes = make([]gis.Pipe, 0, n)
	}
	for i := range live.Pipes {
		id := live.Pipes[i].ID
		if remove[gis.KindPipe][id] {
			changes = append(changes, Change{Kind: gis.KindPipe, ID: id, Action: ActRemove})
			continue
		}
		if k, ok := newPipe[id]; ok {
			merged.Pipes = append(merged.Pipes, ds.Pipes[k])
			isNew = append(isNew, true)
			changes = append(changes, Change{Kind: gis.KindPipe, ID: id, Action: ActChange})
			continue
		}
		merged.Pipes = append(merged.Pipes, live.Pipes[i])
		isNew = append(isNew, false)
	}
	for i := range ds.Pipes {
		if _, ok := livePipes[ds.Pipes[i].ID]; !ok {
			merged.Pipes = append(merged.Pipes, ds.Pipes[i])
			isNew = append(isNew, true)
			changes = append(changes, Change{Kind: gis.KindPipe, ID: ds.Pipes[i].ID, Action: ActAdd})
		}
	}
	mergeItems(&merged.Valves, live.Valves, ds.Valves, func(x *gis.Valve) string { return x.ID }, gis.KindValve, remove, &changes)
	mergeItems(&merged.Hydrants, live.Hydrants, ds.Hydrants, func(x *gis.Hydrant) string { return x.ID }, gis.KindHydrant, remove, &changes)
	mergeItems(&merged.Sources, live.Sources, ds.Sources, func(x *gis.Source) string { return x.ID }, gis.KindSource, remove, &changes)
	mergeItems(&merged.Connections, live.Connections, ds.Connections, func(x *gis.Connection) string { return x.ID }, gis.KindConnection, remove, &changes)
	mergeItems(&merged.Customers, live.Customers, ds.Customers, func(x *gis.Customer) string { return x.ID }, gis.KindCustomer, remove, &changes)
	mergeItems(&merged.Districts, live.Districts, ds.Districts, func(x *gis.District) string { return x.ID }, gis.KindDistrict, remove, &changes)
	return merged, changes, isNew
}

func isNewValve(ds *gis.Dataset, id string) bool {
	for i := range ds.Valves {
		if ds.Valves[i].ID == id {
			return true
		}
	}
	return false
}

func dedupInts(xs []int) []int {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// mergeItems puts the live items, replaced or removed by id, and the new
// ones into dst, recording the changes.
func mergeItems[T any](dst *[]T, live, add []T, id func(*T) string, kind string, removeKinds map[string]map[string]bool, changes *[]Change) {
	remove := removeKinds[kind]
	pos := make(map[string]int, len(add))
	for i := range add {
		pos[id(&add[i])] = i
	}
	used := make([]bool, len(add))
	if n := len(live) + len(add); n > 0 {
		*dst = make([]T, 0, n)
	}
	for i := range live {
		lid := id(&live[i])
		if remove[lid] {
			*changes = append(*changes, Change{Kind: kind, ID: lid, Action: ActRemove})
			continue
		}
		if k, ok := pos[lid]; ok {
			*dst = append(*dst, add[k])
			used[k] = true
			*changes = append(*changes, Change{Kind: kind, ID: lid, Action: ActChange})
			continue
		}
		*dst = append(*dst, live[i])
	}
	for i := range add {
		if !used[i] {
			*dst = append(*dst, add[i])
			*changes = append(*changes, Change{Kind: kind, ID: id(&add[i]), Action: ActAdd})
		}
	}
}

// moveVertex moves every vertex and item of ds at from to to.
func moveVertex(ds *gis.Dataset, from, to orb.Point) {
	for i := range ds.Pipes {
		g := ds.Pipes[i].Geom
		for k := range g {
			if g[k] == from {
				g[k] = to
			}
		}
	}
	for i := range ds.Valves {
		if ds.Valves[i].Geom == from {
			ds.Valves[i].Geom = to
		}
	}
	for i := range ds.Hydrants {
		if ds.Hydrants[i].Geom == from {
			ds.Hydrants[i].Geom = to
		}
	}
}

// segX returns the intersection of segments ab and cd, if they intersect.
func segX(a, b, c, d orb.Point) (orb.Point, bool) {
	r := orb.Point{b[0] - a[0], b[1] - a[1]}
	s := orb.Point{d[0] - c[0], d[1] - c[1]}
	den := r[0]*s[1] - r[1]*s[0]
	if den == 0 {
		return orb.Point{}, false // parallel (collinear overlaps are duplicates, checked apart)
	}
	qp := orb.Point{c[0] - a[0], c[1] - a[1]}
	t := (qp[0]*s[1] - qp[1]*s[0]) / den
	u := (qp[0]*r[1] - qp[1]*r[0]) / den
	if t < 0 || t > 1 || u < 0 || u > 1 {
		return orb.Point{}, false
	}
	return orb.Point{a[0] + t*r[0], a[1] + t*r[1]}, true
}

func near(p, q orb.Point, tol float64) bool { return math.Hypot(p[0]-q[0], p[1]-q[1]) <= tol }

// crossing finds a point where two lines cross away from either line's
// ends (where they would meet at a node or a tee).
func crossing(a, b orb.LineString, tol float64) (orb.Point, bool) {
	ends := []orb.Point{a[0], a[len(a)-1], b[0], b[len(b)-1]}
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			x, ok := segX(a[i], a[i+1], b[j], b[j+1])
			if !ok {
				continue
			}
			atEnd := false
			for _, e := range ends {
				if near(x, e, tol) {
					atEnd = true
					break
				}
			}
			if !atEnd {
				return x, true
			}
		}
	}
	return orb.Point{}, false
}

// selfIntersection finds where a polyline crosses itself.
func selfIntersection(ls orb.LineString) (orb.Point, bool) {
	if len(ls) < 4 {
		return orb.Point{}, false
	}
	for i := 0; i+1 < len(ls); i++ {
		for j := i + 2; j+1 < len(ls); j++ {
			if i == 0 && j == len(ls)-2 && ls[0] == ls[len(ls)-1] {
				continue // a closed ring's ends meet by construction
			}
			if x, ok := segX(ls[i], ls[i+1], ls[j], ls[j+1]); ok {
				return x, true
			}
		}
	}
	return orb.Point{}, false
}

// duplicates tells whether a (longer than 1 m) lies on b: every vertex of
// a and the middle of each of its segments within tol of b.
func duplicates(a, b orb.LineString, tol float64) bool {
	if gis.LineLength(a) <= 1 {
		return false
	}
	for i, p := range a {
		if gis.DistanceToLine(b, p) > tol {
			return false
		}
		if i > 0 {
			m := orb.Point{(a[i-1][0] + p[0]) / 2, (a[i-1][1] + p[1]) / 2}
			if gis.DistanceToLine(b, m) > tol {
				return false
			}
		}
	}
	return true
}
