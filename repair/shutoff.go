// Package repair plans shutoffs for leaks and follows repair jobs through
// their milestones against the deadlines of the service standard.
package repair

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
)

// ClosingRule states how the valves to close are ordered.
const ClosingRule = "largest DN first (the leak slows fastest), then nearest to the leak; the crew walks them in that order"

// PlanRequest is a dispatcher's question: where is the leak, and which
// valves failed on site.
type PlanRequest struct {
	Pipe         string      `json:"pipe,omitempty"`
	At           *float64    `json:"at,omitempty"`    // fraction along the pipe, [0,1]; default 0.5
	Point        *[2]float64 `json:"point,omitempty"` // lon/lat (or X,Y in PointSRID)
	PointSRID    int         `json:"point_srid,omitempty"`
	ToleranceM   float64     `json:"tolerance_m,omitempty"` // snapping distance for Point; default 25
	FailedValves []string    `json:"failed_valves,omitempty"`
	// Contingency asks for the "if this valve fails" fallback of each valve
	// to close (default true).
	Contingency *bool `json:"contingency,omitempty"`
}

// IfFails is what happens when one valve to close fails on site.
type IfFails struct {
	ExtraValves     []string `json:"extra_valves"`
	ExtraCustomers  int      `json:"extra_customers"`
	ExtraHouseholds int64    `json:"extra_households"`
	ExtraLengthM    float64  `json:"extra_length_m"`
}

// ValveStep is one valve to close, in closing order.
type ValveStep struct {
	Order     int      `json:"order"`
	ID        string   `json:"id"`
	DN        int      `json:"dn"`
	X         float64  `json:"x"` // in the storage CRS, to the millimetre
	Y         float64  `json:"y"`
	Lon       float64  `json:"lon"`
	Lat       float64  `json:"lat"`
	FromPrevM float64  `json:"from_previous_m"` // straight-line distance from the previous stop (the leak for the first)
	HoldsBack []string `json:"holds_back"`      // pipes on its far side that it keeps in water
	IfFails   *IfFails `json:"if_fails,omitempty"`

	valve int32 // index of the valve
	pos   int   // its position in the plan's ToClose
	// holds is the network's shared slice the planner put in HoldsBack,
	// holdsJSON its encoding (see AppendJSON).
	holds     []string
	holdsJSON []byte
}

// mm rounds metres to the millimetre: finer digits say nothing about a
// surveyed valve and cost the answer bytes and encoding time.
func mm(v float64) float64 { return math.Round(v*1000) / 1000 }

// Leak says where the plan put the leak.
type Leak struct {
	Pipe string  `json:"pipe"`
	At   float64 `json:"at"`
	S    float64 `json:"s_m"` // to the millimetre
	X    float64 `json:"x"`   // in the storage CRS, to the millimetre
	Y    float64 `json:"y"`
	Lon  float64 `json:"lon"`
	Lat  float64 `json:"lat"`
	DN   int     `json:"dn"`
}

// PlanResponse is the dispatcher's answer. It is read only once returned:
// some of its lists (HoldsBack) are shared with the network and with other
// answers.
type PlanResponse struct {
	NetworkVersion int64 `json:"network_version"`
	Leak           Leak  `json:"leak"`
	gis.Result
	ClosingRule  string               `json:"closing_rule"`
	ClosingOrder []ValveStep          `json:"closing_order"`
	Critical     []store.CustomerInfo `json:"critical"`
	Range        FeatureCollection    `json:"range"`  // lon/lat
	Valves       FeatureCollection    `json:"valves"` // lon/lat
	plan         gis.Plan
	net          *gis.Network
}

// FeatureCollection is a GeoJSON FeatureCollection; Features holds a slice
// of typed features (encoded once, with the response).
type FeatureCollection struct {
	Type     string `json:"type"`
	Features any    `json:"features"`
}

