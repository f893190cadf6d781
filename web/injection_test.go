package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
)

// payloads are SQL and script injections; a request carrying one is
// refused, or it is stored and answered as the same inert text.
var payloads = []string{
	`' OR '1'='1`,
	`1; DROP TABLE pipes; --`,
	`'); DELETE FROM users; --`,
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`=HYPERLINK("http://evil.example","x")`,
	`../../etc/passwd`,
	"\u0000nul",
}

// tableCounts counts the rows of the tables an injection would hit.
func tableCounts(t *testing.T, s *authSite) string {
	t.Helper()
	var out []string
	for _, tbl := range []string{"pipes", "users", "repair_jobs", "patrol_anomalies", "audit_log", "customers"} {
		var n int
		if err := s.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		if tbl != "audit_log" && tbl != "patrol_anomalies" {
			out = append(out, fmt.Sprintf("%s=%d", tbl, n))
		}
	}
	return strings.Join(out, " ")
}

// TestInjection sends SQL and script payloads as ids, bboxes, filters and
// stored attributes, and as network attributes through an import: each is
// refused (4xx) or stored and answered as the same inert text; no table
// loses rows; nothing answers 5xx.
func TestInjection(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	before := tableCounts(t, s)
	for _, p := range payloads {
		e := url.PathEscape(p)
		q := url.QueryEscape(p)
		for _, path := range []string{
			"/api/patrol/routes/" + e, "/api/repair/jobs/" + e, "/api/patrol/anomalies/" + e, "/collections/" + e + "/items",
			"/tiles/" + e + "/14/1/1.mvt", "/tiles/network/" + e + "/1/1.mvt", "/api/patrol/reports/" + e,
			"/collections/pipes/items?bbox=" + q, "/collections/pipes/items?bbox=1,2,3," + q, "/collections/pipes/items?limit=" + q,
			"/api/repair/jobs?status=" + q, "/api/repair/jobs?district=" + q, "/api/repair/jobs?kind=" + q, "/api/repair/jobs?limit=" + q,
			"/api/patrol/anomalies?district=" + q, "/api/patrol/anomalies?type=" + q, "/api/patrol/anomalies?from=" + q,
			"/api/patrol/routes?district=" + q + "&date=" + q, "/api/patrol/status?district=" + q, "/api/repair/escalations?job=" + q,
			"/api/shutoffs/customers.csv?pipe=" + q, "/api/shutoffs/customers.csv?pipe=P1&failed=" + q, "/api/network/history?pipe=" + q,
			"/api/audit?actor=" + q, "/api/search?q=" + q, "/api/repair/report?from=" + q, "/api/segments/stats?top=" + q, "/api/tokens?user=" + q,
		} {
			code, b := s.call("admin1", "GET", path, "")
			if code >= 500 {
				t.Errorf("GET %s: %d %s", path, code, b)
			}
			if code == 200 && strings.Contains(path, "district="+q) && strings.Contains(string(b), `"district":`) {
				t.Errorf("GET %s matched rows: %.300s", path, b)
			}
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/shutoffs/plan", fmt.Sprintf(`{"pipe":%q}`, p)},
			{"POST", "/api/shutoffs/plan", fmt.Sprintf(`{"pipe":%q,"failed_valves":[%q]}`, s.pipe, p)},
			{"PUT", "/api/patrol/districts/" + e, `{}`},
			{"POST", "/api/patrol/plan", fmt.Sprintf(`{"district":%q}`, p)},
			{"POST", "/api/login", fmt.Sprintf(`{"name":%q,"password":%q}`, p, p)},
			{"POST", "/api/users", fmt.Sprintf(`{"name":%q,"role":"viewer"}`, p)},
			{"POST", "/api/users", fmt.Sprintf(`{"name":"x","role":%q}`, p)},
			{"PUT", fmt.Sprintf("/api/repair/jobs/%d/crew", s.jobA), fmt.Sprintf(`{"crew":[%q]}`, p)},
			{"POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobA), fmt.Sprintf(`{"milestone":%q}`, p)},
			{"POST", "/api/patrol/anomalies", fmt.Sprintf(`{"type":"other","district":"D001","note":%q}`, p)},
		} {
			code, b := s.call("admin1", c.method, c.path, c.body)
			if code >= 500 || code < 300 && c.path != "/api/login" {
				t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, code, b)
			}
		}
	}

	// Stored free text comes back as the same text, in JSON (never HTML).
	lon, lat := s.districtPoint(s.distA)
	for _, p := range payloads[:6] {
		body, _ := json.Marshal(map[string]any{"type": "other", "lon": lon, "lat": lat, "district": s.distA, "manager": p, "note": p,
			"found_at": time.Now().Add(-time.Minute).Format(time.RFC3339)})
		code, b := s.call("manager1", "POST", "/api/patrol/anomalies", string(body))
		if code != 201 {
			t.Fatalf("anomaly with %q: %d %s", p, code, b)
		}
		var a struct {
			ID   int64  `json:"id"`
			Note string `json:"note"`
		}
		json.Unmarshal(b, &a) //nolint:errcheck
		res := s.do("viewer1", "GET", fmt.Sprintf("/api/patrol/anomalies/%d", a.ID), "", nil)
		var got struct {
			Note, Manager string
		}
		json.NewDecoder(res.Body).Decode(&got) //nolint:errcheck
		res.Body.Close()
		if got.Note != p || got.Manager != p || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("anomaly note %q came back %q (%s)", p, got.Note, res.Header.Get("Content-Type"))
		}
	}
	if after := tableCounts(t, s); after != before {
		t.Errorf("tables changed: %s → %s", before, after)
	}
}

