// Package patrol plans who walks which pipes when, and records proof that
// they did: each pipe's due days from its grade's interval (calendar days
// in the utility's time zone), balanced daily workloads (patrol/schedule),
// daily routes per district split among its managers (patrol/route on the
// Rural Postman solver patrol/rpp), GPS tracks matched against the pipes
// (patrol/track), anomaly reports with photos, and the reports built on
// them. The morning job plans every district's day once across replicas
// (store.RunOnce).
//
// Errors meant for the user are *gis.Error (kinds Invalid, NotFound,
// Conflict, Unavailable, with stable "patrol."/"track."/"anomaly."… codes);
// others are internal and wrapped with context.
package patrol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/patrol/route"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// Config wires a Service. Store, Live and TZ are required.
type Config struct {
	Store  *store.Store
	Live   *store.Live
	Grades gis.GradeRules // grade and interval of each pipe (GradeRules.Classify)
	Rules  Rules
	TZ     *time.Location // the utility's zone: days and displayed times
	Log    *slog.Logger
	Now    func() time.Time // the clock; nil = time.Now
	// Replica names this process in job run records (e.g. the host name).
	Replica string
	// OnLeak, if set, is called after a leak report is recorded (e.g. to
	// open a repair job); the id it returns is stored with the report. An
	// error is logged, not returned: the report itself is kept.
	OnLeak func(ctx context.Context, a *Anomaly) (string, error)
}

// Service is the patrol planning service used by the HTTP layer, the CLI
// and the scheduled job. It is safe for concurrent use; all state is in
// the database, except a per-network-version cache of pipe attributes.
type Service struct {
	cfg Config
	cat atomic.Pointer[catalog]
	mu  sync.Mutex // serialises catalog loads
	// The road graph of the last roads version seen (nil: not loaded).
	roads  atomic.Pointer[roadGraph]
	roadMu sync.Mutex // serialises road loads
}

// roadGraph is the noded road network of one roads version.
type roadGraph struct {
	version int64
	roads   *route.Roads // nil when no road is imported
}