// Planner answers shutoff questions on the live network.
type Planner struct {
	Store *store.Store
	Live  interface{ Network() *gis.Network } // the live network (*store.Live)
	// HeldClosed returns the valves that active repair jobs hold closed;
	// nil means none.
	HeldClosed func(ctx context.Context) ([]string, error)
	// NoticeRules and TZ shape shutoff notices.
	NoticeRules NoticeRules
	TZ          *time.Location
}

// categoryRank orders critical customers: hospitals, thermal power, VIP first.
func categoryRank(c string) int {
	switch c {
	case "hospital":
		return 0
	case "thermal_power":
		return 1
	case "vip":
		return 2
	case "school":
		return 3
	}
	return 4
}

func (p *Planner) network() (*gis.Network, error) {
	n := p.Live.Network()
	if n == nil {
		return nil, gis.Errorf(gis.Unavailable, "network.not_loaded", "the network is not loaded yet")
	}
	return n, nil
}

// resolve turns a request into a leak on the network and the state to plan in.
func (p *Planner) resolve(ctx context.Context, n *gis.Network, req PlanRequest, held []string) (gis.Leak, *gis.State, error) {
	var leak gis.Leak
	t := n.Topo
	switch {
	case req.Pipe != "" && req.Point != nil:
		return leak, nil, gis.Errorf(gis.Invalid, "leak.ambiguous", "give the leak as a pipe or as a point, not both")
	case req.Pipe != "":
		i, ok := n.PipeIndex(req.Pipe)
		if !ok {
			return leak, nil, gis.Errorf(gis.NotFound, "pipe.not_found", "pipe %q is not in the network", req.Pipe)
		}
		if !t.PipeInService[i] {
			return leak, nil, gis.Errorf(gis.Invalid, "pipe.not_in_service", "pipe %q is not in service: it carries no water to shut off", req.Pipe)
		}
		at := 0.5
		if req.At != nil {
			at = *req.At
		}
		if math.IsNaN(at) || at < 0 || at > 1 {
			return leak, nil, gis.Errorf(gis.Invalid, "leak.bad_at", "at = %v: the fraction along the pipe must be within [0, 1]", at)
		}
		leak = gis.Leak{Pipe: i, S: at * t.PipeLen[i]}
	case req.Point != nil:
		x, y := req.Point[0], req.Point[1]
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return leak, nil, gis.Errorf(gis.Invalid, "point.bad", "the point must be two finite numbers")
		}
		srid := req.PointSRID
		if srid == 0 {
			srid = 4326
			if x < -180 || x > 180 || y < -90 || y > 90 {
				return leak, nil, gis.Errorf(gis.Invalid, "point.bad", "point (%g, %g) is not a longitude/latitude; give point_srid for projected coordinates", x, y)
			}
		}
		tol := req.ToleranceM
		if tol == 0 {
			tol = 25
		}
		if tol < 0 || tol > 1000 {
			return leak, nil, gis.Errorf(gis.Invalid, "point.bad_tolerance", "tolerance_m must be within (0, 1000]")
		}
		id, s, _, err := p.Store.Snap(ctx, x, y, srid, tol)
		if err != nil {
			return leak, nil, err
		}
		i, ok := n.PipeIndex(id)
		if !ok {
			return leak, nil, gis.Errorf(gis.Conflict, "network.changed", "the network changed while planning; try again")
		}
		leak = gis.Leak{Pipe: i, S: s}
	default:
		return leak, nil, gis.Errorf(gis.Invalid, "leak.missing", "give the leak as a pipe id (with optional at) or as a point")
	}
	for _, v := range req.FailedValves {
		i, ok := n.ValveIndex(v)
		if !ok {
			return leak, nil, gis.Errorf(gis.NotFound, "valve.not_found", "failed valve %q is not in the network", v)
		}
		if t.ValvePipe[i] < 0 {
			return leak, nil, gis.Errorf(gis.Invalid, "valve.not_on_network", "failed valve %q is not on any in-service pipe", v)
		}
		leak.Failed = append(leak.Failed, i)
	}
	st := n.Normal()
	if len(held) > 0 {
		var idx []int32
		for _, v := range held {
			if i, ok := n.ValveIndex(v); ok {
				idx = append(idx, i)
			}
		}
		st = n.WithClosed(idx)
	}
	return leak, st, nil
}