// TestImportedAttributesInert imports a network whose ids and attributes
// are injection payloads: they are stored as text, served as JSON strings
// and GeoJSON properties, planned on by id, and exported to CSV as inert
// cells.
func TestImportedAttributesInert(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	ctx := context.Background()
	ds := s.ds
	// Rename a pipe, its material and its customers with payloads.
	evilPipe := `P1'; DROP TABLE pipes;--<script>"x"`
	var target *gis.Pipe
	for i := range ds.Pipes {
		if ds.Pipes[i].ID == s.pipe {
			target = &ds.Pipes[i]
		}
	}
	if target == nil {
		t.Fatal("no pipe")
	}
	old := target.ID
	target.ID = evilPipe
	target.Material = `<img src=x onerror=alert(1)>`
	for i := range ds.Connections {
		if ds.Connections[i].Pipe == old {
			ds.Connections[i].Pipe = evilPipe
		}
	}
	for i := range ds.Valves {
		if ds.Valves[i].Pipe == old {
			ds.Valves[i].Pipe = evilPipe
		}
	}
	for i := range ds.Customers {
		ds.Customers[i].Name = `=cmd|' /C calc'!A0` + fmt.Sprint(i)
		if i%2 == 0 {
			ds.Customers[i].Name = `<script>alert("c")</script>` + fmt.Sprint(i)
		}
	}
	if _, err := s.st.Import(ctx, ds, store.ImportOptions{File: "evil.geojson", Replace: true}); err != nil {
		t.Fatalf("import: %v", err)
	}
	if err := s.live.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// Planned on by its id; answered as a JSON string.
	body, _ := json.Marshal(map[string]string{"pipe": evilPipe})
	code, b := s.call("dispatch1", "POST", "/api/shutoffs/plan", string(body))
	var plan struct {
		Leak struct {
			Pipe string `json:"pipe"`
		} `json:"leak"`
		Critical []struct {
			Name string `json:"name"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(b, &plan); err != nil || code != 200 || plan.Leak.Pipe != evilPipe {
		t.Fatalf("plan of %q: %d %.300s", evilPipe, code, b)
	}
	// Features: the same strings, as GeoJSON properties.
	lon, lat := s.districtPoint(target.District)
	_ = lon
	_ = lat
	code, b = s.call("viewer1", "GET", "/collections/pipes/items?limit=10000", "")
	var fc struct {
		Features []struct {
			ID         any            `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil || code != 200 {
		t.Fatalf("features: %d %v", code, err)
	}
	found := false
	for _, f := range fc.Features {
		if f.ID == evilPipe || f.Properties["id"] == evilPipe {
			found = f.Properties["material"] == target.Material
		}
	}
	if !found {
		t.Errorf("the pipe %q is not served as it was imported", evilPipe)
	}
	// The CSV export: formula-looking cells are made text; the file name
	// is quoted.
	res := s.do("dispatch1", "GET", "/api/shutoffs/customers.csv?pipe="+url.QueryEscape(evilPipe), "", nil)
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("csv: %d %s", res.StatusCode, csv)
	}
	for _, line := range strings.Split(string(csv), "\r\n")[1:] {
		if strings.Contains(line, ",=") || strings.HasPrefix(line, "=") {
			t.Errorf("a CSV cell starts with '=': %q", line)
		}
	}
	if !strings.Contains(string(csv), `'=cmd|`) {
		t.Errorf("no inert formula cell in the CSV: %.300s", csv)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || strings.ContainsAny(cd, "\r\n") {
		t.Errorf("Content-Disposition %q", cd)
	} else if _, params, err := mime.ParseMediaType(cd); err != nil || !strings.Contains(params["filename"], evilPipe) {
		t.Errorf("Content-Disposition %q: %v %v", cd, params, err)
	}
	if after := tableCounts(t, s); !strings.Contains(after, "pipes=") {
		t.Errorf("tables: %s", after)
	}
}
