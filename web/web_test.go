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
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
)

const sharedData = "../../shared/data"

// giswaterServer serves the shared Giswater sample, stored in its own CRS
// (EPSG:25831) in a fresh PostGIS database.
// giswaterServer serves the shared Giswater sample, with shutoff plans
// gated one at a time (web.Config.PlanSlots) as `waterline serve` gates
// them at the number of CPUs.
func giswaterServer(t *testing.T) *httptest.Server {
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
	srv := web.New(web.Config{Store: st, Live: live, Tiles: tiles.New(pool, 25831, 1<<20),
		Planner: &repair.Planner{Store: st, Live: live}, TZ: mustLoc(t), PlanSlots: 1})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestPlanSlots: with one plan at a time, plans asked at once all get
// their answer (each turn is given back), the same as asked alone.
func TestPlanSlots(t *testing.T) {
	ts := giswaterServer(t)
	pipes := []string{"2061", "114215", "114181", "114232", "2108", "2034"}
	alone := map[string]string{}
	for _, p := range pipes {
		code, m := post(t, ts.URL+"/api/shutoffs/plan", `{"pipe":"`+p+`"}`)
		if code != 200 {
			t.Fatalf("pipe %s: %d %v", p, code, m)
		}
		alone[p] = fmt.Sprint(m["valves_to_close"], m["customers"])
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := pipes[i%len(pipes)]
			code, m := post(t, ts.URL+"/api/shutoffs/plan", `{"pipe":"`+p+`"}`)
			if code != 200 {
				t.Errorf("pipe %s asked with others: %d %v", p, code, m)
			} else if got := fmt.Sprint(m["valves_to_close"], m["customers"]); got != alone[p] {
				t.Errorf("pipe %s asked with others: %s, alone %s", p, got, alone[p])
			}
		}()
	}
	wg.Wait()
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: body is not JSON: %q", url, b)
	}
	return res.StatusCode, m
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