// Held returns the valves active repair jobs hold closed (HeldClosed's
// answer; nil without HeldClosed).
func (p *Planner) Held(ctx context.Context) ([]string, error) {
	if p.HeldClosed == nil {
		return nil, nil
	}
	return p.HeldClosed(ctx)
}

// Plan answers a shutoff request: valves to close in order with their
// fallbacks, the range, the affected and critical customers. It plans
// against the valves active repair jobs hold closed (Held).
func (p *Planner) Plan(ctx context.Context, req PlanRequest) (*PlanResponse, error) {
	held, err := p.Held(ctx)
	if err != nil {
		return nil, err
	}
	return p.PlanHeld(ctx, req, held)
}

// PlanHeld is Plan with the held valves given (as Held returns them)
// rather than asked for. For a leak given by pipe id it does no I/O (a
// point is snapped in the database): a caller that bounds how many plans
// are worked out at once asks Held first and takes its turn for PlanHeld
// alone, so that a turn is CPU work.
func (p *Planner) PlanHeld(ctx context.Context, req PlanRequest, held []string) (*PlanResponse, error) {
	n, err := p.network()
	if err != nil {
		return nil, err
	}
	leak, st, err := p.resolve(ctx, n, req, held)
	if err != nil {
		return nil, err
	}
	t := n.Topo
	plan := st.Isolate(leak)
	resp := &PlanResponse{NetworkVersion: n.Version, Result: n.Render(plan), ClosingRule: ClosingRule, plan: plan, net: n}
	lp := t.PointOnPipe(int(leak.Pipe), leak.S)
	at := 0.0
	if t.PipeLen[leak.Pipe] > 0 {
		at = leak.S / t.PipeLen[leak.Pipe]
	}
	resp.Leak = Leak{Pipe: t.PipeID.At(int(leak.Pipe)), At: at, S: mm(leak.S), X: mm(lp[0]), Y: mm(lp[1]), DN: int(t.PipeDN[leak.Pipe])}

	// Closing order.
	steps := make([]ValveStep, len(plan.ToClose))
	dist := make([]float64, len(plan.ToClose)) // from the leak, by position in ToClose
	for k, v := range plan.ToClose {
		x, y, _ := n.ValvePoint(v)
		// The far side's pipes, sorted by id; shared with the network
		// (read only, like the whole answer).
		holds := n.SegmentPipeIDs(plan.FarSide[k])
		steps[k] = ValveStep{ID: t.ValveID.At(int(v)), DN: int(t.ValveDN[v]), X: mm(x), Y: mm(y), HoldsBack: holds, valve: v, pos: k,
			holds: holds, holdsJSON: n.SegmentPipeIDsJSON(plan.FarSide[k])}
		dist[k] = math.Hypot(x-lp[0], y-lp[1])
	}
	slices.SortStableFunc(steps, func(a, b ValveStep) int {
		if a.DN != b.DN {
			return cmp.Compare(b.DN, a.DN)
		}
		if da, db := dist[a.pos], dist[b.pos]; da != db {
			return cmp.Compare(da, db)
		}
		return strings.Compare(a.ID, b.ID)
	})
	px, py := lp[0], lp[1]
	for k := range steps {
		steps[k].Order = k + 1
		steps[k].FromPrevM = math.Round(math.Hypot(steps[k].X-px, steps[k].Y-py)*10) / 10
		px, py = steps[k].X, steps[k].Y
	}
	// Contingency: each valve to close, failed — worked out from the
	// plan's drained region outward (gis.State.Fallbacks), the same answer
	// as planning again with that valve failed.
	if req.Contingency == nil || *req.Contingency {
		fbs := st.Fallbacks(leak, plan)
		ifs := make([]IfFails, len(steps))
		ne := 0
		for _, fb := range fbs {
			ne += len(fb.ExtraValves)
		}
		allExtra := make([]string, ne) // one backing array for every list
		for k := range steps {
			fb := fbs[steps[k].pos]
			f := &ifs[k]
			*f = IfFails{ExtraValves: allExtra[:len(fb.ExtraValves):len(fb.ExtraValves)], ExtraCustomers: fb.ExtraCustomers,
				ExtraHouseholds: fb.ExtraHouseholds, ExtraLengthM: math.Round(fb.ExtraLength*10) / 10}
			allExtra = allExtra[len(fb.ExtraValves):]
			for i, w := range fb.ExtraValves {
				f.ExtraValves[i] = t.ValveID.At(int(w))
			}
			sort.Strings(f.ExtraValves)
			steps[k].IfFails = f
		}
	}
	resp.ClosingOrder = steps

	// Critical customers, by category (names and categories are in memory).
	crit := make([]store.CustomerInfo, 0, len(resp.CriticalCustomers))
	for _, c := range plan.Customers {
		if t.CustCritical[c] {
			crit = append(crit, store.CustomerInfo{ID: t.CustID.At(int(c)), Name: t.CustName.At(int(c)), Category: t.CustCategory.At(int(c)),
				Critical: true, Households: int(t.CustHouseholds[c])})
		}
	}
	sort.SliceStable(crit, func(a, b int) bool {
		ra, rb := categoryRank(crit[a].Category), categoryRank(crit[b].Category)
		if ra != rb {
			return ra < rb
		}
		if crit[a].Name != crit[b].Name {
			return crit[a].Name < crit[b].Name
		}
		return crit[a].ID < crit[b].ID
	})
	resp.Critical = crit

	if err := p.geometry(ctx, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// lineFeature is a GeoJSON LineString feature of the range layer: a piece
// of pipe drained by the plan.
type lineFeature struct {
	Type       string       `json:"type"`
	Geometry   lineGeometry `json:"geometry"`
	Properties struct {
		Part string  `json:"part"`
		Pipe string  `json:"pipe"`
		From float64 `json:"from_m"`
		To   float64 `json:"to_m"`
	} `json:"properties"`
}

type lineGeometry struct {
	Type        string       `json:"type"`
	Coordinates [][2]float64 `json:"coordinates"`
}

// pointFeature is a GeoJSON Point feature of the valve layer.
type pointFeature struct {
	Type     string `json:"type"`
	Geometry struct {
		Type        string     `json:"type"`
		Coordinates [2]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		ID    string `json:"id"`
		Role  string `json:"role"`
		DN    int32  `json:"dn"`
		Order int    `json:"order,omitempty"`
	} `json:"properties"`
}

// r7 rounds a longitude or latitude to 1e-7 degrees (about a centimetre).
func r7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// geometry fills the range and valve layers, in lon/lat, with one
// transformation round trip.
func (p *Planner) geometry(ctx context.Context, resp *PlanResponse) error {
	n, plan, t := resp.net, resp.plan, resp.net.Topo
	type part struct {
		name   string
		pieces []gis.Piece
	}
	parts := [2]part{{"segment", n.Pieces(plan.Segments)}, {"unintended", n.Pieces(plan.Unintended)}}
	type vpt struct {
		role  string
		valve int32
	}
	nv := len(plan.ToClose) + len(plan.DrySide) + len(plan.AlreadyClosed) + len(plan.FailedValves)
	npc := len(parts[0].pieces) + len(parts[1].pieces)
	// Every point to transform, in storage coordinates: the pieces'
	// lines, the valves, the leak.
	pts := make(orb.LineString, 0, 4*npc+nv+1)
	lines := make([][2]int, 0, npc) // start, end index into pts per piece
	for _, pt := range parts {
		for _, pc := range pt.pieces {
			a := len(pts)
			pts = t.AppendSubLine(pts, int(pc.Pipe), pc.From, pc.To)
			lines = append(lines, [2]int{a, len(pts)})
		}
	}
	nc := len(pts) // points of the range
	vpts := make([]vpt, 0, nv)
	add := func(ids []int32, role string) {
		for _, v := range ids {
			x, y, ok := n.ValvePoint(v)
			if !ok {
				continue
			}
			vpts = append(vpts, vpt{role: role, valve: v})
			pts = append(pts, orb.Point{x, y})
		}
	}
	add(plan.ToClose, "to_close")
	add(plan.DrySide, "dry_side")
	add(plan.AlreadyClosed, "already_closed")
	add(plan.FailedValves, "failed")
	pts = append(pts, orb.Point{resp.Leak.X, resp.Leak.Y})
	// To lon/lat, rounded, in place.
	if g := n.LonLat; g != nil {
		for i, q := range pts {
			lon, lat := g.Apply(q[0], q[1])
			pts[i] = orb.Point{r7(lon), r7(lat)}
		}
	} else {
		xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
		for i, q := range pts {
			xs[i], ys[i] = q[0], q[1]
		}
		lon, lat, err := p.Store.ToLonLat(ctx, xs, ys)
		if err != nil {
			return err
		}
		for i := range pts {
			pts[i] = orb.Point{r7(lon[i]), r7(lat[i])}
		}
	}
	fc := func(fs any) FeatureCollection { return FeatureCollection{Type: "FeatureCollection", Features: fs} }
	rangeF := make([]lineFeature, 0, npc)
	coords := make([][2]float64, nc)
	for k := range coords {
		coords[k] = pts[k]
	}
	li := 0
	for _, pt := range parts {
		for _, pc := range pt.pieces {
			se := lines[li]
			li++
			var f lineFeature
			f.Type, f.Geometry.Type = "Feature", "LineString"
			f.Geometry.Coordinates = coords[se[0]:se[1]:se[1]]
			f.Properties.Part, f.Properties.Pipe = pt.name, t.PipeID.At(int(pc.Pipe))
			f.Properties.From, f.Properties.To = math.Round(pc.From*100)/100, math.Round(pc.To*100)/100
			rangeF = append(rangeF, f)
		}
	}
	resp.Range = fc(rangeF)
	// Where each valve to close stands in the closing order.
	orderOf := func(v int32) (int, bool) {
		for k := range resp.ClosingOrder {
			if resp.ClosingOrder[k].valve == v {
				return k, true
			}
		}
		return 0, false
	}
	valveF := make([]pointFeature, 0, len(vpts))
	for k, v := range vpts {
		var f pointFeature
		f.Type, f.Geometry.Type = "Feature", "Point"
		f.Geometry.Coordinates = pts[nc+k]
		f.Properties.ID, f.Properties.Role, f.Properties.DN = t.ValveID.At(int(v.valve)), v.role, t.ValveDN[v.valve]
		if v.role == "to_close" {
			if j, ok := orderOf(v.valve); ok {
				f.Properties.Order = resp.ClosingOrder[j].Order
				resp.ClosingOrder[j].Lon, resp.ClosingOrder[j].Lat = f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]
			}
		}
		valveF = append(valveF, f)
	}
	resp.Valves = fc(valveF)
	resp.Leak.Lon, resp.Leak.Lat = pts[len(pts)-1][0], pts[len(pts)-1][1]
	return nil
}

// CustomersCSV writes the affected customers of a plan as CSV for Excel:
// UTF-8 with a byte-order mark, critical ones first.
func (p *Planner) CustomersCSV(ctx context.Context, resp *PlanResponse) ([]store.CustomerInfo, error) {
	all, err := p.Store.Customers(ctx, resp.Customers)
	if err != nil {
		return nil, fmt.Errorf("repair: customers: %w", err)
	}
	sort.SliceStable(all, func(a, b int) bool {
		if all[a].Critical != all[b].Critical {
			return all[a].Critical
		}
		return categoryRank(all[a].Category) < categoryRank(all[b].Category)
	})
	return all, nil
}
