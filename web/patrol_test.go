package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/patroltest"
	"github.com/waterline-gis/waterline/web"
)

// patrolServer serves a grid city (two districts) with patrol planning,
// its clock at 05:30 on 2 March 2026 in Shanghai.
func patrolServer(t *testing.T) (*httptest.Server, time.Time) {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, patroltest.SRID)
	st := store.New(pool, patroltest.SRID, gis.DefaultGradeRules(), nil)
	ds := patroltest.City(patroltest.Options{NX: 12, NY: 10, DX: 2, Jitter: 4, Seed: 5})
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "grid", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	loc := mustLoc(t)
	now := time.Date(2026, 3, 2, 5, 30, 0, 0, loc)
	svc, err := patrol.New(patrol.Config{Store: st, Live: live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(),
		TZ: loc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Config{Store: st, Live: live, Tiles: tiles.New(pool, patroltest.SRID, 1<<20), TZ: loc, Patrol: svc,
		Now: func() time.Time { return now }})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, now
}

// do sends a request and returns the status, the body and its content type.
func do(t *testing.T, method, url, ctype string, body io.Reader) (int, []byte, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header.Get("Content-Type")
}

func jsonOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return m
}

// wantError checks a JSON error response.
func wantError(t *testing.T, what string, status int, b []byte, wantStatus int, code string) {
	t.Helper()
	m := jsonOf(t, b)
	e, _ := m["error"].(map[string]any)
	if status != wantStatus || e == nil || e["code"] != code || e["message"] == "" {
		t.Errorf("%s: %d %s, want %d %s", what, status, b, wantStatus, code)
	}
}

