package asbuilt

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Appurtenance classes.
const (
	AppValve      = "valve"
	AppHydrant    = "hydrant"
	AppAirValve   = "air_valve"
	AppDrainValve = "drain_valve"
	AppOther      = "other"
)

var appurtenanceWords = map[string]string{
	"阀门": AppValve, "阀门井": AppValve, "闸阀": AppValve, "蝶阀": AppValve, "阀井": AppValve, "阀": AppValve, "闸门": AppValve, "阀门孔": AppValve,
	"消火栓": AppHydrant, "消防栓": AppHydrant, "地上消火栓": AppHydrant, "地下消火栓": AppHydrant, "消火栓井": AppHydrant,
	"排气阀": AppAirValve, "排气阀井": AppAirValve, "排气井": AppAirValve, "进排气阀": AppAirValve,
	"排泥阀": AppDrainValve, "排泥阀井": AppDrainValve, "排水阀": AppDrainValve, "泄水阀": AppDrainValve, "排泥井": AppDrainValve,
}

// ClassifyAppurtenance maps an appurtenance (附属物) to valve, hydrant,
// air_valve, drain_valve, other, or "" for none. The mapping's words come
// first.
func ClassifyAppurtenance(word string, m *Mapping) string {
	w := strings.TrimSpace(word)
	if w == "" {
		return ""
	}
	if m != nil {
		if k, ok := m.Appurtenances[w]; ok {
			return k
		}
	}
	if k, ok := appurtenanceWords[w]; ok {
		return k
	}
	switch {
	case strings.Contains(w, "消火栓"), strings.Contains(w, "消防栓"):
		return AppHydrant
	case strings.Contains(w, "排气"):
		return AppAirValve
	case strings.Contains(w, "排泥"), strings.Contains(w, "泄水"):
		return AppDrainValve
	case strings.Contains(w, "阀"):
		return AppValve
	}
	return AppOther
}

// terminalFeatures are point features where a pipe may end without
// meeting another.
var terminalFeatures = []string{"预留口", "终止点", "出地", "非普查", "堵头", "盲板", "出水口", "进水口", "入户", "进户", "上杆", "井边点", "末端"}

func isTerminal(p *Point, m *Mapping) bool {
	if k := ClassifyAppurtenance(p.Appurtenance, m); k == AppHydrant || k == AppDrainValve {
		return true
	}
	for _, f := range terminalFeatures {
		if strings.Contains(p.Feature, f) {
			return true
		}
	}
	if m != nil {
		for _, f := range m.TerminalFeatures {
			if f != "" && strings.Contains(p.Feature, f) {
				return true
			}
		}
	}
	return isTieIn(p)
}

// isTieIn tells a point where the survey meets the existing network: the
// feature 非普查 (not surveyed: it goes on outside), or a remark 接现状….
func isTieIn(p *Point) bool {
	return strings.Contains(p.Feature, "非普查") || strings.Contains(p.Remark, "接现状") || strings.Contains(p.Remark, "接原") || strings.Contains(p.Remark, "接已建")
}

// tees: the number of pipes a feature must have.
func teeDegree(feature string) int {
	switch {
	case strings.Contains(feature, "四通"):
		return 4
	case strings.Contains(feature, "三通"):
		return 3
	}
	return 0
}

// BuildOptions controls how a survey becomes a Dataset.
type BuildOptions struct {
	IDPrefix    string // prepended to every id, e.g. "12:" for batch 12
	InstallYear int    // the survey's year, given to every pipe
	Mapping     *Mapping
}

// Built is a survey as a Dataset, with what validation needs to know about
// its points.
type Built struct {
	Dataset *gis.Dataset
	// PointAt is each survey point in the dataset's coordinates.
	PointAt map[string]orb.Point
	// PipeOf maps a pipe id to its two point numbers.
	PipeOf map[string][2]string
	// Refs lists the source rows of each feature ("pipe:ID", "valve:ID",
	// "hydrant:ID", "point:ID").
	Refs map[string][]int
	// Issues found while building (a valve with no pipe, …).
	Issues []Issue
}

