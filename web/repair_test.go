package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
)

// clock is a controllable clock: tests move time, they do not sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// webhook records the escalations POSTed to it.
type webhook struct {
	mu     sync.Mutex
	events []map[string]any
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	json.NewDecoder(r.Body).Decode(&ev) //nolint:errcheck
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
}

func (h *webhook) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...)
}

// repairServer serves the Giswater sample with repair jobs on the clock,
// escalations going to a webhook, and the planner seeing held valves.
func repairServer(t *testing.T, clk *clock) (*httptest.Server, *repair.Jobs, *webhook) {
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
	loc := mustLoc(t)
	hook := &webhook{}
	hs := httptest.NewServer(hook)
	t.Cleanup(hs.Close)
	planner := &repair.Planner{Store: st, Live: live, NoticeRules: repair.DefaultNoticeRules(), TZ: loc}
	jobs, err := repair.NewJobs(repair.JobsConfig{Store: st, Planner: planner, Rules: repair.DefaultRules(), TZ: loc,
		Webhook: hs.URL, Now: clk.Now, Replica: "test"})
	if err != nil {
		t.Fatal(err)
	}
	planner.HeldClosed = jobs.HeldClosed
	srv := web.New(web.Config{Store: st, Live: live, Tiles: tiles.New(pool, 25831, 1<<20), Planner: planner, TZ: loc,
		Jobs: jobs, Now: clk.Now})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, jobs, hook
}

// call sends a JSON request and returns the status and the decoded body.
func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, url, b)
	}
	return res.StatusCode, m
}

