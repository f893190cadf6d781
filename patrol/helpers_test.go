package patrol_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/patroltest"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

func shanghai(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	svc   *patrol.Service
	st    *store.Store
	live  *store.Live
	pool  *pgxpool.Pool
	clock *clock
	loc   *time.Location
	ds    *gis.Dataset
}

// newEnv imports a grid city into a fresh PostGIS database and returns a
// patrol service on it whose clock reads 05:30 on 2 March 2026, Shanghai.
func newEnv(t testing.TB, o patroltest.Options, rules func(*patrol.Rules)) *env {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, patroltest.SRID)
	st := store.New(pool, patroltest.SRID, gis.DefaultGradeRules(), nil)
	ds := patroltest.City(o)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := shanghai(t)
	e := &env{st: st, live: live, pool: pool, loc: loc, ds: ds, clock: &clock{t: time.Date(2026, 3, 2, 5, 30, 0, 0, loc)}}
	r := patrol.DefaultRules()
	if rules != nil {
		rules(&r)
	}
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: r, TZ: loc,
		Now: e.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) today() schedule.Day { return schedule.DayOf(e.clock.Now(), e.loc) }

// patrolPlanned records every pipe planned on day d as patrolled that day
// at 10:00 (what a perfect day's tracks would record).
func (e *env) patrolPlanned(t testing.TB, d schedule.Day) int64 {
	t.Helper()
	at := d.Start(e.loc).Add(10 * time.Hour)
	tag, err := e.pool.Exec(context.Background(), `INSERT INTO patrol_pipe_state (pipe_id, last_day, last_at, first_due)
		SELECT pipe_id, plan_date, $2, plan_date FROM patrol_plan_pipes WHERE plan_date = $1
		ON CONFLICT (pipe_id) DO UPDATE SET last_day = EXCLUDED.last_day, last_at = EXCLUDED.last_at`, d.Time(), at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO patrol_pipe_days (pipe_id, day, first_at)
		SELECT pipe_id, plan_date, $2 FROM patrol_plan_pipes WHERE plan_date = $1 ON CONFLICT DO NOTHING`, d.Time(), at); err != nil {
		t.Fatal(err)
	}
	return tag.RowsAffected()
}

func errCode(err error) string {
	var ge *gis.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

func count(t testing.TB, e *env, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// gpxOf renders lon/lat points as a GPX track, one point per second of
// walking at 1.2 m/s between consecutive points (at least 1 s).
func gpxOf(pts [][2]float64, start time.Time, dist func(a, b [2]float64) float64) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><trkseg>`)
	t := start
	for i, p := range pts {
		if i > 0 {
			d := dist(pts[i-1], p)
			t = t.Add(time.Duration(max(1, d/1.2)) * time.Second)
		}
		fmt.Fprintf(&b, `<trkpt lat="%.8f" lon="%.8f"><time>%s</time></trkpt>`, p[1], p[0], t.UTC().Format(time.RFC3339))
	}
	b.WriteString(`</trkseg></trk></gpx>`)
	return b.String()
}

// routeCoords reads the lon/lat path of a route's GeoJSON.
func routeCoords(t testing.TB, e *env, id int64) [][2]float64 {
	t.Helper()
	ctx := context.Background()
	v, err := e.svc.Route(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := e.svc.WriteGeoJSON(ctx, &buf, v); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(buf.String()), &fc); err != nil {
		t.Fatal(err)
	}
	var out [][2]float64
	for _, f := range fc.Features {
		if f.Geometry == nil || f.Geometry.Type != "LineString" {
			continue
		}
		var cs [][2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &cs); err != nil {
			t.Fatal(err)
		}
		out = append(out, cs...)
	}
	return out
}
