package patrol

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol/route"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// RouteSummary describes one manager's route for a day.
type RouteSummary struct {
	ID             int64      `json:"id,omitempty"` // 0 in a preview
	Date           string     `json:"date"`
	District       string     `json:"district"`
	Index          int        `json:"index"` // 1..Of, longest first
	Of             int        `json:"of"`
	Manager        string     `json:"manager"`
	NetworkVersion int64      `json:"network_version"`
	PlannedAt      *time.Time `json:"planned_at,omitempty"`
	Start          LonLat     `json:"start"`
	StartSource    string     `json:"start_source"`
	Mode           string     `json:"mode"`
	SpeedKmh       float64    `json:"speed_kmh"`
	TotalM         float64    `json:"total_m"`
	PatrolM        float64    `json:"patrol_m"`
	DeadheadM      float64    `json:"deadhead_m"` // road and off-network included
	RoadM          float64    `json:"road_m"`     // along the roads (deadhead on an imported road network)
	OffNetM        float64    `json:"offnet_m"`
	LowerBoundM    float64    `json:"lower_bound_m"` // no walk covering these pipes is shorter
	Gap            float64    `json:"gap"`           // (total - bound) / bound: at most this far from optimal
	Minutes        float64    `json:"minutes"`       // at SpeedKmh
	CapacityM      float64    `json:"capacity_m"`
	OverCapacity   bool       `json:"over_capacity"`
	Pipes          int        `json:"pipes"`
	Overdue        int        `json:"overdue"`
}

// Step is one instruction of a route.
type Step struct {
	Seq     int      `json:"seq"`
	Kind    string   `json:"kind"` // patrol | walk | road | offnet
	Pipe    string   `json:"pipe,omitempty"`
	Pipes   []string `json:"pipes,omitempty"` // walk: the pipes walked along
	From    *float64 `json:"from_m,omitempty"`
	To      *float64 `json:"to_m,omitempty"`
	LengthM float64  `json:"length_m"`
	DN      int      `json:"dn,omitempty"`
	Grade   string   `json:"grade,omitempty"`
	Overdue bool     `json:"overdue,omitempty"`
	Heading string   `json:"heading"` // N, NE, E, …
	Text    string   `json:"text"`

	line orb.LineString // storage CRS
}

// RouteView is a route with its steps.
type RouteView struct {
	RouteSummary
	Steps []Step `json:"steps"`
	// Stale: the network changed since the route was planned and some of
	// its pipes are gone; their steps have no geometry.
	Stale bool `json:"stale,omitempty"`
}

const routeCols = `id, plan_date, district, idx, of, manager, network_version, planned_at, ST_X(start), ST_Y(start), start_source,
	mode, speed_kmh, total_m, patrol_m, deadhead_m, offnet_m, lower_bound_m, minutes, capacity_m, over_capacity, pipes, overdue, road_m`

func (s *Service) scanSummary(r pgx.Row, extra ...any) (*RouteSummary, error) {
	var x RouteSummary
	var day, planned time.Time
	dst := append([]any{&x.ID, &day, &x.District, &x.Index, &x.Of, &x.Manager, &x.NetworkVersion, &planned, &x.Start.X, &x.Start.Y,
		&x.StartSource, &x.Mode, &x.SpeedKmh, &x.TotalM, &x.PatrolM, &x.DeadheadM, &x.OffNetM, &x.LowerBoundM, &x.Minutes,
		&x.CapacityM, &x.OverCapacity, &x.Pipes, &x.Overdue, &x.RoadM}, extra...)
	if err := r.Scan(dst...); err != nil {
		return nil, err
	}
	x.Date = schedule.FromTime(day).String()
	pl := s.local(planned)
	x.PlannedAt = &pl
	x.Gap = gap(x.TotalM, x.LowerBoundM)
	x.TotalM, x.PatrolM, x.DeadheadM, x.OffNetM, x.LowerBoundM = round1(x.TotalM), round1(x.PatrolM), round1(x.DeadheadM), round1(x.OffNetM), round1(x.LowerBoundM)
	x.RoadM = round1(x.RoadM)
	return &x, nil
}