func raw(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

// TestRepairJobEndToEnd drives one job over HTTP against PostGIS through
// every milestone, on a controlled clock, across midnight and the quiet
// hours; checks the overdue escalation (stored, listed, sent to the
// webhook), the valves held closed, the timeline, bad input, the report.
func TestRepairJobEndToEnd(t *testing.T) {
	loc := mustLoc(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	clk := &clock{t: at("2026-03-10 21:30")}
	ts, jobs, hook := repairServer(t, clk)
	api := ts.URL + "/api/repair"
	ctx := context.Background()

	code, job := call(t, "POST", api+"/jobs", `{"leak":{"pipe":"2061","at":0.5},"by":"调度员 王",
		"order":{"source":"96111 热线","address":"Carrer de Sant Ramon 176","contact":"李女士 13800000000","reporter":"李女士",
		"content":"路面冒水","fault_category":"管道漏水","responsible_unit":"二片区抢修队","customer_contact_time":"随时"}}`)
	if code != 201 {
		t.Fatalf("open: %d %v", code, job)
	}
	id := int(job["id"].(float64))
	jobURL := fmt.Sprintf("%s/jobs/%d", api, id)
	if strs(job["valves"]) == nil || strings.Join(strs(job["valves"]), ",") != "1088,1090,1109,1111,1114" || job["customers"].(float64) != 241 ||
		job["ordered_at"] != "2026-03-10T21:30:00+08:00" {
		t.Fatalf("opened job: %v", job)
	}
	if next := job["next"].(map[string]any); next["milestone"] != "on_site" || next["due"] != "2026-03-10T22:00:00+08:00" {
		t.Fatalf("next: %v", next)
	}
	record := func(body string) map[string]any {
		t.Helper()
		code, m := call(t, "POST", jobURL+"/milestones", body)
		if code != 201 {
			t.Fatalf("record %s: %d %v", body, code, m)
		}
		return m
	}
	clk.Set(at("2026-03-10 21:33"))
	record(`{"milestone":"dispatched","by":"调度员 王"}`)

	// 22:02: on site is overdue. The every-minute scan escalates it once,
	// the API shows it, the webhook gets it.
	clk.Set(at("2026-03-10 22:02"))
	for i := 0; i < 2; i++ {
		if err := jobs.RunScan(ctx); err != nil {
			t.Fatal(err)
		}
	}
	code, esc := call(t, "GET", api+"/escalations?unresolved=true", "")
	es := esc["escalations"].([]any)
	if code != 200 || len(es) != 1 {
		t.Fatalf("escalations: %d %v", code, esc)
	}
	e := es[0].(map[string]any)
	if e["milestone"] != "on_site" || e["due"] != "2026-03-10T22:00:00+08:00" || e["delivery"] != "sent" || int(e["job_id"].(float64)) != id {
		t.Errorf("escalation: %v", e)
	}
	if got := hook.got(); len(got) != 1 || got[0]["milestone"] != "on_site" || got[0]["event"] != "repair.milestone_overdue" {
		t.Errorf("webhook: %v", got)
	}
	if code, l := call(t, "GET", api+"/jobs?overdue=true&district=dma2", ""); code != 200 || l["total"].(float64) != 1 {
		t.Errorf("overdue list: %d %v", code, l)
	}

	// Bad input: a clear 4xx each, the job unchanged.
	_, before := call(t, "GET", jobURL, "")
	for _, c := range []struct {
		url, body string
		code      int
		err       string
	}{
		{api + "/jobs/999/milestones", `{"milestone":"on_site","by":"x"}`, 404, "job.not_found"},
		{jobURL + "/milestones", `{"milestone":"valves_closed","by":"x"}`, 409, "milestone.out_of_order"},
		{jobURL + "/milestones", `{"milestone":"valves_reopened","by":"x"}`, 409, "milestone.out_of_order"},
		{jobURL + "/milestones", `{"milestone":"on_site","by":"x","at":"2026-03-10T22:10:00+08:00"}`, 400, "milestone.in_future"},
		{jobURL + "/milestones", `{"milestone":"on_site","by":"x","at":"2026-03-10T21:29:00+08:00"}`, 400, "milestone.before_order"},
		{jobURL + "/milestones", `{"milestone":"on_site","by":"x","at":"2026-03-10T13:31:00Z"}`, 409, "milestone.before_prerequisite"},
		{jobURL + "/milestones", `{"milestone":"dispatched","by":"x"}`, 409, "milestone.duplicate"},
		{jobURL + "/milestones", `{"milestone":"lunch","by":"x"}`, 400, "milestone.unknown"},
		{jobURL + "/milestones", `{"milestone":"on_site","by":"x","at":"yesterday"}`, 400, "body.bad_json"},
		{jobURL + "/milestones", `{"milestone":"on_site","by":"x","extra":1}`, 400, "body.bad_json"},
		{api + "/jobs/abc/milestones", `{"milestone":"on_site","by":"x"}`, 404, "route.not_found"},
		{api + "/jobs", `{"leak":{"pipe":"nope"},"by":"x","order":{"source":"s","content":"c"}}`, 404, "pipe.not_found"},
	} {
		code, m := call(t, "POST", c.url, c.body)
		e, _ := m["error"].(map[string]any)
		if code != c.code || e == nil || e["code"] != c.err || e["message"] == "" {
			t.Errorf("%s %s: %d %v, want %d %s", c.url, c.body, code, m, c.code, c.err)
		}
	}
	if _, after := call(t, "GET", jobURL, ""); !jsonEqual(before, after) {
		t.Fatalf("bad input changed the job")
	}

	record(`{"milestone":"on_site","by":"班长 张","note":"DN110 PE 管裂","photo":"https://photos.example/site-1.jpg"}`)
	clk.Set(at("2026-03-10 22:20"))
	record(`{"milestone":"barriers","by":"班长 张"}`)
	clk.Set(at("2026-03-10 22:25"))
	record(`{"milestone":"approved","by":"调度中心 刘"}`)
	clk.Set(at("2026-03-10 22:50"))
	m := record(`{"milestone":"valves_closed","by":"班长 张"}`)
	if v := m["valves"].(map[string]any); strings.Join(strs(v["close"]), ",") != "1088,1090,1109,1111,1114" {
		t.Errorf("valves to close: %v", v)
	}
	// Every plan now sees the held valves shut.
	if code, p := post(t, ts.URL+"/api/shutoffs/plan", `{"pipe":"2079"}`); code != 200 || !strings.Contains(","+strings.Join(strs(p["valves_already_closed"]), ",")+",", ",1090,") {
		t.Errorf("plan beside the job: %d already closed %v", code, p["valves_already_closed"])
	}
	for _, s := range []struct{ at, body string }{
		{"2026-03-11 02:00", `{"milestone":"repaired","by":"班长 张"}`},
		{"2026-03-11 03:30", `{"milestone":"quality_passed","by":"水质 陈","note":"余氯 0.4 mg/L"}`},
	} {
		clk.Set(at(s.at))
		record(s.body)
	}
	clk.Set(at("2026-03-11 03:35"))
	m = record(`{"milestone":"valves_reopened","by":"班长 张"}`)
	if v := m["valves"].(map[string]any); strings.Join(strs(v["open"]), ",") != "1088,1090,1109,1111,1114" || v["keep_closed"] != nil {
		t.Errorf("valves to open: %v", v)
	}
	for _, s := range []struct{ at, body string }{
		{"2026-03-11 08:40", `{"milestone":"callback","by":"片区 孙"}`},
		{"2026-03-11 10:00", `{"milestone":"site_restored","by":"班长 张"}`},
		{"2026-03-13 09:00", `{"milestone":"road_notice","by":"片区 孙","note":"市政 2026-033"}`},
		{"2026-03-13 09:05", `{"milestone":"closed","by":"调度员 王"}`},
	} {
		clk.Set(at(s.at))
		record(s.body)
	}

	// The timeline: due, done, late by — in the utility's zone.
	code, tl := call(t, "GET", jobURL+"/timeline", "")
	if code != 200 || tl["status"] != "closed" {
		t.Fatalf("timeline: %d %v", code, tl)
	}
	want := map[string][4]string{ // due, done, state, late_by
		"dispatched":      {"", "2026-03-10T21:33:00+08:00", "done", ""},
		"on_site":         {"2026-03-10T22:00:00+08:00", "2026-03-10T22:02:00+08:00", "late", "2m0s"},
		"barriers":        {"2026-03-10T22:32:00+08:00", "2026-03-10T22:20:00+08:00", "done", ""},
		"approved":        {"", "2026-03-10T22:25:00+08:00", "done", ""},
		"valves_closed":   {"2026-03-10T23:30:00+08:00", "2026-03-10T22:50:00+08:00", "done", ""},
		"repaired":        {"", "2026-03-11T02:00:00+08:00", "done", ""},
		"quality_passed":  {"", "2026-03-11T03:30:00+08:00", "done", ""},
		"valves_reopened": {"2026-03-11T03:40:00+08:00", "2026-03-11T03:35:00+08:00", "done", ""},
		"callback":        {"2026-03-11T08:30:00+08:00", "2026-03-11T08:40:00+08:00", "late", "10m0s"},
		"site_restored":   {"", "2026-03-11T10:00:00+08:00", "done", ""},
		"road_notice":     {"2026-03-17T00:00:00+08:00", "2026-03-13T09:00:00+08:00", "done", ""},
		"closed":          {"", "2026-03-13T09:05:00+08:00", "done", ""},
	}
	steps := tl["timeline"].([]any)
	if len(steps) != len(want) {
		t.Fatalf("%d steps", len(steps))
	}
	for _, x := range steps {
		s := x.(map[string]any)
		w := want[s["milestone"].(string)]
		str := func(k string) string { v, _ := s[k].(string); return v }
		if str("due") != w[0] || str("done") != w[1] || str("state") != w[2] || str("late_by") != w[3] {
			t.Errorf("%s: due %q done %q state %q late %q, want %v", s["milestone"], str("due"), str("done"), str("state"), str("late_by"), w)
		}
		if s["milestone"] == "on_site" && (s["by"] != "班长 张" || s["photo"] != "https://photos.example/site-1.jpg" || s["note"] == nil) {
			t.Errorf("on site record: %v", s)
		}
	}
	// The escalation is resolved; the job is closed and listed as such.
	if _, esc := call(t, "GET", api+"/escalations?job="+fmt.Sprint(id), ""); esc["escalations"].([]any)[0].(map[string]any)["resolved_at"] != "2026-03-10T22:02:00+08:00" {
		t.Errorf("resolved: %v", esc)
	}
	if _, l := call(t, "GET", api+"/jobs?status=closed", ""); l["total"].(float64) != 1 {
		t.Errorf("closed list: %v", l)
	}

	// The report, JSON and CSV.
	code, rep := call(t, "GET", api+"/report?from=2026-03&to=2026-03", "")
	if code != 200 {
		t.Fatalf("report: %d %v", code, rep)
	}
	var onSite map[string]any
	for _, r := range rep["rows"].([]any) {
		if r.(map[string]any)["milestone"] == "on_site" {
			onSite = r.(map[string]any)
		}
	}
	if onSite == nil || onSite["due"].(float64) != 1 || onSite["late"].(float64) != 1 || onSite["on_time_rate"].(float64) != 0 {
		t.Errorf("report on site: %v", onSite)
	}
	code, ctype, body := raw(t, api+"/report.csv?from=2026-03&to=2026-03")
	lines := strings.Split(strings.TrimSpace(string(body)), "\r\n")
	if code != 200 || !strings.HasPrefix(ctype, "text/csv") || !bytes.HasPrefix(body, []byte("\ufeff")) || len(lines) != 1+6 ||
		!strings.Contains(string(body), "2026-03,emergency,callback,customers called back,1,0,1,0,0.0%") {
		t.Errorf("report csv: %d %s\n%s", code, ctype, body)
	}
	if code, _, _ := raw(t, api+"/report?from=2026-13"); code != 400 {
		t.Errorf("bad month: %d", code)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestRepairAPIMore covers the rest of the API: a planned shutoff with its
// notice and conflict, a valve failure, the map layer, cancel, photos,
// rules and the calendar.
func TestRepairAPIMore(t *testing.T) {
	loc := mustLoc(t)
	clk := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, loc)}
	ts, _, _ := repairServer(t, clk)
	api := ts.URL + "/api/repair"
	planned := `{"kind":"planned","leak":{"pipe":"%s"},"by":"planner 赵","planned":{"start":"2026-03-12T09:00:00+08:00","end":"2026-03-12T15:00:00+08:00","reason":"新建DN200管道接驳"}}`
	code, p := call(t, "POST", api+"/jobs", fmt.Sprintf(planned, "2061"))
	if code != 201 || p["notice"] == nil || !strings.Contains(p["notice"].(map[string]any)["zh"].(string), "新建DN200管道接驳") {
		t.Fatalf("planned: %d %v", code, p)
	}
	code, c := call(t, "POST", api+"/jobs", fmt.Sprintf(planned, "2079"))
	if e, _ := c["error"].(map[string]any); code != 409 || e["code"] != "planned.conflict" || !strings.Contains(e["message"].(string), "1090") {
		t.Errorf("conflict: %d %v", code, c)
	}
	pid := int(p["id"].(float64))
	if code, n := call(t, "GET", fmt.Sprintf("%s/jobs/%d/notice", api, pid), ""); code != 200 || n["customers"].(float64) != 241 {
		t.Errorf("notice: %d %v", code, n)
	}

	// An emergency job with a failing valve.
	code, j := call(t, "POST", api+"/jobs", `{"leak":{"pipe":"2051"},"by":"x","order":{"source":"patrol","content":"leak"}}`)
	if code != 201 {
		t.Fatalf("open: %d %v", code, j)
	}
	jobURL := fmt.Sprintf("%s/jobs/%d", api, int(j["id"].(float64)))
	for _, m := range []string{"dispatched", "on_site", "approved"} {
		if code, r := call(t, "POST", jobURL+"/milestones", `{"milestone":"`+m+`","by":"x"}`); code != 201 {
			t.Fatalf("%s: %d %v", m, code, r)
		}
	}
	code, f := call(t, "POST", jobURL+"/failed-valves", `{"valve":"1114","by":"crew","note":"stuck"}`)
	if code != 201 || strings.Join(strs(f["failed_valves"]), ",") != "1114" || len(f["valve_failures"].([]any)) != 1 {
		t.Errorf("failed valve: %d %v", code, f)
	}
	if code, _ := call(t, "POST", jobURL+"/failed-valves", `{"valve":"1114","by":"crew"}`); code != 409 {
		t.Errorf("failed twice: %d", code)
	}
	// Photo upload and download.
	if code, r := call(t, "POST", jobURL+"/milestones", `{"milestone":"barriers","by":"x","photo":"data:image/png;base64,iVBORw0KGgo="}`); code != 201 {
		t.Fatalf("photo: %d %v", code, r)
	}
	if code, ctype, b := raw(t, jobURL+"/milestones/barriers/photo"); code != 200 || ctype != "image/png" || len(b) != 8 {
		t.Errorf("photo: %d %s %d bytes", code, ctype, len(b))
	}
	if code, _, _ := raw(t, jobURL+"/milestones/on_site/photo"); code != 404 {
		t.Errorf("no photo: %d", code)
	}
	// The map layer.
	code, ctype, body := raw(t, api+"/jobs.geojson")
	var fc struct {
		Features []struct {
			Geometry   struct{ Coordinates []float64 }
			Properties map[string]any
		}
	}
	json.Unmarshal(body, &fc) //nolint:errcheck
	if code != 200 || ctype != "application/geo+json" || len(fc.Features) != 2 || fc.Features[0].Geometry.Coordinates[0] < 2 {
		t.Errorf("geojson: %d %s %s", code, ctype, body)
	}
	// Cancel.
	if code, r := call(t, "POST", fmt.Sprintf("%s/jobs/%d/cancel", api, pid), `{"by":"planner 赵","reason":"postponed"}`); code != 200 || r["status"] != "cancelled" {
		t.Errorf("cancel: %d %v", code, r)
	}
	// Rules and calendar.
	if code, r := call(t, "GET", api+"/rules", ""); code != 200 || r["rules"].(map[string]any)["on_site_minutes"].(float64) != 30 {
		t.Errorf("rules: %d %v", code, r)
	}
	if code, r := call(t, "GET", api+"/calendar", ""); code != 200 || len(r["years"].([]any)) != 2 {
		t.Errorf("calendar: %d %v", code, r)
	}
	code, r := call(t, "PUT", api+"/calendar", `{"by":"admin","year":{"calendar":"CN","year":2028,"source":"test","holidays":[{"from":"2028-01-01","to":"2028-01-01","name":"元旦"}],"workdays":[]}}`)
	if code != 200 {
		t.Errorf("load calendar: %d %v", code, r)
	}
	code, r = call(t, "PUT", api+"/calendar", `{"by":"admin","year":{"calendar":"CN","year":2028,"holidays":[],"workdays":[{"date":"2028-01-05","name":"a Wednesday"}]}}`)
	if e, _ := r["error"].(map[string]any); code != 400 || e["code"] != "calendar.bad" {
		t.Errorf("bad calendar: %d %v", code, r)
	}
	if _, r := call(t, "GET", api+"/calendar", ""); len(r["years"].([]any)) != 3 {
		t.Errorf("calendar after load: %v", r)
	}
	for _, u := range []string{"/jobs?status=bogus", "/jobs?overdue=maybe", "/jobs?limit=x", "/escalations?since=yesterday", "/jobs/12345"} {
		if code, _, _ := raw(t, api+u); code < 400 || code >= 500 {
			t.Errorf("%s: %d", u, code)
		}
	}
}
