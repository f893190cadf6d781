package patrol

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/patrol/route"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// JobName is the job_runs name of the morning planning job; its slot is
// the date (YYYY-MM-DD), or date/district for a single district.
const JobName = "patrol.plan"

// PlanOptions select what to plan.
type PlanOptions struct {
	Day      schedule.Day
	District string     // "" = every district
	Start    *orb.Point // start point in the storage CRS (only with District)
	// StartLonLat is the start point in WGS84 [lon, lat], used when Start
	// is nil (only with District).
	StartLonLat *[2]float64
	Managers    int // number of routes (only with District); 0 = the district's managers
	// Save replaces the day's stored plan (of District, or of every
	// district); false computes without storing (a preview).
	Save bool
	// Force re-runs a day that is already planned (a manual re-plan);
	// without it a saved plan of a planned day is skipped (ErrPlanned).
	Force bool
	// TimeLimit is the RPP improvement budget per route; 0 = the rules'
	// (RouteTimeMS for one district, JobRouteMS for every district).
	TimeLimit time.Duration
}

// ErrPlanned is returned by Plan (Save without Force) when the day's plan
// was already made, here or by another replica.
var ErrPlanned = store.ErrJobDone

// DayPlan is a day's plan of one or every district.
type DayPlan struct {
	Date           string          `json:"date"`
	NetworkVersion int64           `json:"network_version"`
	Deadhead       string          `json:"deadhead"`                // roads | pipes: what managers walk between due pipes
	RoadsVersion   int64           `json:"roads_version,omitempty"` // of the road network deadheaded on
	Saved          bool            `json:"saved"`
	Districts      []*DistrictPlan `json:"districts"`
	Pipes          int             `json:"pipes"`
	OverCapacity   []string        `json:"over_capacity"` // districts whose managers cannot do the day's work
	ElapsedMS      float64         `json:"elapsed_ms"`
}

// DistrictPlan is a district's routes for a day.
type DistrictPlan struct {
	District    string  `json:"district"`
	Name        string  `json:"name"`
	Managers    int     `json:"managers"`
	Mode        string  `json:"mode"`
	SpeedKmh    float64 `json:"speed_kmh"`
	CapacityM   float64 `json:"capacity_m"` // per manager
	Start       LonLat  `json:"start"`
	StartSource string  `json:"start_source"` // office | given | district | pipes

	Pipes      int      `json:"pipes"` // on the plan
	Overdue    int      `json:"overdue"`
	DueM       float64  `json:"due_m"`
	Unroutable []string `json:"unroutable,omitempty"` // due but not on the walkable network

	// One manager walking everything: tour length and its lower bound.
	SingleM      float64 `json:"single_m"`
	LowerBoundM  float64 `json:"lower_bound_m"`
	LongestM     float64 `json:"longest_m"`
	TotalM       float64 `json:"total_m"`
	OverCapacity bool    `json:"over_capacity"`
	// NeededManagers is how many managers the day's work needs at this
	// capacity (from the one-manager tour).
	NeededManagers int             `json:"needed_managers"`
	Routes         []*RouteSummary `json:"routes"`
	ElapsedMS      float64         `json:"elapsed_ms"`

	routes []route.Route
	items  []planItem
	start  orb.Point
}

