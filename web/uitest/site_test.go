package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
	"github.com/waterline-gis/waterline/web/auth"
)

// site is the service — shutoff plans, patrol, repair jobs, as-built
// imports — on a network in a fresh PostGIS database, served on a local
// port, on the real clock in the utility's zone (Asia/Shanghai).
type site struct {
	url    string
	st     *store.Store
	ds     *gis.Dataset
	opts   tilestest.GridOptions
	tiles  *tiles.Service
	loc    *time.Location
	patrol *patrol.Service
	jobs   *repair.Jobs
	users  *auth.Service // nil: no sign-in
}

// newSite serves a 12×12 grid (tilestest.Grid, 80 m blocks, four districts).
func newSite(t testing.TB) *site {
	t.Helper()
	o := tilestest.GridOptions{NX: 12, NY: 12, Spacing: 80}
	return serveDataset(t, tilestest.Grid(o), o)
}

// newCitySite serves a generated city of n pipes (gis/gen), the demo's.
func newCitySite(t testing.TB, n int) *site {
	t.Helper()
	ds, err := gen.Generate(gen.Options{Pipes: n, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return serveDataset(t, ds, tilestest.GridOptions{})
}

// siteOptions vary a site.
type siteOptions struct {
	signIn bool // users and sessions (web/auth): the site's users field
}

func serveDataset(t testing.TB, ds *gis.Dataset, o tilestest.GridOptions) *site {
	t.Helper()
	return serveWith(t, ds, o, siteOptions{})
}

func serveWith(t testing.TB, ds *gis.Dataset, o tilestest.GridOptions, so siteOptions) *site {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Format: "test", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	planner := &repair.Planner{Store: st, Live: live, NoticeRules: repair.DefaultNoticeRules(), TZ: loc}
	jobs, err := repair.NewJobs(repair.JobsConfig{Store: st, Planner: planner, Rules: repair.DefaultRules(), TZ: loc, Replica: "uitest"})
	if err != nil {
		t.Fatal(err)
	}
	planner.HeldClosed = jobs.HeldClosed
	ptl, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(), TZ: loc})
	if err != nil {
		t.Fatal(err)
	}
	ts := tiles.New(pool, 4548, 64<<20)
	cfg := web.Config{
		Store: st, Live: live, Tiles: ts, Planner: planner, Jobs: jobs, Patrol: ptl, TZ: loc,
	}
	s := &site{st: st, ds: ds, opts: o, tiles: ts, loc: loc, patrol: ptl, jobs: jobs}
	if so.signIn {
		s.users = auth.New(pool, auth.Options{Hash: auth.HashParams{MemoryKiB: 8 << 10, Time: 1, Threads: 1}})
		cfg.Auth = s.users
	}
	srv := web.New(cfg)
	s.url = Serve(t, srv.Handler())
	return s
}

// call sends a JSON request to the site's API and decodes the answer into
// out (nil: ignore it); it returns the status.
func (s *site) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode
}