// Build turns a survey into a Dataset in crs: pipes between the points of
// each listed pair (geometry (Y, X) — easting, northing — or (X, Y) when
// swap says the columns are the other way round), valves on their pipes at
// the valve's point, hydrants on theirs; air and drain valves and other
// appurtenances are kept in the Extra of the pipe at their point
// ("appurtenances"), every pipe has its end points in Extra.
func (s *Survey) Build(crs CRS, swap bool, opt BuildOptions) *Built {
	ds := &gis.Dataset{Name: s.File, SRID: crs.SRID, Proj: crs.Proj}
	b := &Built{Dataset: ds, PointAt: make(map[string]orb.Point, len(s.Points)), PipeOf: make(map[string][2]string, len(s.Lines)), Refs: map[string][]int{}}
	for i := range s.Points {
		p := &s.Points[i]
		if !p.HasXY {
			continue
		}
		if swap {
			b.PointAt[p.ID] = orb.Point{p.X, p.Y}
		} else {
			b.PointAt[p.ID] = orb.Point{p.Y, p.X}
		}
		b.Refs["point:"+p.ID] = p.Rows
	}
	byPoint := map[string][]int{} // point → pipes (index in ds.Pipes)
	ds.Pipes = make([]gis.Pipe, 0, len(s.Lines))
	for _, ln := range s.Lines {
		pa, okA := b.PointAt[ln.A]
		pb, okB := b.PointAt[ln.B]
		if !okA || !okB {
			continue // reported: a point without coordinates
		}
		id := opt.IDPrefix + ln.A + "-" + ln.B
		extra := map[string]any{"from_point": ln.A, "to_point": ln.B, "survey_rows": ln.Rows}
		if ln.Burial != "" {
			extra["burial"] = ln.Burial
		}
		if ln.Section != "" {
			extra["section"] = ln.Section
		}
		if ln.DepthA != nil {
			extra["depth_from"] = *ln.DepthA
		}
		if ln.DepthB != nil {
			extra["depth_to"] = *ln.DepthB
		}
		pipe := gis.Pipe{ID: id, DN: max(ln.DN, 0), Material: ln.Material, Status: gis.StatusInService, InstallYear: opt.InstallYear,
			Geom: orb.LineString{pa, pb}, Extra: extra, Src: gis.Ref{File: s.where(), Index: -1, Line: ln.Rows[0]}}
		if ln.DN < 0 {
			extra["dn_text"] = ln.DNText
		}
		if ln.TopA != nil && ln.TopB != nil {
			pipe.Z = []float64{*ln.TopA, *ln.TopB}
		}
		k := len(ds.Pipes)
		ds.Pipes = append(ds.Pipes, pipe)
		byPoint[ln.A] = append(byPoint[ln.A], k)
		byPoint[ln.B] = append(byPoint[ln.B], k)
		b.PipeOf[id] = [2]string{ln.A, ln.B}
		b.Refs["pipe:"+id] = ln.Rows
	}
	// The pipe an appurtenance sits on: of the point's pipes the smallest
	// (the branch of a tee), then the smallest id.
	pipeAt := func(pt string) int {
		best := -1
		for _, k := range byPoint[pt] {
			if best < 0 || ds.Pipes[k].DN < ds.Pipes[best].DN || (ds.Pipes[k].DN == ds.Pipes[best].DN && ds.Pipes[k].ID < ds.Pipes[best].ID) {
				best = k
			}
		}
		return best
	}
	for i := range s.Points {
		p := &s.Points[i]
		kind := ClassifyAppurtenance(p.Appurtenance, opt.Mapping)
		at, ok := b.PointAt[p.ID]
		if kind == "" || !ok {
			continue
		}
		k := pipeAt(p.ID)
		src := gis.Ref{File: s.where(), Index: -1, Line: p.Rows[0]}
		switch kind {
		case AppValve:
			id := opt.IDPrefix + p.ID
			if k < 0 {
				b.Issues = append(b.Issues, Issue{Severity: SevError, Code: CodeValveNotOnPipe, Where: s.where(p.Rows[0]), Rows: p.Rows, Feature: "valve:" + id,
					Msg: fmt.Sprintf("valve %s (%s) at point %s has no pipe: no row connects the point", id, p.Appurtenance, p.ID), Fix: "add the pipe rows of the point (连接点号) or correct its number", At: ptr(at)})
				continue
			}
			ds.Valves = append(ds.Valves, gis.Valve{ID: id, Pipe: ds.Pipes[k].ID, DN: ds.Pipes[k].DN, NormallyOpen: true, Operable: true, Geom: at,
				Extra: map[string]any{"point": p.ID, "type": p.Appurtenance}, Src: src})
			b.Refs["valve:"+id] = p.Rows
		case AppHydrant:
			id := opt.IDPrefix + p.ID
			h := gis.Hydrant{ID: id, Geom: at, Extra: map[string]any{"point": p.ID, "type": p.Appurtenance}, Src: src}
			if k >= 0 {
				h.Pipe = ds.Pipes[k].ID
			} else {
				b.Issues = append(b.Issues, Issue{Severity: SevWarning, Code: CodeHydrantNotOnPipe, Where: s.where(p.Rows[0]), Rows: p.Rows, Feature: "hydrant:" + id,
					Msg: fmt.Sprintf("hydrant %s at point %s has no pipe of its own; it goes on the nearest pipe", id, p.ID), Fix: "add the lateral's row", At: ptr(at)})
			}
			ds.Hydrants = append(ds.Hydrants, h)
			b.Refs["hydrant:"+id] = p.Rows
		default:
			if k < 0 {
				continue
			}
			e := ds.Pipes[k].Extra
			list, _ := e["appurtenances"].([]any)
			e["appurtenances"] = append(list, map[string]any{"point": p.ID, "type": p.Appurtenance, "kind": kind})
		}
	}
	return b
}