// LonLat is a point given both ways.
type LonLat struct {
	X   float64 `json:"x"` // storage CRS
	Y   float64 `json:"y"`
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

type planItem struct {
	pipe    int32
	route   int // index into routes
	due     schedule.Day
	overdue bool
	fresh   bool // the patrol state has no row for the pipe yet
}

// districtInfo is a district's planning settings.
type districtInfo struct {
	id, name string
	managers []string
	mode     string
	capKm    *float64
	office   *orb.Point
	interior *orb.Point // a point inside its polygon
}

func (s *Service) districtInfos(ctx context.Context) (map[string]*districtInfo, error) {
	rows, err := s.cfg.Store.Pool().Query(ctx, `
		SELECT coalesce(d.id, pd.district), coalesce(d.name, ''), coalesce(d.manager, ''),
			ST_X(ST_PointOnSurface(d.geom)), ST_Y(ST_PointOnSurface(d.geom)),
			ST_X(pd.office), ST_Y(pd.office), pd.managers, coalesce(pd.mode, ''), pd.capacity_km
		FROM districts d FULL JOIN patrol_districts pd ON pd.district = d.id`)
	if err != nil {
		return nil, fmt.Errorf("patrol: districts: %w", err)
	}
	out := map[string]*districtInfo{}
	var (
		id, name, mgr, mode string
		ix, iy, ox, oy, cap *float64
		mgrs                []string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &name, &mgr, &ix, &iy, &ox, &oy, &mgrs, &mode, &cap}, func() error {
		d := &districtInfo{id: id, name: name, mode: mode, managers: splitManagers(mgr)}
		if len(mgrs) > 0 {
			d.managers = mgrs
		}
		if ix != nil && iy != nil {
			d.interior = &orb.Point{*ix, *iy}
		}
		if ox != nil && oy != nil {
			d.office = &orb.Point{*ox, *oy}
		}
		if cap != nil {
			c := *cap
			d.capKm = &c
		}
		out[id] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: districts: %w", err)
	}
	return out, nil
}

// Plan plans a day (see PlanOptions). With Save, it runs through
// store.RunOnce (job JobName, slot the date, or date/district), so a day
// is planned once across replicas and a re-plan replaces it; it returns
// ErrPlanned when the slot is done and Force is not set. Errors: a
// *gis.Error NotFound for an unknown district, Invalid for a start
// without a district, Unavailable before the network is loaded.
func (s *Service) Plan(ctx context.Context, opt PlanOptions) (*DayPlan, error) {
	if opt.District == "" && (opt.Start != nil || opt.StartLonLat != nil || opt.Managers > 0) {
		return nil, gis.Errorf(gis.Invalid, "plan.needs_district", "a start point or a number of managers applies to one district: give the district")
	}
	if opt.Start == nil && opt.StartLonLat != nil {
		ll := *opt.StartLonLat
		if !(ll[0] >= -180 && ll[0] <= 180 && ll[1] >= -90 && ll[1] <= 90) {
			return nil, gis.Errorf(gis.Invalid, "plan.bad_start", "the start must be a WGS84 lon/lat")
		}
		pts, err := s.toStorage(ctx, []float64{ll[0]}, []float64{ll[1]})
		if err != nil {
			return nil, err
		}
		opt.Start = &pts[0]
	}
	if opt.Managers < 0 || opt.Managers > 50 {
		return nil, gis.Errorf(gis.Invalid, "plan.bad_managers", "managers must be within [1, 50]")
	}
	if opt.TimeLimit == 0 {
		ms := s.cfg.Rules.RouteTimeMS
		if opt.District == "" {
			ms = s.cfg.Rules.JobRouteMS
		}
		opt.TimeLimit = time.Duration(ms) * time.Millisecond
		if ms == 0 {
			opt.TimeLimit = -1
		}
	}
	if !opt.Save {
		return s.plan(ctx, opt)
	}
	slot := opt.Day.String()
	if opt.District != "" {
		slot += "/" + opt.District
	}
	var out *DayPlan
	err := s.cfg.Store.RunOnce(ctx, JobName, slot, s.cfg.Replica, opt.Force, func(ctx context.Context) error {
		p, err := s.plan(ctx, opt)
		if err != nil {
			return err
		}
		if err := s.save(ctx, opt, p); err != nil {
			return err
		}
		p.Saved = true
		out = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// plan computes the plan of opt.Day.
func (s *Service) plan(ctx context.Context, opt PlanOptions) (*DayPlan, error) {
	start := time.Now()
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	rg, err := s.roadGraph(ctx)
	if err != nil {
		return nil, err
	}
	tCat := time.Now()
	infos, err := s.districtInfos(ctx)
	if err != nil {
		return nil, err
	}
	var dists []string
	if opt.District != "" {
		if _, ok := c.distIdx[opt.District]; !ok {
			return nil, gis.Errorf(gis.NotFound, "district.not_found", "district %q has no in-service pipes", opt.District)
		}
		dists = []string{opt.District}
	} else {
		for _, d := range c.dists {
			if len(c.pipesOf[c.distIdx[d]]) > 0 {
				dists = append(dists, d)
			}
		}
		sort.Strings(dists)
	}
	var scope []int32
	if opt.District != "" {
		scope, _ = c.districtPipes(opt.District)
	}
	st, err := s.loadState(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	tState := time.Now()
	dp := &DayPlan{Date: opt.Day.String(), NetworkVersion: c.version, Districts: make([]*DistrictPlan, len(dists)),
		OverCapacity: []string{}, Deadhead: "pipes"}
	if rg.roads != nil {
		dp.Deadhead, dp.RoadsVersion = "roads", rg.version
	}
	// Route districts in parallel, largest first.
	order := make([]int, len(dists))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return len(c.pipesOf[c.distIdx[dists[order[a]]]]) > len(c.pipesOf[c.distIdx[dists[order[b]]]])
	})
	workers := s.cfg.Rules.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	errs := make([]error, len(dists))
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(dists)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					continue
				}
				dp.Districts[i], errs[i] = s.planDistrict(ctx, c, rg.roads, st, infos[dists[i]], dists[i], opt)
			}
		}()
	}
	for _, i := range order {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.cfg.Log.Debug("patrol plan computed", "date", opt.Day.String(), "districts", len(dists), "catalog", tCat.Sub(start),
		"state", tState.Sub(tCat), "routing", time.Since(tState))
	// Start points in lon/lat, one round trip.
	pts := make([]orb.Point, len(dp.Districts))
	for i, d := range dp.Districts {
		pts[i] = d.start
		dp.Pipes += d.Pipes
		if d.OverCapacity {
			dp.OverCapacity = append(dp.OverCapacity, d.District)
		}
	}
	ll, err := s.lonLat(ctx, pts)
	if err != nil {
		return nil, err
	}
	for i, d := range dp.Districts {
		d.Start = LonLat{X: pts[i][0], Y: pts[i][1], Lon: ll[i][0], Lat: ll[i][1]}
		for _, r := range d.Routes {
			r.Start = d.Start
			r.StartSource = d.StartSource
		}
	}
	dp.ElapsedMS = ms(time.Since(start))
	return dp, nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// planDistrict routes one district's day.
func (s *Service) planDistrict(ctx context.Context, c *catalog, roads *route.Roads, st *pipeState, info *districtInfo, id string, opt PlanOptions) (*DistrictPlan, error) {
	t0 := time.Now()
	t := c.net.Topo
	pipes, _ := c.districtPipes(id)
	if info == nil {
		info = &districtInfo{id: id}
	}
	mode, speed := s.cfg.Rules.speed(info.mode)
	d := &DistrictPlan{District: id, Name: info.name, Mode: mode, SpeedKmh: speed, CapacityM: s.cfg.Rules.capacityM(info.capKm, speed)}
	// What is due: overdue first (most overdue first), then by grade interval.
	type due struct {
		p int32
		s schedule.Status
	}
	var list []due
	for _, p := range pipes {
		ss := c.status(st, p, opt.Day)
		if ss.Planned {
			list = append(list, due{p, ss})
		}
	}
	sort.SliceStable(list, func(a, b int) bool {
		if list[a].s.DaysOverdue != list[b].s.DaysOverdue {
			return list[a].s.DaysOverdue > list[b].s.DaysOverdue
		}
		return c.class[list[a].p].EveryDays < c.class[list[b].p].EveryDays
	})
	ids := make([]int32, len(list))
	for i, x := range list {
		ids[i] = x.p
		d.DueM += t.PipeLen[x.p]
		if x.s.Overdue {
			d.Overdue++
		}
	}
	// Start: given, office, a point inside the district, or the middle of its pipes.
	switch {
	case opt.Start != nil:
		d.start, d.StartSource = *opt.Start, "given"
	case info.office != nil:
		d.start, d.StartSource = *info.office, "office"
	case info.interior != nil:
		d.start, d.StartSource = *info.interior, "district"
	default:
		var sx, sy float64
		for _, p := range pipes {
			m := c.walk.Midpoint(p)
			sx, sy = sx+m[0], sy+m[1]
		}
		d.start, d.StartSource = orb.Point{sx / float64(max(len(pipes), 1)), sy / float64(max(len(pipes), 1))}, "pipes"
	}
	k := len(info.managers)
	if opt.Managers > 0 {
		k = opt.Managers
	}
	k = max(k, 1)
	d.Managers = k
	rp, err := c.walk.Plan(ctx, ids, route.Options{Start: d.start, Managers: k, MarginM: s.cfg.Rules.MarginM,
		TimeLimit: opt.TimeLimit, OffNetFactor: s.cfg.Rules.OffNetFactor, Roads: roads, ConnectM: s.cfg.Rules.RoadConnectM})
	if err != nil {
		return nil, fmt.Errorf("patrol: route district %s: %w", id, err)
	}
	for _, p := range rp.Unroutable {
		d.Unroutable = append(d.Unroutable, t.PipeID.At(int(p)))
	}
	d.SingleM, d.LowerBoundM = round1(rp.SingleCost), round1(rp.SingleLowerBound)
	d.routes = rp.Routes
	routeOf := map[int32]int{}
	for ri, r := range rp.Routes {
		for _, p := range r.Pipes {
			routeOf[p] = ri
		}
		d.TotalM += r.Cost
		d.LongestM = math.Max(d.LongestM, r.Cost)
	}
	for _, x := range list {
		ri, ok := routeOf[x.p]
		if !ok {
			continue // unroutable
		}
		d.items = append(d.items, planItem{pipe: x.p, route: ri, due: x.s.Due, overdue: x.s.Overdue, fresh: !st.known[x.p]})
	}
	d.Pipes = len(d.items)
	d.OverCapacity = d.LongestM > d.CapacityM
	if d.CapacityM > 0 {
		d.NeededManagers = max(1, int(math.Ceil(d.SingleM/d.CapacityM)))
		if d.Pipes == 0 {
			d.NeededManagers = 0
		}
	}
	for ri, r := range rp.Routes {
		sum := &RouteSummary{Date: opt.Day.String(), District: id, Index: ri + 1, Of: len(rp.Routes),
			Mode: mode, SpeedKmh: speed, CapacityM: d.CapacityM, NetworkVersion: c.version,
			TotalM: round1(r.Cost), PatrolM: round1(r.PatrolM), DeadheadM: round1(r.DeadheadM), RoadM: round1(r.RoadM), OffNetM: round1(r.OffNetM),
			LowerBoundM: round1(r.LowerBound), Gap: gap(r.Cost, r.LowerBound), Minutes: minutes(r.Cost, speed),
			OverCapacity: r.Cost > d.CapacityM, Pipes: len(r.Pipes)}
		if ri < len(info.managers) {
			sum.Manager = info.managers[ri]
		}
		d.Routes = append(d.Routes, sum)
	}
	for _, it := range d.items {
		if it.overdue {
			d.Routes[it.route].Overdue++
		}
	}
	d.TotalM, d.LongestM, d.DueM = round1(d.TotalM), round1(d.LongestM), round1(d.DueM)
	d.ElapsedMS = ms(time.Since(t0))
	return d, nil
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func gap(cost, lb float64) float64 {
	if lb <= 0 {
		return 0
	}
	return math.Round((cost-lb)/lb*1e4) / 1e4
}

func minutes(m, kmh float64) float64 {
	if kmh <= 0 {
		return 0
	}
	return math.Round(m/1000/kmh*60*10) / 10
}

// save replaces the stored plan of the day (of one district, or of every
// district) in one transaction, and records the first due day of pipes the
// patrol state does not know yet.
func (s *Service) save(ctx context.Context, opt PlanOptions, p *DayPlan) error {
	c, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	t := c.net.Topo
	day := opt.Day.Time()
	srid := s.cfg.Store.SRID()
	t0 := time.Now()
	defer func() { s.cfg.Log.Debug("patrol plan saved", "date", opt.Day.String(), "elapsed", time.Since(t0)) }()
	err = pgx.BeginFunc(ctx, s.cfg.Store.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM patrol_routes WHERE plan_date = $1 AND ($2 = '' OR district = $2)", day, opt.District); err != nil {
			return err
		}
		if opt.District != "" {
			// Pipes that moved here from another district's plan of the day.
			var ids []string
			for _, d := range p.Districts {
				for _, it := range d.items {
					ids = append(ids, t.PipeID.At(int(it.pipe)))
				}
			}
			if _, err := tx.Exec(ctx, "DELETE FROM patrol_plan_pipes WHERE plan_date = $1 AND pipe_id = ANY($2)", day, ids); err != nil {
				return err
			}
		}
		// Routes, in one batch.
		b := &pgx.Batch{}
		type ref struct{ d, r int }
		var refs []ref
		for di, d := range p.Districts {
			for ri, r := range d.routes {
				sum := d.Routes[ri]
				lp, lf, lt, ll, kinds, roadLines := encodeLegs(t, r.Legs)
				b.Queue(`INSERT INTO patrol_routes (plan_date, district, idx, of, manager, network_version, start, start_source,
					mode, speed_kmh, total_m, patrol_m, deadhead_m, offnet_m, lower_bound_m, minutes, capacity_m, over_capacity,
					pipes, overdue, leg_pipe, leg_from, leg_to, leg_len, leg_kind, road_m, leg_roads)
					VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), $9::int), $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
					$21, $22, $23, $24, $25, $26, $27, $28, ST_SetSRID(ST_GeomFromWKB($29::bytea), $9::int)) RETURNING id`,
					day, d.District, sum.Index, sum.Of, sum.Manager, p.NetworkVersion, d.start[0], d.start[1], srid, d.StartSource,
					sum.Mode, sum.SpeedKmh, r.Cost, r.PatrolM, r.DeadheadM, r.OffNetM, r.LowerBound, sum.Minutes, sum.CapacityM, sum.OverCapacity,
					sum.Pipes, sum.Overdue, lp, lf, lt, ll, kinds, r.RoadM, roadLines)
				refs = append(refs, ref{di, ri})
			}
		}
		br := tx.SendBatch(ctx, b)
		for _, rf := range refs {
			var id int64
			if err := br.QueryRow().Scan(&id); err != nil {
				br.Close()
				return fmt.Errorf("insert route: %w", err)
			}
			p.Districts[rf.d].Routes[rf.r].ID = id
		}
		if err := br.Close(); err != nil {
			return err
		}
		// Plan pipes.
		type row struct {
			d  *DistrictPlan
			it planItem
		}
		var rows []row
		for _, d := range p.Districts {
			for _, it := range d.items {
				rows = append(rows, row{d, it})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"patrol_plan_pipes"},
			[]string{"plan_date", "pipe_id", "route_id", "district", "grade", "every_days", "due", "overdue", "length_m"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				q := r.it.pipe
				return []any{day, t.PipeID.At(int(q)), r.d.Routes[r.it.route].ID, r.d.District, c.class[q].Grade,
					int32(c.class[q].EveryDays), r.it.due.Time(), r.it.overdue, t.PipeLen[q]}, nil
			})); err != nil {
			return fmt.Errorf("copy plan pipes: %w", err)
		}
		// First due days of pipes never seen before: their due day in this plan.
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE patrol_new_state (pipe_id text, first_due date) ON COMMIT DROP"); err != nil {
			return err
		}
		var fresh []row
		for _, r := range rows {
			if r.it.fresh {
				fresh = append(fresh, r)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"patrol_new_state"}, []string{"pipe_id", "first_due"},
			pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
				return []any{t.PipeID.At(int(fresh[i].it.pipe)), fresh[i].it.due.Time()}, nil
			})); err != nil {
			return fmt.Errorf("copy new state: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO patrol_pipe_state (pipe_id, first_due) SELECT pipe_id, first_due FROM patrol_new_state
			ON CONFLICT (pipe_id) DO NOTHING`)
		return err
	})
	if err != nil {
		return fmt.Errorf("patrol: save plan of %s: %w", opt.Day, err)
	}
	return nil
}

// encodeLegs renders legs as the parallel arrays of patrol_routes, and
// the lines of the road legs as one WKB MultiLineString (nil: none).
func encodeLegs(t *gis.Topology, legs []route.Leg) (pipe []string, from, to, length []float64, kinds string, roads []byte) {
	var sb strings.Builder
	var ml orb.MultiLineString
	pipe = make([]string, len(legs))
	from = make([]float64, len(legs))
	to = make([]float64, len(legs))
	length = make([]float64, len(legs))
	for i, lg := range legs {
		length[i] = lg.Length
		switch {
		case lg.IsRoad():
			from[i], to[i] = lg.A[0], lg.A[1]
			sb.WriteByte('R')
			ml = append(ml, lg.Line)
		case lg.Pipe < 0:
			from[i], to[i] = lg.A[0], lg.A[1]
			sb.WriteByte('O')
		case lg.Patrol:
			pipe[i], from[i], to[i] = t.PipeID.At(int(lg.Pipe)), lg.From, lg.To
			sb.WriteByte('P')
		default:
			pipe[i], from[i], to[i] = t.PipeID.At(int(lg.Pipe)), lg.From, lg.To
			sb.WriteByte('W')
		}
	}
	if len(ml) > 0 {
		roads, _ = wkb.Marshal(ml) // cannot fail for a MultiLineString
	}
	return pipe, from, to, length, sb.String(), roads
}