func TestPatrolAPI(t *testing.T) {
	ts, now := patrolServer(t)
	api := ts.URL + "/api/patrol"

	// Plan the day and read it back.
	code, b, _ := do(t, "POST", api+"/plan", "application/json", strings.NewReader(`{"save": true}`))
	if code != 200 {
		t.Fatalf("plan: %d %s", code, b)
	}
	plan := jsonOf(t, b)
	if len(plan["districts"].([]any)) != 2 || plan["saved"] != true {
		t.Fatalf("plan: %s", b)
	}
	code, b, _ = do(t, "GET", api+"/routes?date=2026-03-02&district=D0000", "", nil)
	routes := jsonOf(t, b)["routes"].([]any)
	if code != 200 || len(routes) != 1 {
		t.Fatalf("routes: %d %s", code, b)
	}
	rid := int64(routes[0].(map[string]any)["id"].(float64))
	code, b, _ = do(t, "GET", fmt.Sprintf("%s/routes/%d", api, rid), "", nil)
	if steps, _ := jsonOf(t, b)["steps"].([]any); code != 200 || len(steps) == 0 {
		t.Fatalf("route: %d %s", code, b)
	}
	code, b, ct := do(t, "GET", fmt.Sprintf("%s/routes/%d.geojson", api, rid), "", nil)
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); code != 200 || err != nil || ct != "application/geo+json" || fc.Type != "FeatureCollection" || len(fc.Features) < 2 {
		t.Fatalf("geojson: %d %s %v", code, ct, err)
	}
	code, b, ct = do(t, "GET", fmt.Sprintf("%s/routes/%d.gpx", api, rid), "", nil)
	var gpx struct {
		XMLName xml.Name
		Trk     struct {
			Segs []struct {
				Pts []struct {
					Lat float64 `xml:"lat,attr"`
					Lon float64 `xml:"lon,attr"`
				} `xml:"trkpt"`
			} `xml:"trkseg"`
		} `xml:"trk"`
	}
	if err := xml.Unmarshal(b, &gpx); code != 200 || err != nil || ct != "application/gpx+xml" || len(gpx.Trk.Segs) == 0 {
		t.Fatalf("gpx: %d %s %v", code, ct, err)
	}
	var path [][2]float64
	for _, s := range gpx.Trk.Segs {
		for _, p := range s.Pts {
			path = append(path, [2]float64{p.Lon, p.Lat})
		}
	}
	for _, c := range []struct{ url, code string }{
		{"/routes/99999", "route.not_found"},
		{"/routes?date=2026-02-30", "date.bad"},
		{"/status?district=nope", "district.not_found"},
		{"/reports/nope", "report.unknown"},
	} {
		code, b, _ := do(t, "GET", api+c.url, "", nil)
		wantError(t, c.url, code, b, map[string]int{"route.not_found": 404, "date.bad": 400, "district.not_found": 404, "report.unknown": 404}[c.code], c.code)
	}

	// Bad tracks: clear 4xx errors, nothing recorded.
	gpxTrack := func(pts [][2]float64, t0 time.Time, step time.Duration) string {
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0"?><gpx version="1.1"><trk><trkseg>`)
		for i, p := range pts {
			fmt.Fprintf(&sb, `<trkpt lat="%.8f" lon="%.8f"><time>%s</time></trkpt>`, p[1], p[0], t0.Add(time.Duration(i)*step).UTC().Format(time.RFC3339))
		}
		sb.WriteString(`</trkseg></trk></gpx>`)
		return sb.String()
	}
	good := gpxTrack(path, now.Add(3*time.Hour), 60*time.Second)
	far := make([][2]float64, len(path))
	for i, p := range path {
		far[i] = [2]float64{p[0] - 0.3, p[1]}
	}
	for _, c := range []struct{ name, body, code string }{
		{"not xml", "this is not a track", "track.bad_format"},
		{"broken xml", "<gpx><trk><trkseg><trkpt lat='1' lon='2'>", "track.bad_xml"},
		{"no timestamps", strings.NewReplacer("<time>", "<name>", "</time>", "</name>").Replace(good), "track.no_time"},
		{"far from the district", gpxTrack(far, now.Add(3*time.Hour), time.Minute), "track.far_from_district"},
		{"out of order", gpxTrack(path, now.Add(3*time.Hour), -time.Second), "track.out_of_order"},
	} {
		code, b, _ := do(t, "POST", api+"/tracks?district=D0000&manager=M-D0000", "application/gpx+xml", strings.NewReader(c.body))
		wantError(t, c.name, code, b, 400, c.code)
	}
	code, b, _ = do(t, "POST", api+"/tracks?district=D0000&route=abc", "application/gpx+xml", strings.NewReader(good))
	wantError(t, "bad route id", code, b, 400, "route.bad_id")
	code, b, _ = do(t, "GET", api+"/tracks?date=2026-03-02", "", nil)
	if code != 200 || len(jsonOf(t, b)["tracks"].([]any)) != 0 {
		t.Fatalf("a rejected track was recorded: %s", b)
	}
	// A good track, as a multipart form upload.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "track.gpx")
	io.WriteString(fw, good) //nolint:errcheck
	mw.Close()
	code, b, _ = do(t, "POST", fmt.Sprintf("%s/tracks?route=%d", api, rid), mw.FormDataContentType(), &form)
	if code != 201 {
		t.Fatalf("track upload: %d %s", code, b)
	}
	tr := jsonOf(t, b)
	cov := tr["coverage"].(map[string]any)
	if tr["patrolled"].(float64) == 0 || cov["rate"].(float64) != 1 {
		t.Fatalf("track: patrolled %v, coverage %v", tr["patrolled"], cov)
	}
	code, b, _ = do(t, "POST", fmt.Sprintf("%s/tracks?route=%d", api, rid), "application/gpx+xml", strings.NewReader(good))
	wantError(t, "duplicate", code, b, 409, "track.duplicate")
	code, b, _ = do(t, "GET", api+"/coverage?district=D0000", "", nil)
	if code != 200 || jsonOf(t, b)["rate"].(float64) != 1 {
		t.Fatalf("coverage: %d %s", code, b)
	}
	code, b, _ = do(t, "GET", api+"/status?district=D0000&date=2026-03-03", "", nil)
	if st := jsonOf(t, b); code != 200 || st["counts"].(map[string]any)["ok"].(float64) == 0 {
		t.Fatalf("status: %d %s", code, b)
	}

	// Anomalies with a photo.
	start := plan["districts"].([]any)[0].(map[string]any)["start"].(map[string]any)
	body := fmt.Sprintf(`{"type":"buried","lon":%v,"lat":%v,"found_at":"%s","note":"阀门井被埋","manager":"M-D0000"}`,
		start["lon"], start["lat"], now.Add(-40*time.Minute).Format(time.RFC3339))
	code, b, _ = do(t, "POST", api+"/anomalies", "application/json", strings.NewReader(body))
	if code != 201 || jsonOf(t, b)["late"] != true {
		t.Fatalf("anomaly: %d %s", code, b)
	}
	aid := int64(jsonOf(t, b)["id"].(float64))
	code, b, _ = do(t, "POST", api+"/anomalies", "application/json", strings.NewReader(`{"type":"flood","lon":117,"lat":36.6,"found_at":"2026-03-02T05:00:00+08:00"}`))
	wantError(t, "bad anomaly type", code, b, 400, "anomaly.bad_type")
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	code, b, _ = do(t, "POST", fmt.Sprintf("%s/anomalies/%d/photos", api, aid), "image/png", bytes.NewReader(png))
	if code != 201 {
		t.Fatalf("photo: %d %s", code, b)
	}
	pid := int64(jsonOf(t, b)["id"].(float64))
	code, b, ct = do(t, "GET", fmt.Sprintf("%s/anomalies/%d/photos/%d", api, aid, pid), "", nil)
	if code != 200 || ct != "image/png" || !bytes.Equal(b, png) {
		t.Fatalf("photo back: %d %s", code, ct)
	}
	code, b, _ = do(t, "POST", fmt.Sprintf("%s/anomalies/%d/photos", api, aid), "image/png", strings.NewReader("<html>"))
	wantError(t, "not a photo", code, b, 400, "photo.bad_type")
	code, b, _ = do(t, "GET", api+"/anomalies?from=2026-03-01&to=2026-03-02", "", nil)
	if code != 200 || len(jsonOf(t, b)["anomalies"].([]any)) != 1 {
		t.Fatalf("anomalies: %d %s", code, b)
	}

	// Reports, JSON and CSV.
	code, b, _ = do(t, "GET", api+"/reports/coverage?from=2026-03-02&to=2026-03-02&group=manager", "", nil)
	if rows := jsonOf(t, b)["rows"].([]any); code != 200 || len(rows) != 2 {
		t.Fatalf("coverage report: %d %s", code, b)
	}
	code, b, ct = do(t, "GET", api+"/reports/anomalies?from=2026-03-01&to=2026-03-02&format=csv", "", nil)
	if code != 200 || !strings.HasPrefix(ct, "text/csv") || !bytes.HasPrefix(b, []byte("\ufeffperiod,district,type,reports,late,late_rate\r\n")) ||
		!strings.Contains(string(b), "2026-03-02,D0000,buried,1,1,1") {
		t.Fatalf("anomaly csv: %d %s %q", code, ct, b)
	}
	code, b, _ = do(t, "GET", api+"/reports/overdue?date=2026-04-02&format=csv", "", nil)
	if code != 200 || !strings.Contains(string(b), "district,grade,overdue_pipes") {
		t.Fatalf("overdue csv: %d %s", code, b)
	}
	code, b, _ = do(t, "GET", api+"/reports/coverage?by=year", "", nil)
	wantError(t, "bad by", code, b, 400, "report.bad_by")

	// District settings: an office and two managers, then a re-plan.
	code, b, _ = do(t, "PUT", api+"/districts/D0000", "application/json",
		strings.NewReader(fmt.Sprintf(`{"office":{"lon":%v,"lat":%v},"managers":["张三","李四"],"mode":"ebike"}`, start["lon"], start["lat"])))
	if code != 200 || len(jsonOf(t, b)["managers"].([]any)) != 2 {
		t.Fatalf("district settings: %d %s", code, b)
	}
	code, b, _ = do(t, "PUT", api+"/districts/D0000", "application/json", strings.NewReader(`{"mode":"helicopter"}`))
	wantError(t, "bad mode", code, b, 400, "district.bad_mode")
	code, b, _ = do(t, "POST", api+"/plan", "application/json", strings.NewReader(`{"district":"D0000","save":true}`))
	if d := jsonOf(t, b)["districts"].([]any)[0].(map[string]any); code != 200 || len(d["routes"].([]any)) != 2 || d["start_source"] != "office" || d["mode"] != "ebike" {
		t.Fatalf("re-plan with two managers: %d %s", code, b)
	}
	code, b, _ = do(t, "POST", api+"/plan", "application/json", strings.NewReader(`{"date":"tomorrow"}`))
	wantError(t, "bad plan date", code, b, 400, "date.bad")
}