// Routes lists the stored routes of a day (of one district, or all).
func (s *Service) Routes(ctx context.Context, day schedule.Day, district string) ([]*RouteSummary, error) {
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT `+routeCols+` FROM patrol_routes
		WHERE plan_date = $1 AND ($2 = '' OR district = $2) ORDER BY district, idx`, day.Time(), district)
	if err != nil {
		return nil, fmt.Errorf("patrol: routes: %w", err)
	}
	defer rows.Close()
	out := []*RouteSummary{}
	for rows.Next() {
		r, err := s.scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("patrol: routes: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("patrol: routes: %w", err)
	}
	pts := make([]orb.Point, len(out))
	for i, r := range out {
		pts[i] = orb.Point{r.Start.X, r.Start.Y}
	}
	ll, err := s.lonLat(ctx, pts)
	if err != nil {
		return nil, err
	}
	for i, r := range out {
		r.Start.Lon, r.Start.Lat = ll[i][0], ll[i][1]
	}
	return out, nil
}

// Route returns a stored route with its steps. Errors: NotFound.
func (s *Service) Route(ctx context.Context, id int64) (*RouteView, error) {
	var lp []string
	var lf, lt, ll []float64
	var kinds string
	var roadWKB []byte
	sum, err := s.scanSummary(s.cfg.Store.Pool().QueryRow(ctx, `SELECT `+routeCols+`, leg_pipe, leg_from, leg_to, leg_len, leg_kind,
		ST_AsBinary(leg_roads) FROM patrol_routes WHERE id = $1`, id), &lp, &lf, &lt, &ll, &kinds, &roadWKB)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "route.not_found", "there is no route %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("patrol: route %d: %w", id, err)
	}
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	type info struct {
		grade   string
		overdue bool
	}
	infos := map[string]info{}
	rows, err := s.cfg.Store.Pool().Query(ctx, "SELECT pipe_id, grade, overdue FROM patrol_plan_pipes WHERE route_id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("patrol: route %d: %w", id, err)
	}
	var pid, grade string
	var od bool
	if _, err := pgx.ForEachRow(rows, []any{&pid, &grade, &od}, func() error {
		infos[pid] = info{grade, od}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("patrol: route %d: %w", id, err)
	}
	var roadLines orb.MultiLineString
	if len(roadWKB) > 0 {
		g, err := wkb.Unmarshal(roadWKB)
		if err != nil {
			return nil, fmt.Errorf("patrol: route %d: road legs: %w", id, err)
		}
		ml, ok := g.(orb.MultiLineString)
		if !ok {
			return nil, fmt.Errorf("patrol: route %d: road legs are a %s", id, g.GeoJSONType())
		}
		roadLines = ml
	}
	// Rebuild the legs on the current network (road legs as stored).
	t := c.net.Topo
	start := orb.Point{sum.Start.X, sum.Start.Y}
	legs := make([]route.Leg, len(lp))
	stale := false
	ids := make([]string, len(lp)) // pipe id per leg, kept for stale pipes
	nRoad := 0
	for i := range lp {
		lg := route.Leg{Pipe: -1, Length: ll[i], Patrol: kinds[i] == 'P'}
		ids[i] = lp[i]
		if kinds[i] == 'R' && nRoad < len(roadLines) && len(roadLines[nRoad]) >= 2 {
			lg.Line = roadLines[nRoad]
			lg.A, lg.B = lg.Line[0], lg.Line[len(lg.Line)-1]
			nRoad++
		} else if kinds[i] == 'O' || kinds[i] == 'R' {
			lg.A = orb.Point{lf[i], lt[i]}
		} else if q, ok := c.net.PipeIndex(lp[i]); ok && c.walk.Walkable(q) {
			lg.Pipe, lg.From, lg.To = q, lf[i], lt[i]
			ls := t.PipeLine(int(q))
			lg.A, lg.B = gis.PointAt(ls, lf[i]), gis.PointAt(ls, lt[i])
		} else {
			stale = true
			lg.Pipe = -2 // gone
		}
		legs[i] = lg
	}
	for i := range legs {
		if legs[i].Pipe == -1 && legs[i].Line == nil {
			legs[i].B = start
			if i+1 < len(legs) {
				legs[i].B = legs[i+1].A
			}
		}
	}
	view := &RouteView{RouteSummary: *sum, Stale: stale}
	view.Steps = buildSteps(c, legs, ids, func(p string) (string, bool) { in := infos[p]; return in.grade, in.overdue })
	ll2, err := s.lonLat(ctx, []orb.Point{start})
	if err != nil {
		return nil, err
	}
	view.Start.Lon, view.Start.Lat = ll2[0][0], ll2[0][1]
	return view, nil
}

// buildSteps merges legs into instructions. Legs with Pipe == -2 are of
// pipes gone from the network: they become steps without geometry.
func buildSteps(c *catalog, legs []route.Leg, ids []string, info func(pipe string) (grade string, overdue bool)) []Step {
	t := c.net.Topo
	var out []Step
	i := 0
	for i < len(legs) {
		j := i
		for j < len(legs) && (legs[j].Pipe == -2) == (legs[i].Pipe == -2) {
			j++
		}
		if legs[i].Pipe == -2 {
			for k := i; k < j; k++ {
				kind := route.StepWalk
				if legs[k].Patrol {
					kind = route.StepPatrol
				}
				out = append(out, Step{Kind: kind, Pipe: ids[k], LengthM: round1(legs[k].Length), Heading: "",
					Text: fmt.Sprintf("管道 %s 已不在管网中 / pipe %s is no longer in the network", ids[k], ids[k])})
			}
			i = j
			continue
		}
		for _, st := range route.Steps(legs[i:j]) {
			line := c.walk.Line(legs[i+st.First : i+st.Last])
			step := Step{Kind: st.Kind, LengthM: round1(st.Length), Heading: heading(st.A, st.B), line: line}
			switch st.Kind {
			case route.StepPatrol:
				q := st.Pipes[0]
				step.Pipe = t.PipeID.At(int(q))
				from, to := round1(st.From), round1(st.To)
				step.From, step.To = &from, &to
				step.DN = int(t.PipeDN[q])
				step.Grade, step.Overdue = info(step.Pipe)
				if step.Grade == "" {
					step.Grade = c.class[q].Grade
				}
				late := ""
				if step.Overdue {
					late = "（逾期 overdue）"
				}
				step.Text = fmt.Sprintf("巡检 %s%s：DN%d，%.0f 米，向%s / patrol %s: DN%d, %.0f m, heading %s",
					step.Pipe, late, step.DN, st.Length, headingZh[step.Heading], step.Pipe, step.DN, st.Length, step.Heading)
			case route.StepWalk:
				for _, q := range st.Pipes {
					step.Pipes = append(step.Pipes, t.PipeID.At(int(q)))
				}
				step.Text = fmt.Sprintf("沿管线步行 %.0f 米，向%s / walk %.0f m along the pipes, heading %s",
					st.Length, headingZh[step.Heading], st.Length, step.Heading)
			case route.StepRoad:
				step.Text = fmt.Sprintf("沿道路步行 %.0f 米，向%s / walk %.0f m along the streets, heading %s",
					st.Length, headingZh[step.Heading], st.Length, step.Heading)
			default:
				step.Text = fmt.Sprintf("离开管网直行约 %.0f 米，向%s / walk about %.0f m off the pipe network, heading %s",
					st.Length, headingZh[step.Heading], st.Length, step.Heading)
			}
			out = append(out, step)
		}
		i = j
	}
	for k := range out {
		out[k].Seq = k + 1
	}
	return out
}

var headingZh = map[string]string{"N": "北", "NE": "东北", "E": "东", "SE": "东南", "S": "南", "SW": "西南", "W": "西", "NW": "西北", "": "原地"}

// heading is the compass direction from a to b (grid north).
func heading(a, b orb.Point) string {
	dx, dy := b[0]-a[0], b[1]-a[1]
	if math.Hypot(dx, dy) < 0.5 {
		return ""
	}
	deg := math.Mod(math.Atan2(dx, dy)*180/math.Pi+360, 360)
	return [...]string{"N", "NE", "E", "SE", "S", "SW", "W", "NW"}[int(math.Mod(deg+22.5, 360)/45)]
}

// stepsLonLat returns each step's line in lon/lat (nil for steps without
// geometry), transformed in one round trip.
func (s *Service) stepsLonLat(ctx context.Context, steps []Step) ([]orb.LineString, error) {
	var all []orb.Point
	for _, st := range steps {
		all = append(all, st.line...)
	}
	ll, err := s.lonLat(ctx, all)
	if err != nil {
		return nil, err
	}
	out := make([]orb.LineString, len(steps))
	k := 0
	for i, st := range steps {
		if len(st.line) > 0 {
			out[i] = orb.LineString(ll[k : k+len(st.line)])
			k += len(st.line)
		}
	}
	return out, nil
}

type geoFeature struct {
	Type       string         `json:"type"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geoGeom struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func round7(p orb.Point) [2]float64 {
	return [2]float64{math.Round(p[0]*1e7) / 1e7, math.Round(p[1]*1e7) / 1e7}
}

// WriteGeoJSON writes a route as a GeoJSON FeatureCollection in WGS84: the
// start point, then one LineString per step in walking order.
func (s *Service) WriteGeoJSON(ctx context.Context, w io.Writer, v *RouteView) error {
	lines, err := s.stepsLonLat(ctx, v.Steps)
	if err != nil {
		return err
	}
	feats := []geoFeature{{Type: "Feature", Geometry: geoGeom{"Point", round7(orb.Point{v.Start.Lon, v.Start.Lat})},
		Properties: map[string]any{"kind": "start", "source": v.StartSource, "district": v.District, "manager": v.Manager}}}
	for i, st := range v.Steps {
		props := map[string]any{"seq": st.Seq, "kind": st.Kind, "length_m": st.LengthM, "text": st.Text}
		if st.Pipe != "" {
			props["pipe"] = st.Pipe
			props["dn"] = st.DN
			props["grade"] = st.Grade
			props["overdue"] = st.Overdue
		}
		if len(st.Pipes) > 0 {
			props["pipes"] = st.Pipes
		}
		var g any
		if len(lines[i]) > 0 {
			cs := make([][2]float64, len(lines[i]))
			for k, p := range lines[i] {
				cs[k] = round7(p)
			}
			g = geoGeom{"LineString", cs}
		}
		feats = append(feats, geoFeature{Type: "Feature", Geometry: g, Properties: props})
	}
	fc := map[string]any{"type": "FeatureCollection", "features": feats, "properties": v.RouteSummary}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(fc)
}

// WriteGPX writes a route as GPX 1.1 for a phone: a waypoint at the start
// and one track whose segments are the steps, in walking order.
func (s *Service) WriteGPX(ctx context.Context, w io.Writer, v *RouteView) error {
	lines, err := s.stepsLonLat(ctx, v.Steps)
	if err != nil {
		return err
	}
	type pt struct {
		Lat  string `xml:"lat,attr"`
		Lon  string `xml:"lon,attr"`
		Name string `xml:"name,omitempty"`
	}
	type seg struct {
		Pts []pt `xml:"trkpt"`
	}
	type trk struct {
		Name string `xml:"name"`
		Desc string `xml:"desc"`
		Segs []seg  `xml:"trkseg"`
	}
	type gpx struct {
		XMLName  xml.Name `xml:"gpx"`
		Version  string   `xml:"version,attr"`
		Creator  string   `xml:"creator,attr"`
		NS       string   `xml:"xmlns,attr"`
		Metadata struct {
			Name string `xml:"name"`
			Time string `xml:"time,omitempty"`
		} `xml:"metadata"`
		Wpt []pt `xml:"wpt"`
		Trk trk  `xml:"trk"`
	}
	f := func(x float64) string { return fmt.Sprintf("%.7f", x) }
	g := gpx{Version: "1.1", Creator: "waterline", NS: "http://www.topografix.com/GPX/1/1"}
	name := fmt.Sprintf("巡检 %s %s %d/%d %s", v.District, v.Date, v.Index, v.Of, v.Manager)
	g.Metadata.Name = name
	if v.PlannedAt != nil {
		g.Metadata.Time = v.PlannedAt.UTC().Format(time.RFC3339)
	}
	g.Wpt = []pt{{Lat: f(v.Start.Lat), Lon: f(v.Start.Lon), Name: "起点 start"}}
	g.Trk.Name = name
	g.Trk.Desc = fmt.Sprintf("%.0f m (patrol %.0f m), about %.0f min", v.TotalM, v.PatrolM, v.Minutes)
	for _, ls := range lines {
		if len(ls) == 0 {
			continue
		}
		var sg seg
		for _, p := range ls {
			sg.Pts = append(sg.Pts, pt{Lat: f(p[1]), Lon: f(p[0])})
		}
		g.Trk.Segs = append(g.Trk.Segs, sg)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(g); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}
