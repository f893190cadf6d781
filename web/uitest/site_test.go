package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
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

// signIn opens url (a page of the site) in a browser, signs in as name on
// the sign-in page it is sent to and waits for the map UI to be ready.
func signIn(t *testing.T, url, name, password string, o Options) *Page {
	t.Helper()
	p := Open(t, url, o)
	p.WaitFor(`!!document.querySelector('#login-form')`, 20*time.Second)
	p.SetValue("#login-name", name)
	p.SetValue("#login-password", password)
	p.ClickOn("#login-submit")
	p.WaitAfterNavigation(`window.__waterline && window.__waterline.ready === true`, 30*time.Second)
	p.WaitIdle()
	return p
}

// openJobInStore opens an emergency repair job for a leak in the middle
// of pipe through the site's repair.Jobs (no sign-in needed).
func openJobInStore(t *testing.T, s *site, pipe string) int64 {
	t.Helper()
	at := 0.5
	jb, err := s.jobs.Open(context.Background(), repair.OpenRequest{Leak: repair.PlanRequest{Pipe: pipe, At: &at}, By: "调度员",
		Order: repair.WorkOrder{Source: "热线电话", Content: "路面冒水", Address: "解放路 11号"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return jb.ID
}

// pngFile writes a w×h picture (a busy pattern that does not compress
// to nothing) as name in a temporary directory and returns its path.
func pngFile(t *testing.T, name string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8(x ^ y), 255})
		}
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
