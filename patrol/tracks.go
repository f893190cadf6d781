package patrol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol/schedule"
	"github.com/waterline-gis/waterline/patrol/track"
)

// TrackUpload is an uploaded GPS track and what it is proof of.
type TrackUpload struct {
	District string // required unless RouteID is given
	Manager  string // default: the route's manager
	RouteID  int64  // optional: the route walked (gives district and manager)
	// Body is the GPX or GeoJSON file; at most Rules.TrackMaxBytes are read.
	Body io.Reader
}

// PipeCover is what a track covered of one pipe.
type PipeCover struct {
	Pipe      string    `json:"pipe"`
	District  string    `json:"district"`
	LengthM   float64   `json:"length_m"`
	CoveredM  float64   `json:"covered_m"`
	Fraction  float64   `json:"fraction"`
	Patrolled bool      `json:"patrolled"` // Fraction reached the rules' cover_fraction
	At        time.Time `json:"at"`        // when the track first came within the buffer
}

// TrackResult is a recorded track and what it proved.
type TrackResult struct {
	ID         int64       `json:"id"`
	District   string      `json:"district"`
	Manager    string      `json:"manager"`
	RouteID    *int64      `json:"route_id"`
	Date       string      `json:"date"`
	StartedAt  time.Time   `json:"started_at"`
	EndedAt    time.Time   `json:"ended_at"`
	Format     string      `json:"format"`
	Name       string      `json:"name,omitempty"`
	Points     int         `json:"points"`
	LengthM    float64     `json:"length_m"`
	Patrolled  int         `json:"patrolled"` // pipes counted as patrolled
	PatrolledM float64     `json:"patrolled_m"`
	Partial    int         `json:"partial"` // pipes seen, but less than cover_fraction of them
	Pipes      []PipeCover `json:"pipes"`
	// Coverage is the day's coverage of the route (or of the district)
	// after this track, with the pipes still missed.
	Coverage *Coverage `json:"coverage,omitempty"`
	MatchMS  float64   `json:"match_ms"`
}