// TestPlanOverHTTP asks the API for reference cases and checks the answer
// against the independent reference answers.
func TestPlanOverHTTP(t *testing.T) {
	ts := giswaterServer(t)
	raw, err := os.ReadFile(filepath.Join(sharedData, "giswater/expected_shutoffs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Request struct {
				Pipe string  `json:"pipe"`
				At   float64 `json:"at"`
			} `json:"request"`
			LeakPoint [2]float64     `json:"leak_point"`
			Expected  map[string]any `json:"expected"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Cases[:6] {
		body, _ := json.Marshal(map[string]any{"pipe": c.Request.Pipe, "at": c.Request.At})
		code, m := post(t, ts.URL+"/api/shutoffs/plan", string(body))
		if code != 200 {
			t.Fatalf("plan %s: status %d %v", c.Request.Pipe, code, m)
		}
		for _, k := range []string{"valves_to_close", "valves_dry_side", "segment_pipes", "unintended_pipes", "customers", "hydrants"} {
			got, want := strs(m[k]), strs(c.Expected[k])
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("pipe %s %s: got %v, want %v", c.Request.Pipe, k, got, want)
			}
		}
		if m["households"].(float64) != c.Expected["households"].(float64) {
			t.Errorf("pipe %s households %v, want %v", c.Request.Pipe, m["households"], c.Expected["households"])
		}
		order := m["closing_order"].([]any)
		if len(order) != len(c.Expected["valves_to_close"].([]any)) {
			t.Errorf("closing order has %d valves", len(order))
		}
		for i, o := range order {
			step := o.(map[string]any)
			if int(step["order"].(float64)) != i+1 || step["if_fails"] == nil {
				t.Errorf("step %d: %v", i, step)
			}
		}
		// The same leak given as its point, in the storage CRS.
		body, _ = json.Marshal(map[string]any{"point": c.LeakPoint, "point_srid": 25831, "tolerance_m": 1})
		code, m2 := post(t, ts.URL+"/api/shutoffs/plan", string(body))
		if code != 200 || strings.Join(strs(m2["segment_pipes"]), ",") != strings.Join(strs(m["segment_pipes"]), ",") {
			t.Errorf("plan by point for %s: status %d, %v", c.Request.Pipe, code, m2["error"])
		}
	}
}

func TestPlanBadInput(t *testing.T) {
	ts := giswaterServer(t)
	cases := []struct {
		body string
		code int
		err  string
	}{
		{`{"pipe":"nope"}`, 404, "pipe.not_found"},
		{`{"pipe":"2061","at":1.5}`, 400, "leak.bad_at"},
		{`{"pipe":"2061","at":-0.1}`, 400, "leak.bad_at"},
		{`{"pipe":"2061","failed_valves":["nope"]}`, 404, "valve.not_found"},
		{`{"point":[10,10]}`, 404, "point.no_pipe"},
		{`{"point":[1e9,5]}`, 400, "point.bad"},
		{`{}`, 400, "leak.missing"},
		{`{"pipe":`, 400, "body.bad_json"},
		{`{"pipe":"2061","bogus":1}`, 400, "body.bad_json"},
	}
	// An abandoned pipe of the sample.
	cases = append(cases, struct {
		body string
		code int
		err  string
	}{`{"pipe":"` + abandonedPipe(t) + `"}`, 400, "pipe.not_in_service"})
	for _, c := range cases {
		code, m := post(t, ts.URL+"/api/shutoffs/plan", c.body)
		e, _ := m["error"].(map[string]any)
		if code != c.code || e == nil || e["code"] != c.err || e["message"] == "" {
			t.Errorf("%s: got %d %v, want %d %s", c.body, code, m, c.code, c.err)
		}
	}
	// Unknown API route and tile errors are JSON 4xx too.
	for _, u := range []string{"/api/nope", "/tiles/nope/1/0/0.mvt", "/tiles/pipes/3/9/0.mvt", "/tiles/pipes/x/0/0.mvt", "/collections/pipes/items?bbox=1,2,3", "/collections/pipes/items?limit=0"} {
		res, err := http.Get(ts.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode < 400 || res.StatusCode >= 500 || !bytes.Contains(b, []byte(`"error"`)) {
			t.Errorf("%s: %d %s", u, res.StatusCode, b)
		}
	}
}

func abandonedPipe(t *testing.T) string {
	f, err := os.Open(filepath.Join(sharedData, "giswater/network.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, _, err := netjson.Read(f, netjson.Options{Name: "network.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ds.Pipes {
		if p.Status == gis.StatusAbandoned {
			return p.ID
		}
	}
	t.Fatal("no abandoned pipe in the sample")
	return ""
}

func TestCustomersCSVAndHealth(t *testing.T) {
	ts := giswaterServer(t)
	res, err := http.Get(ts.URL + "/api/shutoffs/customers.csv?pipe=2061&at=0.5")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(b)), "\r\n")
	if res.StatusCode != 200 || !strings.HasPrefix(string(b), "\ufeff") || len(lines) != 1+241 {
		t.Fatalf("csv: %d, %d lines", res.StatusCode, len(lines))
	}
	for _, u := range []string{"/healthz", "/readyz", "/api/network", "/api/segments/stats?top=3"} {
		res, err := http.Get(ts.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d %v", u, res.StatusCode, m)
		}
		if u == "/api/network" && m["counts"].(map[string]any)["pipes"].(float64) != 269 {
			t.Errorf("network info: %v", m)
		}
		if u == "/api/segments/stats?top=3" && len(m["worst"].([]any)) != 3 {
			t.Errorf("segment stats: %v", m)
		}
	}
}

// TestMetricsAndRequestIDs: every response carries a request id, and the
// latency histogram is labelled by route template.
func TestMetricsAndRequestIDs(t *testing.T) {
	ts := giswaterServer(t)
	post(t, ts.URL+"/api/shutoffs/plan", `{"pipe":"2061"}`)
	res, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	if !bytes.Contains(b, []byte(`route="/api/shutoffs/plan"`)) || !bytes.Contains(b, []byte("waterline_network_version 1")) {
		t.Errorf("metrics lack the plan route or the network version:\n%.2000s", b)
	}
}
