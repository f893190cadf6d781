package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
	"github.com/waterline-gis/waterline/web/auth"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// authSite is the whole service with sign-in on a generated city of two
// districts: a user and an API token for every role, today's patrol
// routes, an anomaly in each district, two repair jobs (the crew member is
// on the first), a plan whose critical customers have phones.
type authSite struct {
	t        *testing.T
	ts       *httptest.Server
	srv      *web.Server
	st       *store.Store
	live     *store.Live
	users    *auth.Service
	jobs     *repair.Jobs
	ds       *gis.Dataset
	logs     *syncBuffer
	tokens   map[string]string // user name → API token
	passwd   string            // every user's password
	distA    string            // the district manager's
	distB    string
	routeA   int64 // patrol routes of distA and distB
	routeB   int64
	anomA    int64
	anomB    int64
	jobA     int64 // the crew member is on jobA's crew, not jobB's
	jobB     int64
	pipe     string   // a leak whose plan has critical customers
	critName string   // the name of one of them
	phones   []string // phones of customers of that plan
	spare    int64    // an API token that may be revoked
	limits   *web.Limits
	baseURL  string
}

// The users of an authSite: one per role.
var siteUsers = []struct {
	name string
	role auth.Role
}{
	{"admin1", auth.Admin}, {"gis1", auth.GIS}, {"dispatch1", auth.Dispatcher},
	{"manager1", auth.DistrictManager}, {"crew1", auth.Crew}, {"viewer1", auth.Viewer},
}

func roleUser(r auth.Role) string {
	for _, u := range siteUsers {
		if u.role == r {
			return u.name
		}
	}
	return ""
}

type siteOptions struct {
	limits *web.Limits
}