func TestPatrolRPP(t *testing.T) {
	ts, _ := patrolServer(t)
	p01, err := os.ReadFile(filepath.Join(sharedData, "rpp/P01"))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	code, b, _ := do(t, "POST", ts.URL+"/api/patrol/rpp", "text/plain", bytes.NewReader(p01))
	res := jsonOf(t, b)
	if code != 200 || res["cost"].(float64) != 76 || res["name"] != "P01" {
		t.Fatalf("P01: %d %s", code, b)
	}
	tour := res["tour"].([]any)
	if tour[0] != tour[len(tour)-1] {
		t.Fatalf("tour not closed: %v", tour)
	}
	bad := strings.Replace(string(p01), "(   3,   4)  coste      6      6", "(   3,   4)  cost 6", 1)
	code, b, _ = do(t, "POST", ts.URL+"/api/patrol/rpp", "text/plain", strings.NewReader(bad))
	wantError(t, "bad rpp line", code, b, 400, "rpp.bad_instance")
	if !strings.Contains(string(b), `instance:8: bad edge line`) {
		t.Errorf("the error does not name the line: %s", b)
	}
}

func TestPatrolNotConfigured(t *testing.T) {
	ts := giswaterServer(t)
	code, b, _ := do(t, "GET", ts.URL+"/api/patrol/routes", "", nil)
	wantError(t, "no patrol service", code, b, 503, "patrol.unavailable")
}