// roadGraph returns the road graph to deadhead on under the rules: nil
// with deadhead = "pipes", or "auto" while no road network is imported.
// The graph is loaded once per roads version (store.RoadsVersion, read at
// each call: a road import on any replica is seen by the next plan).
// Errors: Unavailable "roads.none" with deadhead = "roads" and no roads.
func (s *Service) roadGraph(ctx context.Context) (*roadGraph, error) {
	if s.cfg.Rules.Deadhead == "pipes" {
		return &roadGraph{}, nil
	}
	v, err := s.cfg.Store.RoadsVersion(ctx)
	if err != nil {
		return nil, err
	}
	g := s.roads.Load()
	if g == nil || g.version != v {
		s.roadMu.Lock()
		defer s.roadMu.Unlock()
		if g = s.roads.Load(); g == nil || g.version != v {
			start := time.Now()
			lines, lv, err := s.cfg.Store.LoadRoads(ctx)
			if err != nil {
				return nil, err
			}
			rl := make([]route.RoadLine, len(lines))
			for i, l := range lines {
				rl[i] = route.RoadLine{Geom: l.Geom, Layer: l.Layer}
			}
			g = &roadGraph{version: lv}
			if len(rl) > 0 {
				g.roads = route.NewRoads(rl)
				s.cfg.Log.Info("road graph loaded", "roads_version", lv, "lines", len(rl), "nodes", g.roads.NumNodes(),
					"edges", g.roads.NumEdges(), "elapsed", time.Since(start))
			}
			s.roads.Store(g)
		}
	}
	if g.roads == nil && s.cfg.Rules.Deadhead == "roads" {
		return nil, gis.Errorf(gis.Unavailable, "roads.none", "deadhead = \"roads\" but no road network is imported; run waterline import --roads FILE")
	}
	return g, nil
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Live == nil || cfg.TZ == nil {
		return nil, errors.New("patrol: Store, Live and TZ are required")
	}
	if err := cfg.Rules.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Grades.Validate(); err != nil {
		return nil, fmt.Errorf("patrol: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Replica == "" {
		cfg.Replica = "waterline"
	}
	return &Service{cfg: cfg}, nil
}

// Rules are the service's patrol rules.
func (s *Service) Rules() Rules { return s.cfg.Rules }

// TZ is the utility's time zone.
func (s *Service) TZ() *time.Location { return s.cfg.TZ }

// Today is the current calendar day in the utility's zone.
func (s *Service) Today() schedule.Day { return schedule.DayOf(s.cfg.Now(), s.cfg.TZ) }

func (s *Service) local(t time.Time) time.Time { return t.In(s.cfg.TZ) }

// catalog is what planning needs of the network, per network version:
// each pipe's district, class and phase, and the walkable graph.
type catalog struct {
	net      *gis.Network
	walk     *route.Net
	version  int64
	district []int32 // per pipe: index into districts
	dists    []string
	distIdx  map[string]int32
	class    []gis.PipeClass
	phase    []int32
	pipesOf  [][]int32 // walkable pipes per district, by index
}

// catalog returns the catalog of the current network, loading it when the
// network version changed.
func (s *Service) catalog(ctx context.Context) (*catalog, error) {
	n := s.cfg.Live.Network()
	if n == nil {
		return nil, gis.Errorf(gis.Unavailable, "network.not_loaded", "the network is not loaded yet")
	}
	if c := s.cat.Load(); c != nil && c.version == n.Version {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 0; try < 3; try++ {
		n = s.cfg.Live.Network()
		if c := s.cat.Load(); c != nil && c.version == n.Version {
			return c, nil
		}
		c, err := s.loadCatalog(ctx, n)
		if errors.Is(err, errVersionMoved) {
			if err := s.cfg.Live.Reload(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		s.cat.Store(c)
		return c, nil
	}
	return nil, gis.Errorf(gis.Unavailable, "network.changing", "the network is being changed; try again")
}

var errVersionMoved = errors.New("patrol: network version moved")

func (s *Service) loadCatalog(ctx context.Context, n *gis.Network) (*catalog, error) {
	start := time.Now()
	t := n.Topo
	np := t.NumPipes()
	c := &catalog{net: n, version: n.Version, district: make([]int32, np), class: make([]gis.PipeClass, np),
		distIdx: map[string]int32{}}
	tx, err := s.cfg.Store.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("patrol: load pipes: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var version int64
	if err := tx.QueryRow(ctx, "SELECT version FROM network_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("patrol: load pipes: %w", err)
	}
	if version != n.Version {
		return nil, errVersionMoved
	}
	rows, err := tx.Query(ctx, "SELECT seq, id, district, dn, role, crossing FROM pipes ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("patrol: load pipes: %w", err)
	}
	var (
		seq                    int32
		id, dist, role, crossN string
		dn                     int32
	)
	k := 0
	_, err = pgx.ForEachRow(rows, []any{&seq, &id, &dist, &dn, &role, &crossN}, func() error {
		if int(seq) != k || k >= np || t.PipeID.At(k) != id {
			return errVersionMoved
		}
		d, ok := c.distIdx[dist]
		if !ok {
			d = int32(len(c.dists))
			c.distIdx[dist] = d
			c.dists = append(c.dists, dist)
		}
		c.district[k] = d
		c.class[k] = s.cfg.Grades.Classify(int(dn), role, crossN)
		k++
		return nil
	})
	if err != nil {
		if errors.Is(err, errVersionMoved) {
			return nil, err
		}
		return nil, fmt.Errorf("patrol: load pipes: %w", err)
	}
	if k != np {
		return nil, errVersionMoved
	}
	c.walk = route.NewNet(t)
	c.pipesOf = make([][]int32, len(c.dists))
	sp := make([]schedule.Pipe, np)
	for p := int32(0); int(p) < np; p++ {
		if !c.walk.Walkable(p) {
			continue
		}
		c.pipesOf[c.district[p]] = append(c.pipesOf[c.district[p]], p)
		mid := c.walk.Midpoint(p)
		sp[p] = schedule.Pipe{Group: c.district[p], Every: int32(c.class[p].EveryDays), Weight: t.PipeLen[p], X: mid[0], Y: mid[1]}
	}
	if s.cfg.Rules.Balance {
		c.phase = schedule.Phases(sp)
	} else {
		c.phase = schedule.NaivePhases(sp)
	}
	s.cfg.Log.Info("patrol catalog loaded", "version", n.Version, "pipes", np, "districts", len(c.dists), "elapsed", time.Since(start))
	return c, nil
}

// pipeState is each pipe's last patrol day and first due day (NoDay when
// unknown), by pipe index.
type pipeState struct {
	last, firstDue []schedule.Day
	known          []bool // has a row in patrol_pipe_state
}

// loadState reads the patrol state of the given pipes (all when nil).
func (s *Service) loadState(ctx context.Context, c *catalog, pipes []int32) (*pipeState, error) {
	np := c.net.Topo.NumPipes()
	st := &pipeState{last: make([]schedule.Day, np), firstDue: make([]schedule.Day, np), known: make([]bool, np)}
	for i := range st.last {
		st.last[i], st.firstDue[i] = schedule.NoDay, schedule.NoDay
	}
	var rows pgx.Rows
	var err error
	if pipes == nil {
		rows, err = s.cfg.Store.Pool().Query(ctx, "SELECT pipe_id, last_day, first_due FROM patrol_pipe_state")
	} else {
		ids := make([]string, len(pipes))
		for i, p := range pipes {
			ids[i] = c.net.Topo.PipeID.At(int(p))
		}
		rows, err = s.cfg.Store.Pool().Query(ctx, "SELECT pipe_id, last_day, first_due FROM patrol_pipe_state WHERE pipe_id = ANY($1)", ids)
	}
	if err != nil {
		return nil, fmt.Errorf("patrol: load patrol state: %w", err)
	}
	var id string
	var last *time.Time
	var first time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &last, &first}, func() error {
		p, ok := c.net.PipeIndex(id)
		if !ok {
			return nil
		}
		st.known[p] = true
		st.firstDue[p] = schedule.FromTime(first)
		if last != nil {
			st.last[p] = schedule.FromTime(*last)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: load patrol state: %w", err)
	}
	return st, nil
}

// status is pipe p's status on day d.
func (c *catalog) status(st *pipeState, p int32, d schedule.Day) schedule.Status {
	return schedule.StatusOn(d, int32(c.class[p].EveryDays), c.phase[p], st.last[p], st.firstDue[p])
}

// districtPipes returns the walkable pipes of district id.
func (c *catalog) districtPipes(id string) ([]int32, bool) {
	d, ok := c.distIdx[id]
	if !ok {
		return nil, false
	}
	return c.pipesOf[d], true
}

// toStorage transforms WGS84 lon/lat into the storage CRS (PostGIS/PROJ).
func (s *Service) toStorage(ctx context.Context, lon, lat []float64) ([]orb.Point, error) {
	if len(lon) == 0 {
		return nil, nil
	}
	var xs, ys []float64
	err := s.cfg.Store.Pool().QueryRow(ctx, `SELECT array_agg(ST_X(g) ORDER BY i), array_agg(ST_Y(g) ORDER BY i) FROM (
		SELECT i, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), 4326), $3::int) AS g
		FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i)) t`, lon, lat, s.cfg.Store.SRID()).Scan(&xs, &ys)
	if err != nil {
		return nil, fmt.Errorf("patrol: transform to EPSG:%d: %w", s.cfg.Store.SRID(), err)
	}
	out := make([]orb.Point, len(xs))
	for i := range xs {
		out[i] = orb.Point{xs[i], ys[i]}
	}
	return out, nil
}

// lonLat transforms storage-CRS points to WGS84, in one round trip.
func (s *Service) lonLat(ctx context.Context, pts []orb.Point) ([]orb.Point, error) {
	xs := make([]float64, len(pts))
	ys := make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	lon, lat, err := s.cfg.Store.ToLonLat(ctx, xs, ys)
	if err != nil {
		return nil, err
	}
	out := make([]orb.Point, len(lon))
	for i := range lon {
		out[i] = orb.Point{lon[i], lat[i]}
	}
	return out, nil
}

// splitManagers reads a districts.manager value: names separated by
// commas (ASCII or full-width), enumeration commas or semicolons.
func splitManagers(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",，、;；/", r) })
	var out []string
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