func newAuthSite(t *testing.T, o siteOptions) *authSite {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds, err := gen.Generate(gen.Options{Pipes: 1200, Seed: 11, Districts: 2, SRID: 4548})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds.Customers { // more hospitals than a city has, so that plans show some
		if i%25 == 0 {
			ds.Customers[i].Category, ds.Customers[i].Critical = "hospital", true
		}
	}
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "gen", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := mustLoc(t)
	planner := &repair.Planner{Store: st, Live: live, NoticeRules: repair.DefaultNoticeRules(), TZ: loc}
	jobs, err := repair.NewJobs(repair.JobsConfig{Store: st, Planner: planner, Rules: repair.DefaultRules(), TZ: loc, Replica: "test"})
	if err != nil {
		t.Fatal(err)
	}
	planner.HeldClosed = jobs.HeldClosed
	psvc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(), TZ: loc, Replica: "test"})
	if err != nil {
		t.Fatal(err)
	}
	users := auth.New(pool, auth.Options{Hash: auth.TestHashParams()})
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := web.New(web.Config{Store: st, Live: live, Tiles: tiles.New(pool, 4548, 16<<20), Planner: planner, TZ: loc,
		Patrol: psvc, Jobs: jobs, Auth: users, Log: log, Limits: o.limits, Replica: "test"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	s := &authSite{t: t, ts: ts, srv: srv, st: st, live: live, users: users, jobs: jobs, ds: ds, logs: logs, tokens: map[string]string{},
		passwd: "correct horse battery", distA: "D001", distB: "D002", baseURL: ts.URL}

	for _, u := range siteUsers {
		nu := auth.NewUser{Name: u.name, Role: u.role, Password: s.passwd, DisplayName: "user " + u.name}
		if u.role == auth.DistrictManager {
			nu.Districts = []string{s.distA}
		}
		if _, err := users.AddUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
		tok, _, err := users.CreateToken(ctx, u.name, "test", nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[u.name] = tok
	}
	_, spare, err := users.CreateToken(ctx, "viewer1", "spare", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	s.spare = spare.ID

	// Today's patrol plan, and an anomaly in each district.
	code, b := s.call("admin1", "POST", "/api/patrol/plan", `{"save": true}`)
	if code != 200 {
		t.Fatalf("patrol plan: %d %s", code, b)
	}
	for _, d := range []string{s.distA, s.distB} {
		code, b := s.call("admin1", "GET", "/api/patrol/routes?district="+d, "")
		var rs struct {
			Routes []struct {
				ID int64 `json:"id"`
			} `json:"routes"`
		}
		json.Unmarshal(b, &rs) //nolint:errcheck
		if code != 200 || len(rs.Routes) == 0 {
			t.Fatalf("routes of %s: %d %s", d, code, b)
		}
		lon, lat := s.districtPoint(d)
		code, b = s.call("admin1", "POST", "/api/patrol/anomalies", fmt.Sprintf(
			`{"type":"leak","lon":%f,"lat":%f,"found_at":%q,"district":%q,"manager":"m","note":"water on the road"}`,
			lon, lat, time.Now().Add(-time.Minute).Format(time.RFC3339), d))
		if code != 201 {
			t.Fatalf("anomaly in %s: %d %s", d, code, b)
		}
		var an struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(b, &an) //nolint:errcheck
		if d == s.distA {
			s.routeA, s.anomA = rs.Routes[0].ID, an.ID
		} else {
			s.routeB, s.anomB = rs.Routes[0].ID, an.ID
		}
	}

	// A leak with critical customers; their names and phones.
	for _, p := range ds.Pipes {
		if p.Status != gis.StatusInService {
			continue
		}
		resp, err := planner.Plan(ctx, repair.PlanRequest{Pipe: p.ID})
		if err != nil || len(resp.Critical) == 0 || resp.Critical[0].Name == "" {
			continue
		}
		s.pipe, s.critName = p.ID, resp.Critical[0].Name
		infos, err := st.Customers(ctx, resp.Customers)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range infos {
			if c.Phone != "" {
				s.phones = append(s.phones, c.Phone)
			}
		}
		break
	}
	if len(s.phones) == 0 {
		t.Fatal("no plan with critical customers and phones in the generated city")
	}

	// Two repair jobs; crew1 is on the first.
	for i := range 2 {
		code, b := s.call("dispatch1", "POST", "/api/repair/jobs", fmt.Sprintf(
			`{"leak":{"pipe":%q},"order":{"source":"hotline","content":"water on the road","address":"经十路 %d号","contact":"李女士 13912345678","reporter":"李女士"},"by":"someone"}`, s.pipe, i+1))
		if code != 201 {
			t.Fatalf("open job: %d %s", code, b)
		}
		var jb struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(b, &jb) //nolint:errcheck
		if i == 0 {
			s.jobA = jb.ID
		} else {
			s.jobB = jb.ID
		}
	}
	if code, b := s.call("dispatch1", "PUT", fmt.Sprintf("/api/repair/jobs/%d/crew", s.jobA), `{"crew":["crew1"]}`); code != 200 {
		t.Fatalf("assign crew: %d %s", code, b)
	}
	return s
}

// districtPoint returns the lon/lat of the middle of a pipe of district d.
func (s *authSite) districtPoint(d string) (float64, float64) {
	s.t.Helper()
	for _, p := range s.ds.Pipes {
		if p.District == d && p.Status == gis.StatusInService && len(p.Geom) >= 2 {
			a, b := p.Geom[0], p.Geom[len(p.Geom)-1]
			lons, lats, err := s.st.ToLonLat(context.Background(), []float64{(a[0] + b[0]) / 2}, []float64{(a[1] + b[1]) / 2})
			if err != nil {
				s.t.Fatal(err)
			}
			return lons[0], lats[0]
		}
	}
	s.t.Fatalf("no pipe in %s", d)
	return 0, 0
}

// call sends a request with a user's API token ("" for none) and returns
// the status and body.
func (s *authSite) call(user, method, path, body string) (int, []byte) {
	s.t.Helper()
	res := s.do(user, method, path, body, nil)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (s *authSite) do(user, method, path, body string, hdr http.Header) *http.Response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.baseURL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[user])
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// browser is a cookie-keeping client, signed in as a user through the
// sign-in API, sending the Origin a browser sends.
type browser struct {
	s    *authSite
	c    *http.Client
	csrf string
}

func (s *authSite) signIn(user string) *browser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, body := b.send("POST", "/api/login", fmt.Sprintf(`{"name":%q,"password":%q}`, user, s.passwd), nil)
	if code != 200 {
		s.t.Fatalf("sign in %s: %d %s", user, code, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(body, &me) //nolint:errcheck
	b.csrf = me.CSRF
	return b
}

// send makes a same-origin request (Origin and Sec-Fetch-Site as a
// browser sets them); extra headers override.
func (b *browser) send(method, path, body string, hdr http.Header) (int, []byte) {
	b.s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.s.baseURL+path, rd)
	if err != nil {
		b.s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("Origin", b.s.baseURL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// errCode returns the "error.code" of a JSON error body, or "".
func errCode(b []byte) string {
	var m struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(b, &m) //nolint:errcheck
	return m.Error.Code
}