// UploadTrack validates a track, matches it against the pipes and records
// what it proved, in one transaction; nothing is recorded from a rejected
// track. Errors (*gis.Error): Invalid "track.*" for a bad file (see
// patrol/track), "track.no_district", "track.far_from_district" when too
// few of its points are near the district's pipes; NotFound
// "district.not_found", "route.not_found"; Conflict "track.duplicate"
// when the same track was already recorded.
func (s *Service) UploadTrack(ctx context.Context, up TrackUpload) (*TrackResult, error) {
	r := s.cfg.Rules
	body, err := io.ReadAll(io.LimitReader(up.Body, int64(r.TrackMaxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("patrol: read track: %w", err)
	}
	if len(body) > r.TrackMaxBytes {
		return nil, gis.Errorf(gis.Invalid, "track.too_large", "the track file is larger than %d bytes", r.TrackMaxBytes)
	}
	tr, err := track.Parse(bytes.NewReader(body), track.Options{MaxPoints: r.TrackMaxPoints, Loc: s.cfg.TZ})
	if err != nil {
		return nil, err
	}
	var routeID *int64
	if up.RouteID != 0 {
		var dist, mgr string
		err := s.cfg.Store.Pool().QueryRow(ctx, "SELECT district, manager FROM patrol_routes WHERE id = $1", up.RouteID).Scan(&dist, &mgr)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, gis.Errorf(gis.NotFound, "route.not_found", "there is no route %d", up.RouteID)
		}
		if err != nil {
			return nil, fmt.Errorf("patrol: track route: %w", err)
		}
		if up.District != "" && up.District != dist {
			return nil, gis.Errorf(gis.Invalid, "track.district_mismatch", "route %d is in district %s, not %s", up.RouteID, dist, up.District)
		}
		up.District = dist
		if up.Manager == "" {
			up.Manager = mgr
		}
		id := up.RouteID
		routeID = &id
	}
	if up.District == "" {
		return nil, gis.Errorf(gis.Invalid, "track.no_district", "say which district the track patrols (district, or route)")
	}
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	dist, ok := c.distIdx[up.District]
	if !ok {
		return nil, gis.Errorf(gis.NotFound, "district.not_found", "district %q has no in-service pipes", up.District)
	}
	lon := make([]float64, len(tr.Points))
	lat := make([]float64, len(tr.Points))
	times := make([]time.Time, len(tr.Points))
	for i, p := range tr.Points {
		lon[i], lat[i], times[i] = p.Lon, p.Lat, p.T
	}
	xy, err := s.toStorage(ctx, lon, lat)
	if err != nil {
		return nil, err
	}
	if share := c.nearShare(dist, xy, r.FarM); share < r.NearShare {
		return nil, gis.Errorf(gis.Invalid, "track.far_from_district",
			"only %.0f%% of the track's points are within %.0f m of district %s's pipes (at least %.0f%% needed): is it the right district, and the right coordinates (WGS84 lon/lat)?",
			share*100, r.FarM, up.District, r.NearShare*100)
	}
	started, ended := tr.Start(), tr.End()
	var dup int64
	err = s.cfg.Store.Pool().QueryRow(ctx, `SELECT id FROM patrol_tracks WHERE district = $1 AND manager = $2 AND started_at = $3
		AND ended_at = $4 AND points = $5`, up.District, up.Manager, started, ended, len(xy)).Scan(&dup)
	if err == nil {
		return nil, gis.Errorf(gis.Conflict, "track.duplicate", "this track was already recorded as track %d", dup)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("patrol: track duplicate check: %w", err)
	}

	t0 := time.Now()
	m := track.NewMatcher(xy, times, r.BufferM, r.MaxGapM)
	topo := c.net.Topo
	res := &TrackResult{District: up.District, Manager: up.Manager, RouteID: routeID, Format: tr.Format, Name: tr.Name,
		Date: schedule.DayOf(started, s.cfg.TZ).String(), StartedAt: s.local(started), EndedAt: s.local(ended),
		Points: len(xy), LengthM: round1(m.Length()), Pipes: []PipeCover{}}
	c.walk.PipesIn(m.Bound(), func(q int32) bool {
		cov, at := m.Cover(topo.PipeLine(int(q)))
		if cov <= 0.01 {
			return true
		}
		L := topo.PipeLen[q]
		frac := 1.0
		if L > 0 {
			frac = math.Min(1, cov/L)
		}
		pc := PipeCover{Pipe: topo.PipeID.At(int(q)), District: c.dists[c.district[q]], LengthM: round1(L), CoveredM: round1(cov),
			Fraction: math.Round(frac*1000) / 1000, Patrolled: frac >= r.CoverFraction-1e-9, At: s.local(at)}
		if pc.Patrolled {
			res.Patrolled++
			res.PatrolledM += L
		} else {
			res.Partial++
		}
		res.Pipes = append(res.Pipes, pc)
		return true
	})
	res.MatchMS = ms(time.Since(t0))
	res.PatrolledM = round1(res.PatrolledM)
	sort.Slice(res.Pipes, func(a, b int) bool { return res.Pipes[a].At.Before(res.Pipes[b].At) })

	srid := s.cfg.Store.SRID()
	xs, ys := make([]float64, len(xy)), make([]float64, len(xy))
	for i, p := range xy {
		xs[i], ys[i] = p[0], p[1]
	}
	err = pgx.BeginFunc(ctx, s.cfg.Store.Pool(), func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO patrol_tracks (district, manager, route_id, track_date, started_at, ended_at, format, name,
			points, length_m, patrolled, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
				ST_SetSRID(ST_MakeLine(ARRAY(SELECT ST_MakePoint(x, y) FROM unnest($12::float8[], $13::float8[]) WITH ORDINALITY AS u(x, y, i) ORDER BY i)), $14::int))
			RETURNING id`,
			up.District, up.Manager, routeID, schedule.DayOf(started, s.cfg.TZ).Time(), started, ended, tr.Format, tr.Name,
			len(xy), m.Length(), res.Patrolled, xs, ys, srid).Scan(&res.ID); err != nil {
			return fmt.Errorf("insert track: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"patrol_coverage"}, []string{"track_id", "pipe_id", "covered_m", "fraction", "patrolled", "at"},
			pgx.CopyFromSlice(len(res.Pipes), func(i int) ([]any, error) {
				p := res.Pipes[i]
				return []any{res.ID, p.Pipe, p.CoveredM, float32(p.Fraction), p.Patrolled, p.At}, nil
			})); err != nil {
			return fmt.Errorf("copy coverage: %w", err)
		}
		var ids []string
		var days, ats []time.Time
		for _, p := range res.Pipes {
			if p.Patrolled {
				ids = append(ids, p.Pipe)
				days = append(days, schedule.DayOf(p.At, s.cfg.TZ).Time())
				ats = append(ats, p.At)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO patrol_pipe_days (pipe_id, day, first_at, track_id)
			SELECT pipe_id, day, at, $4 FROM unnest($1::text[], $2::date[], $3::timestamptz[]) AS u(pipe_id, day, at)
			ON CONFLICT (pipe_id, day) DO UPDATE SET
				track_id = CASE WHEN EXCLUDED.first_at < patrol_pipe_days.first_at THEN EXCLUDED.track_id ELSE patrol_pipe_days.track_id END,
				first_at = LEAST(patrol_pipe_days.first_at, EXCLUDED.first_at)`, ids, days, ats, res.ID); err != nil {
			return fmt.Errorf("record pipe days: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO patrol_pipe_state (pipe_id, last_day, last_at, first_due)
			SELECT pipe_id, day, at, day FROM unnest($1::text[], $2::date[], $3::timestamptz[]) AS u(pipe_id, day, at)
			ON CONFLICT (pipe_id) DO UPDATE SET last_day = GREATEST(patrol_pipe_state.last_day, EXCLUDED.last_day),
				last_at = GREATEST(patrol_pipe_state.last_at, EXCLUDED.last_at)`, ids, days, ats); err != nil {
			return fmt.Errorf("record pipe state: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: record track: %w", err)
	}
	day, _ := schedule.ParseDay(res.Date)
	q := CoverageQuery{Day: day, District: up.District}
	if routeID != nil {
		q.RouteID = *routeID
	}
	if res.Coverage, err = s.Coverage(ctx, q); err != nil {
		return nil, err
	}
	return res, nil
}

// nearShare is the share of (a sample of at most 1000 of) the points that
// lie within far metres of a pipe of district dist.
func (c *catalog) nearShare(dist int32, xy []orb.Point, far float64) float64 {
	if len(xy) == 0 {
		return 0
	}
	step := max(1, len(xy)/1000)
	near, n := 0, 0
	for i := 0; i < len(xy); i += step {
		n++
		p := xy[i]
		b := orb.Bound{Min: orb.Point{p[0] - far, p[1] - far}, Max: orb.Point{p[0] + far, p[1] + far}}
		found := false
		c.walk.PipesIn(b, func(q int32) bool {
			if c.district[q] == dist && gis.DistanceToLine(c.net.Topo.PipeLine(int(q)), p) <= far {
				found = true
				return false
			}
			return true
		})
		if found {
			near++
		}
	}
	return float64(near) / float64(n)
}

// TrackSummary lists a recorded track.
type TrackSummary struct {
	ID         int64     `json:"id"`
	District   string    `json:"district"`
	Manager    string    `json:"manager"`
	RouteID    *int64    `json:"route_id"`
	Date       string    `json:"date"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at"`
	UploadedAt time.Time `json:"uploaded_at"`
	Format     string    `json:"format"`
	Points     int       `json:"points"`
	LengthM    float64   `json:"length_m"`
	Patrolled  int       `json:"patrolled"`
}

// Tracks lists the tracks of a day (of one district, or all).
func (s *Service) Tracks(ctx context.Context, day schedule.Day, district string) ([]TrackSummary, error) {
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT id, district, manager, route_id, track_date, started_at, ended_at, uploaded_at,
		format, points, length_m, patrolled FROM patrol_tracks WHERE track_date = $1 AND ($2 = '' OR district = $2) ORDER BY started_at, id`,
		day.Time(), district)
	if err != nil {
		return nil, fmt.Errorf("patrol: tracks: %w", err)
	}
	out := []TrackSummary{}
	var x TrackSummary
	var d time.Time
	_, err = pgx.ForEachRow(rows, []any{&x.ID, &x.District, &x.Manager, &x.RouteID, &d, &x.StartedAt, &x.EndedAt, &x.UploadedAt,
		&x.Format, &x.Points, &x.LengthM, &x.Patrolled}, func() error {
		y := x
		y.Date = schedule.FromTime(d).String()
		y.StartedAt, y.EndedAt, y.UploadedAt = s.local(y.StartedAt), s.local(y.EndedAt), s.local(y.UploadedAt)
		y.LengthM = round1(y.LengthM)
		if x.RouteID != nil {
			id := *x.RouteID
			y.RouteID = &id
		}
		out = append(out, y)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: tracks: %w", err)
	}
	return out, nil
}

// Track returns a recorded track with what it covered. Errors: NotFound.
func (s *Service) Track(ctx context.Context, id int64) (*TrackResult, error) {
	res := &TrackResult{ID: id, Pipes: []PipeCover{}}
	var d time.Time
	err := s.cfg.Store.Pool().QueryRow(ctx, `SELECT district, manager, route_id, track_date, started_at, ended_at, format, name, points,
		length_m FROM patrol_tracks WHERE id = $1`, id).Scan(&res.District, &res.Manager, &res.RouteID, &d, &res.StartedAt, &res.EndedAt,
		&res.Format, &res.Name, &res.Points, &res.LengthM)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "track.not_found", "there is no track %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("patrol: track %d: %w", id, err)
	}
	res.Date = schedule.FromTime(d).String()
	res.StartedAt, res.EndedAt = s.local(res.StartedAt), s.local(res.EndedAt)
	res.LengthM = round1(res.LengthM)
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT c.pipe_id, coalesce(p.district, ''), coalesce(p.length_m, 0), c.covered_m, c.fraction,
		c.patrolled, c.at FROM patrol_coverage c LEFT JOIN pipes p ON p.id = c.pipe_id WHERE c.track_id = $1 ORDER BY c.at, c.pipe_id`, id)
	if err != nil {
		return nil, fmt.Errorf("patrol: track %d: %w", id, err)
	}
	var pc PipeCover
	var frac float32
	_, err = pgx.ForEachRow(rows, []any{&pc.Pipe, &pc.District, &pc.LengthM, &pc.CoveredM, &frac, &pc.Patrolled, &pc.At}, func() error {
		x := pc
		x.Fraction = math.Round(float64(frac)*1000) / 1000
		x.At = s.local(x.At)
		x.LengthM = round1(x.LengthM)
		if x.Patrolled {
			res.Patrolled++
			res.PatrolledM += x.LengthM
		} else {
			res.Partial++
		}
		res.Pipes = append(res.Pipes, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: track %d: %w", id, err)
	}
	res.PatrolledM = round1(res.PatrolledM)
	return res, nil
}

// CoverageQuery selects a day's plan: of a district, narrowed to a
// manager or a route (zero values: all).
type CoverageQuery struct {
	Day      schedule.Day
	District string
	Manager  string
	RouteID  int64
}

// Coverage is how much of a day's plan was patrolled (by any track, on
// that day).
type Coverage struct {
	Date           string          `json:"date"`
	District       string          `json:"district,omitempty"`
	Manager        string          `json:"manager,omitempty"`
	RouteID        int64           `json:"route_id,omitempty"`
	PlannedPipes   int             `json:"planned_pipes"`
	PatrolledPipes int             `json:"patrolled_pipes"`
	PlannedM       float64         `json:"planned_m"`
	PatrolledM     float64         `json:"patrolled_m"`
	Rate           float64         `json:"rate"` // by length
	Routes         []RouteCoverage `json:"routes"`
	Missed         []MissedPipe    `json:"missed"`
}

// RouteCoverage is one route's coverage.
type RouteCoverage struct {
	RouteID        int64   `json:"route_id"`
	District       string  `json:"district"`
	Index          int     `json:"index"`
	Manager        string  `json:"manager"`
	PlannedPipes   int     `json:"planned_pipes"`
	PatrolledPipes int     `json:"patrolled_pipes"`
	PlannedM       float64 `json:"planned_m"`
	PatrolledM     float64 `json:"patrolled_m"`
	Rate           float64 `json:"rate"`
}

// MissedPipe is a planned pipe not patrolled on its day.
type MissedPipe struct {
	Pipe     string  `json:"pipe"`
	District string  `json:"district"`
	Grade    string  `json:"grade"`
	LengthM  float64 `json:"length_m"`
	Overdue  bool    `json:"overdue"` // it was already overdue when planned
	RouteID  int64   `json:"route_id"`
	Manager  string  `json:"manager"`
}

// Coverage reports the patrol coverage of a day's plan per route, and the
// pipes missed.
func (s *Service) Coverage(ctx context.Context, q CoverageQuery) (*Coverage, error) {
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT pp.pipe_id, pp.district, pp.grade, pp.length_m, pp.overdue, r.id, r.idx, r.manager,
			d.pipe_id IS NOT NULL
		FROM patrol_plan_pipes pp JOIN patrol_routes r ON r.id = pp.route_id
		LEFT JOIN patrol_pipe_days d ON d.pipe_id = pp.pipe_id AND d.day = pp.plan_date
		WHERE pp.plan_date = $1 AND ($2 = '' OR pp.district = $2) AND ($3 = '' OR r.manager = $3) AND ($4::bigint = 0 OR r.id = $4)
		ORDER BY r.district, r.idx, pp.pipe_id`, q.Day.Time(), q.District, q.Manager, q.RouteID)
	if err != nil {
		return nil, fmt.Errorf("patrol: coverage: %w", err)
	}
	cv := &Coverage{Date: q.Day.String(), District: q.District, Manager: q.Manager, RouteID: q.RouteID, Routes: []RouteCoverage{}, Missed: []MissedPipe{}}
	var m MissedPipe
	var idx int
	var done bool
	byRoute := map[int64]int{}
	_, err = pgx.ForEachRow(rows, []any{&m.Pipe, &m.District, &m.Grade, &m.LengthM, &m.Overdue, &m.RouteID, &idx, &m.Manager, &done}, func() error {
		k, ok := byRoute[m.RouteID]
		if !ok {
			k = len(cv.Routes)
			byRoute[m.RouteID] = k
			cv.Routes = append(cv.Routes, RouteCoverage{RouteID: m.RouteID, District: m.District, Index: idx, Manager: m.Manager})
		}
		rc := &cv.Routes[k]
		rc.PlannedPipes++
		rc.PlannedM += m.LengthM
		cv.PlannedPipes++
		cv.PlannedM += m.LengthM
		if done {
			rc.PatrolledPipes++
			rc.PatrolledM += m.LengthM
			cv.PatrolledPipes++
			cv.PatrolledM += m.LengthM
		} else {
			x := m
			x.LengthM = round1(x.LengthM)
			cv.Missed = append(cv.Missed, x)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: coverage: %w", err)
	}
	for i := range cv.Routes {
		rc := &cv.Routes[i]
		rc.Rate = rate(rc.PatrolledM, rc.PlannedM)
		rc.PlannedM, rc.PatrolledM = round1(rc.PlannedM), round1(rc.PatrolledM)
	}
	cv.Rate = rate(cv.PatrolledM, cv.PlannedM)
	cv.PlannedM, cv.PatrolledM = round1(cv.PlannedM), round1(cv.PatrolledM)
	return cv, nil
}

func rate(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(a/b*1e4) / 1e4
}
