package repair

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

const sharedData = "../../shared/data"

// fixture is the Giswater sample (EPSG:25831) in a fresh PostGIS database
// with a Jobs on it.
type fixture struct {
	st      *store.Store
	live    *store.Live
	planner *Planner
	jobs    *Jobs
	loc     *time.Location
}

func newFixture(t testing.TB, cfg JobsConfig) *fixture {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, "giswater/network.geojson"))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	defer f.Close()
	ds, _, err := netjson.Read(f, netjson.Options{Name: "network.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pool, _ := testdb.New(t, 25831)
	st := store.New(pool, 25831, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "network.geojson", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := shanghai(t)
	pl := &Planner{Store: st, Live: live, NoticeRules: DefaultNoticeRules(), TZ: loc}
	cfg.Store, cfg.Planner, cfg.TZ = st, pl, loc
	if cfg.Rules == (Rules{}) {
		cfg.Rules = DefaultRules()
	}
	jobs, err := NewJobs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pl.HeldClosed = jobs.HeldClosed
	return &fixture{st: st, live: live, planner: pl, jobs: jobs, loc: loc}
}

func (fx *fixture) at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, fx.loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// emergency is an open request for a leak on pipe.
func emergency(pipe string) OpenRequest {
	return OpenRequest{Leak: PlanRequest{Pipe: pipe}, By: "调度员 王",
		Order: WorkOrder{Source: "96111 hotline", Address: "Carrer de Sant Ramon 176", Contact: "李女士 13800000000",
			Reporter: "李女士", Content: "water bubbling from the pavement", FaultCategory: "main leak", ResponsibleUnit: "district 2 crew"}}
}

func (fx *fixture) open(t testing.TB, req OpenRequest, now time.Time) *Job {
	t.Helper()
	jb, err := fx.jobs.Open(context.Background(), req, now)
	if err != nil {
		t.Fatalf("open %s: %v", req.Leak.Pipe, err)
	}
	return jb
}

func (fx *fixture) record(t testing.TB, id int64, m Milestone, at, now time.Time) *RecordResult {
	t.Helper()
	res, err := fx.jobs.Record(context.Background(), id, RecordRequest{Milestone: m, At: &at, By: "crew 3"}, now)
	if err != nil {
		t.Fatalf("record %s on job %d: %v", m, id, err)
	}
	return res
}

// wantErr checks err is a *gis.Error of kind and code.
func wantErr(t testing.TB, what string, err error, kind gis.ErrorKind, code string) {
	t.Helper()
	var ge *gis.Error
	if !errors.As(err, &ge) || ge.Kind != kind || ge.Code != code {
		t.Errorf("%s: got %v, want %s (kind %d)", what, err, code, kind)
	}
}

// snapshot is a job as stored, for "unchanged" checks.
func (fx *fixture) snapshot(t testing.TB, id int64, now time.Time) string {
	t.Helper()
	jb, err := fx.jobs.Get(context.Background(), id, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jb)
	return string(b)
}