func ptr(p orb.Point) *orb.Point { return &p }

// Summary is what a survey amounts to: the figures of expected.json.
type Summary struct {
	CRS                string             `json:"crs"`
	Points             int                `json:"points"`
	PipeCount          int                `json:"pipe_count"`
	Valves             int                `json:"valves"`
	ValvePoints        []string           `json:"valve_points"`
	Hydrants           int                `json:"hydrants"`
	HydrantPoints      []string           `json:"hydrant_points"`
	AirValves          int                `json:"air_valves"`
	AirValvePoints     []string           `json:"air_valve_points"`
	DrainValves        int                `json:"drain_valves"`
	DrainValvePoints   []string           `json:"drain_valve_points"`
	ByAppurtenance     map[string]int     `json:"points_by_appurtenance"`
	ByFeature          map[string]int     `json:"points_by_feature"`
	TotalLength        float64            `json:"total_length_m"`
	CountByDN          map[string]int     `json:"pipe_count_by_dn"`
	LengthByDN         map[string]float64 `json:"pipe_length_by_dn_m"`
	CountByMaterial    map[string]int     `json:"pipe_count_by_material"`
	RowsWithoutConnect int                `json:"rows_without_connecting_point"`
	Components         int                `json:"connected_components"`
	ListedBoth         int                `json:"pipes_listed_both_directions"`
	ListedOnce         int                `json:"pipes_listed_once"`
	BBox               map[string]float64 `json:"bbox"` // min/max easting/northing as written (after a swap fix)
	Sheet              string             `json:"sheet"`
	TitleRows          []int              `json:"title_rows"`
	HeaderRows         []int              `json:"header_rows"`
	FirstDataRow       int                `json:"first_data_row"`
	LastDataRow        int                `json:"last_data_row"`
	DataRows           int                `json:"data_rows"`
	Pipes              [][4]any           `json:"pipes,omitempty"` // [A, B, DN, material]
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// Summarize computes the survey's figures from the table as written
// (lengths 2-D from X/Y, before any transform).
func (s *Survey) Summarize(crs CRS, swap bool, m *Mapping, withPipes bool) Summary {
	sm := Summary{CRS: crs.Name(), Points: len(s.Points), PipeCount: len(s.Lines), ByAppurtenance: map[string]int{}, ByFeature: map[string]int{},
		CountByDN: map[string]int{}, LengthByDN: map[string]float64{}, CountByMaterial: map[string]int{}, RowsWithoutConnect: s.RowsWithoutConnect,
		Sheet: s.Sheet, TitleRows: s.TitleRows, HeaderRows: s.HeaderRows, FirstDataRow: s.FirstDataRow, LastDataRow: s.LastDataRow, DataRows: s.DataRows,
		ValvePoints: []string{}, HydrantPoints: []string{}, AirValvePoints: []string{}, DrainValvePoints: []string{}}
	minE, minN, maxE, maxN := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range s.Points {
		p := &s.Points[i]
		if p.Feature != "" {
			sm.ByFeature[p.Feature]++
		}
		if p.Appurtenance != "" {
			sm.ByAppurtenance[p.Appurtenance]++
		}
		switch ClassifyAppurtenance(p.Appurtenance, m) {
		case AppValve:
			sm.ValvePoints = append(sm.ValvePoints, p.ID)
		case AppHydrant:
			sm.HydrantPoints = append(sm.HydrantPoints, p.ID)
		case AppAirValve:
			sm.AirValvePoints = append(sm.AirValvePoints, p.ID)
		case AppDrainValve:
			sm.DrainValvePoints = append(sm.DrainValvePoints, p.ID)
		}
		if p.HasXY {
			e, n := p.Y, p.X
			if swap {
				e, n = n, e
			}
			minE, maxE = math.Min(minE, e), math.Max(maxE, e)
			minN, maxN = math.Min(minN, n), math.Max(maxN, n)
		}
	}
	for _, l := range [][]string{sm.ValvePoints, sm.HydrantPoints, sm.AirValvePoints, sm.DrainValvePoints} {
		sort.Strings(l)
	}
	sm.Valves, sm.Hydrants, sm.AirValves, sm.DrainValves = len(sm.ValvePoints), len(sm.HydrantPoints), len(sm.AirValvePoints), len(sm.DrainValvePoints)
	if len(s.Points) > 0 {
		sm.BBox = map[string]float64{"min_easting": minE, "max_easting": maxE, "min_northing": minN, "max_northing": maxN}
	}
	uf := newUF(len(s.Points))
	total := 0.0
	for _, ln := range s.Lines {
		a, okA := s.PointByID(ln.A)
		b, okB := s.PointByID(ln.B)
		l := 0.0
		if okA && okB {
			l = math.Hypot(a.X-b.X, a.Y-b.Y)
			uf.union(s.byID[ln.A], s.byID[ln.B])
		}
		total += l
		dn := fmt.Sprint(max(ln.DN, 0))
		sm.CountByDN[dn]++
		sm.LengthByDN[dn] += l
		sm.CountByMaterial[ln.Material]++
		if ln.Listings >= 2 {
			sm.ListedBoth++
		} else {
			sm.ListedOnce++
		}
		if withPipes {
			sm.Pipes = append(sm.Pipes, [4]any{ln.A, ln.B, max(ln.DN, 0), ln.Material})
		}
	}
	sm.TotalLength = round2(total)
	for k, v := range sm.LengthByDN {
		sm.LengthByDN[k] = round2(v)
	}
	roots := map[int]bool{}
	for i := range s.Points {
		roots[uf.find(i)] = true
	}
	sm.Components = len(roots)
	return sm
}

type ufind []int

func newUF(n int) ufind {
	u := make(ufind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u ufind) find(x int) int {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u ufind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		if ra < rb {
			u[rb] = ra
		} else {
			u[ra] = rb
		}
	}
}
