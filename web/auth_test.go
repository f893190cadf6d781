package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/web"
	"github.com/waterline-gis/waterline/web/auth"
)

// routeAccess is who may call each route: "public", or the roles (the
// administrator may call every route). It is the test's own copy of the
// rule table: a route added to the router must be added here and to
// web/auth_rules.go, or TestEveryRouteHasARule fails.
var routeAccess = map[string]string{
	"GET /healthz": "public",
	"GET /readyz":  "public",
	"GET /metrics": "",
	"* /":          "public",
	"GET /login":   "public",
	"* /api/":      "public",

	"POST /api/login":       "public",
	"POST /api/logout":      "all",
	"GET /api/me":           "all",
	"POST /api/me/password": "all",
	"GET /api/me/jobs":      "all",

	"GET /api/users":                  "",
	"POST /api/users":                 "",
	"PATCH /api/users/{name}":         "",
	"POST /api/users/{name}/password": "",
	"GET /api/tokens":                 "",
	"POST /api/tokens":                "",
	"DELETE /api/tokens/{id:[0-9]+}":  "",
	"GET /api/audit":                  "",

	"GET /api/config":                    "all",
	"GET /api/network":                   "all",
	"GET /api/segments/stats":            "all",
	"GET /api/search":                    "all",
	"GET /tiles/{layer}/{z}/{x}/{y}.mvt": "all",
	"GET /tiles/{layer}.json":            "all",
	"GET /collections":                   "all",
	"GET /collections/{id}/items":        "all",

	"POST /api/shutoffs/plan":         "gis dispatcher district_manager viewer",
	"GET /api/shutoffs/customers.csv": "dispatcher",
	"POST /api/shutoffs/notice":       "dispatcher",

	"GET /api/patrol/rules":                                       "all",
	"GET /api/patrol/districts":                                   "all",
	"PUT /api/patrol/districts/{id}":                              "dispatcher district_manager",
	"POST /api/patrol/plan":                                       "dispatcher district_manager",
	"GET /api/patrol/routes":                                      "gis dispatcher district_manager viewer",
	"GET /api/patrol/routes/{id:[0-9]+}":                          "gis dispatcher district_manager viewer",
	"GET /api/patrol/routes/{id:[0-9]+}.geojson":                  "gis dispatcher district_manager viewer",
	"GET /api/patrol/routes/{id:[0-9]+}.gpx":                      "gis dispatcher district_manager viewer",
	"GET /api/patrol/status":                                      "gis dispatcher district_manager viewer",
	"GET /api/patrol/coverage":                                    "gis dispatcher district_manager viewer",
	"POST /api/patrol/tracks":                                     "dispatcher district_manager",
	"GET /api/patrol/tracks":                                      "gis dispatcher district_manager viewer",
	"GET /api/patrol/tracks/{id:[0-9]+}":                          "gis dispatcher district_manager viewer",
	"POST /api/patrol/anomalies":                                  "dispatcher district_manager",
	"GET /api/patrol/anomalies":                                   "gis dispatcher district_manager viewer",
	"GET /api/patrol/anomalies/{id:[0-9]+}":                       "gis dispatcher district_manager viewer",
	"POST /api/patrol/anomalies/{id:[0-9]+}/photos":               "dispatcher district_manager",
	"GET /api/patrol/anomalies/{id:[0-9]+}/photos/{photo:[0-9]+}": "gis dispatcher district_manager viewer",
	"GET /api/patrol/reports/{kind}":                              "gis dispatcher district_manager viewer",
	"POST /api/patrol/rpp":                                        "gis dispatcher",

	"POST /api/repair/jobs":                                         "dispatcher",
	"GET /api/repair/jobs":                                          "dispatcher viewer",
	"GET /api/repair/jobs.geojson":                                  "dispatcher viewer",
	"GET /api/repair/jobs/{id:[0-9]+}":                              "dispatcher viewer crew",
	"GET /api/repair/jobs/{id:[0-9]+}/timeline":                     "dispatcher viewer crew",
	"POST /api/repair/jobs/{id:[0-9]+}/milestones":                  "dispatcher crew",
	"GET /api/repair/jobs/{id:[0-9]+}/milestones/{milestone}/photo": "dispatcher viewer crew",
	"POST /api/repair/jobs/{id:[0-9]+}/failed-valves":               "dispatcher crew",
	"POST /api/repair/jobs/{id:[0-9]+}/cancel":                      "dispatcher",
	"GET /api/repair/jobs/{id:[0-9]+}/notice":                       "dispatcher crew",
	"GET /api/repair/jobs/{id:[0-9]+}/crew":                         "dispatcher viewer crew",
	"PUT /api/repair/jobs/{id:[0-9]+}/crew":                         "dispatcher",
	"GET /api/repair/escalations":                                   "dispatcher viewer",
	"GET /api/repair/report":                                        "dispatcher viewer",
	"GET /api/repair/report.csv":                                    "dispatcher viewer",
	"GET /api/repair/rules":                                         "all",
	"GET /api/repair/calendar":                                      "all",
	"PUT /api/repair/calendar":                                      "dispatcher",

	"POST /api/asbuilt/batches":                      "gis",
	"GET /api/asbuilt/batches":                       "gis dispatcher viewer",
	"GET /api/asbuilt/batches/{id:[0-9]+}":           "gis dispatcher viewer",
	"GET /api/asbuilt/batches/{id:[0-9]+}/preview":   "gis dispatcher viewer",
	"POST /api/asbuilt/batches/{id:[0-9]+}/validate": "gis",
	"POST /api/asbuilt/batches/{id:[0-9]+}/approve":  "gis",
	"POST /api/asbuilt/batches/{id:[0-9]+}/reject":   "gis",
	"POST /api/asbuilt/batches/{id:[0-9]+}/commit":   "gis",
	"POST /api/asbuilt/batches/{id:[0-9]+}/rollback": "gis",
	"GET /api/asbuilt/crs":                           "gis dispatcher viewer",
	"PUT /api/asbuilt/crs/{name}":                    "gis",
	"GET /api/network/history":                       "all",
}

// guardCodes are the error codes of a request refused by the access
// rules (not by the handler).
var guardCodes = []string{"auth.required", "auth.forbidden", "auth.out_of_scope", "auth.not_assigned", "auth.no_rule",
	"auth.district_required", "auth.dispatch_only", "auth.bad_token"}

// sampleRequest fills a route's template with objects that a district
// manager and a crew member may reach (district A, the crew's job), and a
// body where the route takes one.
func (s *authSite) sampleRequest(route string) (method, path, body string) {
	method, tmpl, _ := strings.Cut(route, " ")
	if method == "*" {
		method = "GET"
	}
	lon, lat := s.districtPoint(s.distA)
	repl := map[string]string{
		"{layer}": "network", "{z}": "14", "{x}": "13500", "{y}": "6300", "{name}": "nobody", "{kind}": "coverage",
		"{milestone}": "on_site", "{photo:[0-9]+}": "999999",
		"/api/asbuilt/crs/{name}": "/api/asbuilt/crs/local-test",
	}
	id := ""
	switch {
	case strings.HasPrefix(tmpl, "/api/patrol/districts/"):
		id = s.distA
	case strings.HasPrefix(tmpl, "/api/patrol/routes/"):
		id = fmt.Sprint(s.routeA)
	case strings.HasPrefix(tmpl, "/api/patrol/tracks/"):
		id = "999999"
	case strings.HasPrefix(tmpl, "/api/patrol/anomalies/"):
		id = fmt.Sprint(s.anomA)
	case strings.HasSuffix(tmpl, "/cancel"):
		id = fmt.Sprint(s.jobB) // do not end the crew's job
	case strings.HasPrefix(tmpl, "/api/repair/jobs/"):
		id = fmt.Sprint(s.jobA)
	case strings.HasPrefix(tmpl, "/api/asbuilt/batches/"):
		id = "999999"
	case strings.HasPrefix(tmpl, "/api/tokens/"):
		id = fmt.Sprint(s.spare)
	case strings.HasPrefix(tmpl, "/collections/"):
		id = "pipes"
	}
	path = tmpl
	for k, v := range repl {
		path = strings.ReplaceAll(path, k, v)
	}
	path = strings.ReplaceAll(strings.ReplaceAll(path, "{id:[0-9]+}", id), "{id}", id)
	switch route {
	case "* /api/":
		path = "/api/no-such-route"
	case "GET /api/patrol/routes", "GET /api/patrol/status", "GET /api/patrol/coverage", "GET /api/patrol/tracks",
		"GET /api/patrol/anomalies", "GET /api/patrol/reports/{kind}":
		path += "?district=" + s.distA
	case "POST /api/patrol/tracks":
		path += "?district=" + s.distA
		body = `{"type":"FeatureCollection","features":[]}`
	case "GET /api/shutoffs/customers.csv":
		path += "?pipe=" + url.QueryEscape(s.pipe)
	case "GET /api/network/history":
		path += "?pipe=" + url.QueryEscape(s.pipe)
	case "GET /api/search":
		path += "?q=P1"
	}
	if method == "GET" || method == "DELETE" || body != "" {
		return method, path, body
	}
	switch route {
	case "POST /api/login":
		body = `{"name":"nobody","password":"wrong password"}`
	case "POST /api/me/password":
		body = `{"old":"not my password","new":"a new password 1"}`
	case "POST /api/users":
		body = `{"name":"` + fmt.Sprintf("u%d", time.Now().UnixNano()) + `","role":"viewer"}`
	case "PATCH /api/users/{name}":
		body = `{"display_name":"x"}`
	case "POST /api/tokens":
		body = `{"user":"viewer1","label":"table test"}`
	case "POST /api/shutoffs/plan":
		body = `{"pipe":"` + s.pipe + `"}`
	case "POST /api/patrol/plan":
		body = `{"district":"` + s.distA + `"}`
	case "POST /api/patrol/anomalies":
		body = fmt.Sprintf(`{"type":"other","lon":%f,"lat":%f,"found_at":%q,"district":%q}`, lon, lat, time.Now().Add(-time.Minute).Format(time.RFC3339), s.distA)
	case "POST /api/repair/jobs/{id:[0-9]+}/milestones":
		body = `{"milestone":"dispatched"}`
	case "PUT /api/repair/jobs/{id:[0-9]+}/crew":
		body = `{"crew":["crew1"]}`
	default:
		body = `{}`
	}
	return method, path, body
}

// TestEveryRouteHasARule walks the router: every route must have an
// access rule in the server and a line in routeAccess, and each role (and
// nobody) gets exactly the access that line gives, through the real
// handlers.
func TestEveryRouteHasARule(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	routes := s.srv.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt] = true
		if !s.srv.HasRule(rt) {
			t.Errorf("route %s has no access rule: add it to web/auth_rules.go (and to routeAccess here)", rt)
			continue
		}
		if _, ok := routeAccess[rt]; !ok {
			t.Errorf("route %s has a rule but no line in routeAccess (web/auth_test.go): say who may call it", rt)
		}
	}
	for rt := range routeAccess {
		if !seen[rt] {
			t.Errorf("routeAccess names %s, which the router does not have", rt)
		}
	}
	if t.Failed() {
		return
	}
	principals := append([]string{""}, func() []string {
		var out []string
		for _, u := range siteUsers {
			out = append(out, u.name)
		}
		return out
	}()...)
	roleOf := map[string]auth.Role{}
	for _, u := range siteUsers {
		roleOf[u.name] = u.role
	}
	for _, rt := range routes {
		want := routeAccess[rt]
		method, path, body := s.sampleRequest(rt)
		for _, user := range principals {
			allowed := want == "public" || user != "" && (roleOf[user] == auth.Admin || want == "all" ||
				slices.Contains(strings.Fields(want), string(roleOf[user])))
			code, b := s.call(user, method, path, body)
			ec := errCode(b)
			denied := slices.Contains(guardCodes, ec)
			who := user
			if who == "" {
				who = "nobody"
			}
			switch {
			case allowed && denied:
				t.Errorf("%s %s as %s: refused %d %s, want it allowed", method, path, who, code, ec)
			case !allowed && user == "" && (code != 401 || ec != "auth.required"):
				t.Errorf("%s %s as nobody: %d %s, want 401 auth.required", method, path, code, ec)
			case !allowed && user != "" && (code != 403 || ec != "auth.forbidden"):
				t.Errorf("%s %s as %s: %d %s, want 403 auth.forbidden", method, path, who, code, ec)
			}
		}
	}
}

func TestDistrictManagerScope(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	dm := "manager1"
	cases := []struct {
		method, path, body, code string
	}{
		{"GET", fmt.Sprintf("/api/patrol/routes/%d", s.routeB), "", "auth.out_of_scope"},
		{"GET", fmt.Sprintf("/api/patrol/routes/%d.gpx", s.routeB), "", "auth.out_of_scope"},
		{"GET", fmt.Sprintf("/api/patrol/anomalies/%d", s.anomB), "", "auth.out_of_scope"},
		{"GET", fmt.Sprintf("/api/patrol/anomalies/%d/photos/1", s.anomB), "", "auth.out_of_scope"},
		{"POST", fmt.Sprintf("/api/patrol/anomalies/%d/photos", s.anomB), "x", "auth.out_of_scope"},
		{"GET", "/api/patrol/routes?district=" + s.distB, "", "auth.out_of_scope"},
		{"GET", "/api/patrol/routes?district=", "", "auth.out_of_scope"},
		{"GET", "/api/patrol/anomalies?district=" + s.distB, "", "auth.out_of_scope"},
		{"GET", "/api/patrol/reports/overdue?district=" + s.distB, "", "auth.out_of_scope"},
		{"GET", "/api/patrol/status?district=" + s.distB, "", "auth.out_of_scope"},
		{"GET", "/api/patrol/tracks?district=" + s.distB, "", "auth.out_of_scope"},
		{"GET", fmt.Sprintf("/api/patrol/coverage?route=%d", s.routeB), "", "auth.out_of_scope"},
		{"GET", fmt.Sprintf("/api/patrol/coverage?route=%d&district=%s", s.routeA, s.distB), "", "auth.out_of_scope"},
		{"POST", fmt.Sprintf("/api/patrol/tracks?route=%d", s.routeB), "{}", "auth.out_of_scope"},
		{"POST", "/api/patrol/tracks?district=" + s.distB, "{}", "auth.out_of_scope"},
		{"PUT", "/api/patrol/districts/" + s.distB, "{}", "auth.out_of_scope"},
		{"POST", "/api/patrol/plan", `{"district":"` + s.distB + `"}`, "auth.out_of_scope"},
		{"POST", "/api/patrol/plan", `{"save":true}`, "auth.district_required"},
		{"POST", "/api/patrol/anomalies", `{"type":"leak","district":"` + s.distB + `"}`, "auth.out_of_scope"},
		{"POST", "/api/patrol/anomalies", `{"type":"leak","District":"` + s.distB + `"}`, "auth.out_of_scope"},
		{"POST", "/api/patrol/anomalies", `{"type":"leak","lon":117,"lat":36.6}`, "auth.district_required"},
		{"GET", "/api/repair/jobs", "", "auth.forbidden"},
		{"GET", "/api/shutoffs/customers.csv?pipe=" + s.pipe, "", "auth.forbidden"},
	}
	for _, c := range cases {
		code, b := s.call(dm, c.method, c.path, c.body)
		if code != 403 || errCode(b) != c.code {
			t.Errorf("%s %s %s: %d %s, want 403 %s", c.method, c.path, c.body, code, b, c.code)
		}
	}
	// Without a district, lists are narrowed to the manager's.
	code, b := s.call(dm, "GET", "/api/patrol/routes", "")
	var rs struct {
		Routes []struct {
			District string `json:"district"`
		} `json:"routes"`
	}
	if err := json.Unmarshal(b, &rs); err != nil || code != 200 || len(rs.Routes) == 0 {
		t.Fatalf("routes: %d %s", code, b)
	}
	for _, r := range rs.Routes {
		if r.District != s.distA {
			t.Errorf("a route of %s reached the manager of %s", r.District, s.distA)
		}
	}
	code, b = s.call(dm, "GET", "/api/patrol/anomalies", "")
	if code != 200 || strings.Contains(string(b), `"district":"`+s.distB+`"`) {
		t.Errorf("anomalies: %d %s", code, b)
	}
	// Their own objects are theirs.
	for _, p := range []string{fmt.Sprintf("/api/patrol/routes/%d", s.routeA), fmt.Sprintf("/api/patrol/anomalies/%d", s.anomA),
		fmt.Sprintf("/api/patrol/coverage?route=%d", s.routeA)} {
		if code, b := s.call(dm, "GET", p, ""); code != 200 {
			t.Errorf("%s: %d %s", p, code, b)
		}
	}
}

func TestCrewScope(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	for _, c := range []struct{ method, path, body, code string }{
		{"GET", fmt.Sprintf("/api/repair/jobs/%d", s.jobB), "", "auth.not_assigned"},
		{"GET", fmt.Sprintf("/api/repair/jobs/%d/notice", s.jobB), "", "auth.not_assigned"},
		{"POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobB), `{"milestone":"dispatched"}`, "auth.not_assigned"},
		{"POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobA), `{"milestone":"approved"}`, "auth.dispatch_only"},
		{"POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobA), `{"milestone":"closed"}`, "auth.dispatch_only"},
		{"POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobA), `{"Milestone":"approved"}`, "auth.dispatch_only"},
		{"POST", fmt.Sprintf("/api/repair/jobs/%d/cancel", s.jobA), `{}`, "auth.forbidden"},
		{"GET", "/api/repair/jobs", "", "auth.forbidden"},
		{"GET", "/api/patrol/routes", "", "auth.forbidden"},
	} {
		code, b := s.call("crew1", c.method, c.path, c.body)
		if code != 403 || errCode(b) != c.code {
			t.Errorf("%s %s %s: %d %s, want 403 %s", c.method, c.path, c.body, code, b, c.code)
		}
	}
	// The crew records its milestone; "by" is who signed in, whatever
	// the body says.
	code, b := s.call("crew1", "POST", fmt.Sprintf("/api/repair/jobs/%d/milestones", s.jobA), `{"milestone":"dispatched","by":"the mayor","BY":"x"}`)
	if code != 201 {
		t.Fatalf("record: %d %s", code, b)
	}
	code, b = s.call("crew1", "GET", fmt.Sprintf("/api/repair/jobs/%d/timeline", s.jobA), "")
	if code != 200 || !strings.Contains(string(b), `"by":"crew1"`) || strings.Contains(string(b), "the mayor") {
		t.Errorf("timeline: %d %s", code, b)
	}
	code, b = s.call("crew1", "GET", "/api/me/jobs", "")
	var mine struct {
		Jobs []struct {
			ID int64 `json:"id"`
		} `json:"jobs"`
	}
	json.Unmarshal(b, &mine) //nolint:errcheck
	if code != 200 || len(mine.Jobs) != 1 || mine.Jobs[0].ID != s.jobA {
		t.Errorf("my jobs: %d %s", code, b)
	}
}

// TestContactData: customers' names and phones reach dispatchers and
// administrators (and a crew on its own job); an export of them is
// audited.
func TestContactData(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	plan := `{"pipe":"` + s.pipe + `"}`
	for user, sees := range map[string]bool{"dispatch1": true, "admin1": true, "viewer1": false, "gis1": false, "manager1": false} {
		code, b := s.call(user, "POST", "/api/shutoffs/plan", plan)
		if code != 200 {
			t.Fatalf("plan as %s: %d %s", user, code, b)
		}
		if got := strings.Contains(string(b), s.critName); got != sees {
			t.Errorf("plan as %s: critical customer's name shown %v, want %v", user, got, sees)
		}
		var resp struct {
			Critical []struct {
				ID, Name, Phone, Category string
			} `json:"critical"`
		}
		json.Unmarshal(b, &resp) //nolint:errcheck
		if len(resp.Critical) == 0 || resp.Critical[0].ID == "" || resp.Critical[0].Category == "" {
			t.Errorf("plan as %s: critical customers missing: %s", user, b)
		}
	}
	for user, sees := range map[string]bool{"dispatch1": true, "viewer1": false, "crew1": true} {
		code, b := s.call(user, "GET", fmt.Sprintf("/api/repair/jobs/%d", s.jobA), "")
		if code != 200 {
			t.Fatalf("job as %s: %d %s", user, code, b)
		}
		if got := strings.Contains(string(b), "13912345678"); got != sees {
			t.Errorf("job as %s: work order contact shown %v, want %v", user, got, sees)
		}
		if got := strings.Contains(string(b), s.critName); got != sees {
			t.Errorf("job as %s: plan's critical customer's name shown %v, want %v", user, got, sees)
		}
	}
	code, b := s.call("viewer1", "GET", "/api/repair/jobs", "")
	if code != 200 || strings.Contains(string(b), "13912345678") || strings.Contains(string(b), "李女士") {
		t.Errorf("job list as viewer: %d %.300s", code, b)
	}
	// The customer list: dispatchers only, and audited.
	code, b = s.call("dispatch1", "GET", "/api/shutoffs/customers.csv?pipe="+url.QueryEscape(s.pipe), "")
	if code != 200 || !strings.Contains(string(b), s.phones[0]) {
		t.Fatalf("csv: %d %.200s", code, b)
	}
	code, b = s.call("admin1", "GET", "/api/audit?actor=dispatch1&action="+url.QueryEscape("GET /api/shutoffs/customers.csv"), "")
	var log struct {
		Entries []auth.Entry `json:"entries"`
	}
	json.Unmarshal(b, &log) //nolint:errcheck
	if code != 200 || len(log.Entries) != 1 || log.Entries[0].Target["export"] == nil || log.Entries[0].Status != 200 ||
		log.Entries[0].RequestID == "" || log.Entries[0].Remote == "" || log.Entries[0].Role != "dispatcher" {
		t.Errorf("export audit: %d %s", code, b)
	}
}

// TestSignIn drives the browser's sign-in: the page, cookies and their
// flags, CSRF, sign-out, bad passwords, disabled users, the UI redirect.
func TestSignIn(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	// Signed out, the UI page sends the browser to the sign-in page.
	res := s.do("", "GET", "/", "", nil)
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "login" {
		t.Errorf("/ signed out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res = s.do("", "GET", "/app.js", "", nil)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/app.js signed out: %d", res.StatusCode)
	}
	code, page := s.call("", "GET", "/login?next=%2F%2Fevil.example&error=1", "")
	if code != 200 || !strings.Contains(string(page), `action="api/login"`) || strings.Contains(string(page), "evil") ||
		!strings.Contains(string(page), `id="login-error"`) {
		t.Errorf("login page: %d %s", code, page)
	}

	// JSON sign-in: the cookies and their flags.
	res = s.do("", "POST", "/api/login", `{"name":"dispatch1","password":"`+s.passwd+`"}`, nil)
	res.Body.Close()
	var sess, csrf *http.Cookie
	for _, c := range res.Cookies() {
		switch c.Name {
		case web.SessionCookie:
			sess = c
		case web.CSRFCookie:
			csrf = c
		}
	}
	if res.StatusCode != 200 || sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure ||
		csrf == nil || csrf.HttpOnly || len(sess.Value) < 40 {
		t.Fatalf("login: %d %+v %+v", res.StatusCode, sess, csrf)
	}
	res = s.do("", "POST", "/api/login", `{"name":"dispatch1","password":"`+s.passwd+`"}`, http.Header{"X-Forwarded-Proto": {"https"}})
	res.Body.Close()
	for _, c := range res.Cookies() {
		if !c.Secure {
			t.Errorf("behind TLS, cookie %s is not Secure", c.Name)
		}
	}

	b := s.signIn("dispatch1")
	code, body := b.send("GET", "/api/me", "", nil)
	if code != 200 || !strings.Contains(string(body), `"role":"dispatcher"`) || !strings.Contains(string(body), b.csrf) {
		t.Fatalf("me: %d %s", code, body)
	}
	// A same-origin change works, with or without the CSRF header.
	plan := `{"pipe":"` + s.pipe + `"}`
	if code, body := b.send("POST", "/api/shutoffs/plan", plan, nil); code != 200 {
		t.Errorf("same-origin plan: %d %s", code, body)
	}
	if code, body := b.send("POST", "/api/shutoffs/plan", plan, http.Header{web.CSRFHeader: {b.csrf}}); code != 200 {
		t.Errorf("plan with the CSRF header: %d %s", code, body)
	}
	// Forgeries are refused.
	for name, h := range map[string]http.Header{
		"cross-site fetch":    {"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		"foreign origin":      {"Sec-Fetch-Site": nil, "Origin": {"https://evil.example"}},
		"wrong CSRF token":    {web.CSRFHeader: {"forged"}},
		"same-site subdomain": {"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://a.example"}},
	} {
		code, body := b.send("POST", "/api/shutoffs/plan", plan, h)
		if code != 403 || !strings.HasPrefix(errCode(body), "csrf.") {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	// An API token is not a browser's: no CSRF check.
	res = s.do("dispatch1", "POST", "/api/shutoffs/plan", plan, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("token from anywhere: %d", res.StatusCode)
	}
	// A cross-site sign-in form is refused (login CSRF).
	res = s.do("", "POST", "/api/login", `{"name":"dispatch1","password":"`+s.passwd+`"}`, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("cross-site login: %d", res.StatusCode)
	}

	// Sign-out ends the session at once.
	if code, body := b.send("POST", "/api/logout", "", nil); code != 200 {
		t.Fatalf("logout: %d %s", code, body)
	}
	if code, _ := b.send("GET", "/api/me", "", nil); code != 401 {
		t.Errorf("me after logout: %d", code)
	}

	// The form (no JavaScript): success goes to the app, failure back.
	form := url.Values{"name": {"viewer1"}, "password": {s.passwd}, "next": {"?lang=en"}}
	req, _ := http.NewRequest("POST", s.baseURL+"/api/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.baseURL)
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "../?lang=en" {
		t.Errorf("form login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	form.Set("password", "wrong")
	req, _ = http.NewRequest("POST", s.baseURL+"/api/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || !strings.HasPrefix(loc, "../login?error=credentials") {
		t.Errorf("failed form login: %d %q", res.StatusCode, loc)
	}

	// Wrong passwords, unknown users, disabled users: one answer.
	for _, body := range []string{`{"name":"dispatch1","password":"wrong password"}`, `{"name":"nobody","password":"x"}`} {
		if code, b := s.call("", "POST", "/api/login", body); code != 401 || errCode(b) != "auth.bad_credentials" {
			t.Errorf("bad login %s: %d %s", body, code, b)
		}
	}
	yes := true
	if _, err := s.users.UpdateUser(t.Context(), "gis1", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if code, b := s.call("", "POST", "/api/login", `{"name":"gis1","password":"`+s.passwd+`"}`); code != 401 {
		t.Errorf("disabled login: %d %s", code, b)
	}
	if code, b := s.call("gis1", "GET", "/api/me", ""); code != 401 || errCode(b) != "auth.bad_token" {
		t.Errorf("disabled user's token: %d %s", code, b)
	}
	// Failed sign-ins are audited.
	code, body = s.call("admin1", "GET", "/api/audit?action=login&outcome=denied", "")
	if code != 200 || !strings.Contains(string(body), `"actor":"nobody"`) {
		t.Errorf("audit of failed sign-ins: %d %s", code, body)
	}
}

func TestTokensAndUsersAPI(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	code, b := s.call("admin1", "POST", "/api/users", `{"name":"zhang.san","display_name":"张三","role":"district_manager","districts":["D002"]}`)
	var added struct {
		Password string `json:"password"`
	}
	json.Unmarshal(b, &added) //nolint:errcheck
	if code != 201 || len(added.Password) != 20 {
		t.Fatalf("add user: %d %s", code, b)
	}
	if code, b := s.call("", "POST", "/api/login", `{"name":"zhang.san","password":"`+added.Password+`"}`); code != 200 || !strings.Contains(string(b), `"districts":["D002"]`) {
		t.Errorf("new user signs in: %d %s", code, b)
	}
	for _, body := range []string{
		`{"name":"x'; DROP TABLE users;--","role":"viewer"}`,
		`{"name":"dm","role":"district_manager"}`,
		`{"name":"v2","role":"viewer","districts":["D001"]}`,
		`{"name":"v3","role":"root"}`,
		`{"name":"v4","role":"viewer","password":"short"}`,
	} {
		if code, b := s.call("admin1", "POST", "/api/users", body); code != 400 {
			t.Errorf("add %s: %d %s", body, code, b)
		}
	}
	if code, b := s.call("admin1", "POST", "/api/users", `{"name":"viewer1","role":"viewer"}`); code != 409 {
		t.Errorf("duplicate user: %d %s", code, b)
	}
	if code, b := s.call("admin1", "PATCH", "/api/users/admin1", `{"disabled":true}`); code != 409 {
		t.Errorf("self-disable: %d %s", code, b)
	}
	// A token: shown once, listed by prefix, revoked.
	code, b = s.call("admin1", "POST", "/api/tokens", `{"user":"viewer1","label":"scada","expires_days":30}`)
	var tok struct {
		Token string `json:"token"`
		Info  struct {
			ID     int64  `json:"id"`
			Prefix string `json:"prefix"`
		} `json:"info"`
	}
	json.Unmarshal(b, &tok) //nolint:errcheck
	if code != 201 || !strings.HasPrefix(tok.Token, "wlt_") || !strings.HasPrefix(tok.Token, tok.Info.Prefix) {
		t.Fatalf("token: %d %s", code, b)
	}
	s.tokens["scada"] = tok.Token
	if code, _ := s.call("scada", "GET", "/api/network", ""); code != 200 {
		t.Errorf("new token: %d", code)
	}
	code, b = s.call("admin1", "GET", "/api/tokens?user=viewer1", "")
	if code != 200 || strings.Contains(string(b), tok.Token) || !strings.Contains(string(b), tok.Info.Prefix) {
		t.Errorf("token list: %d %s", code, b)
	}
	if code, b := s.call("admin1", "DELETE", fmt.Sprintf("/api/tokens/%d", tok.Info.ID), ""); code != 200 {
		t.Fatalf("revoke: %d %s", code, b)
	}
	if code, b := s.call("scada", "GET", "/api/network", ""); code != 401 || errCode(b) != "auth.bad_token" {
		t.Errorf("revoked token: %d %s", code, b)
	}
	// A garbled header is not a token.
	for _, h := range []string{"Basic YWRtaW46YWRtaW4=", "Bearer ", "Bearer wlt_" + strings.Repeat("A", 200), "Bearer x' OR '1'='1"} {
		res := s.do("", "GET", "/api/network", "", http.Header{"Authorization": {h}})
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("Authorization %q: %d", h, res.StatusCode)
		}
	}
	// A user changes their own password; the old one stops working.
	b2 := s.signIn("viewer1")
	if code, body := b2.send("POST", "/api/me/password", `{"old":"`+s.passwd+`","new":"a brand new secret"}`, nil); code != 200 {
		t.Fatalf("change password: %d %s", code, body)
	}
	if code, _ := s.call("", "POST", "/api/login", `{"name":"viewer1","password":"`+s.passwd+`"}`); code != 401 {
		t.Errorf("old password still works: %d", code)
	}
	if code, body := b2.send("GET", "/api/me", "", nil); code != 200 {
		t.Errorf("the session that changed it ended: %d %s", code, body)
	}
}

// TestAuditLog: state changes are recorded with who, what, from where
// and the request id; refused attempts too; the log's filters are inert.
func TestAuditLog(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	res := s.do("viewer1", "POST", fmt.Sprintf("/api/repair/jobs/%d/cancel", s.jobB), `{"reason":"x"}`, http.Header{"X-Request-Id": {"req-denied-1"}})
	io.Copy(io.Discard, res.Body) //nolint:errcheck
	res.Body.Close()
	res = s.do("dispatch1", "POST", fmt.Sprintf("/api/repair/jobs/%d/cancel", s.jobB), `{"reason":"opened twice"}`, http.Header{"X-Request-Id": {"req-cancel-1"}})
	io.Copy(io.Discard, res.Body) //nolint:errcheck
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	code, b := s.call("admin1", "GET", "/api/audit?action="+url.QueryEscape("POST /api/repair/jobs/{id:[0-9]+}/cancel"), "")
	var log struct {
		Entries []auth.Entry `json:"entries"`
	}
	if err := json.Unmarshal(b, &log); err != nil || code != 200 || len(log.Entries) != 2 {
		t.Fatalf("audit: %d %s", code, b)
	}
	sort.Slice(log.Entries, func(i, j int) bool { return log.Entries[i].ID < log.Entries[j].ID })
	d, ok := log.Entries[0], log.Entries[1]
	if d.Actor != "viewer1" || d.Outcome != "denied" || d.Status != 403 || d.RequestID != "req-denied-1" {
		t.Errorf("denied entry: %+v", d)
	}
	if ok.Actor != "dispatch1" || ok.Outcome != "ok" || ok.Via != "token" || ok.RequestID != "req-cancel-1" || ok.Remote != "127.0.0.1" ||
		fmt.Sprint(ok.Target["vars"]) != fmt.Sprintf("map[id:%d]", s.jobB) || ok.At.IsZero() {
		t.Errorf("change entry: %+v", ok)
	}
	// Set-up changes are there too: jobs opened, crew assigned, patrol plans.
	for _, action := range []string{"POST /api/repair/jobs", "PUT /api/repair/jobs/{id:[0-9]+}/crew", "POST /api/patrol/plan", "POST /api/patrol/anomalies"} {
		code, b := s.call("admin1", "GET", "/api/audit?outcome=ok&action="+url.QueryEscape(action), "")
		if code != 200 || !strings.Contains(string(b), `"action":"`+action) {
			t.Errorf("no audit of %s: %s", action, b)
		}
	}
	// Reads are not audited (only exports of contact data).
	code, b = s.call("admin1", "GET", "/api/audit?action=GET", "")
	if code != 200 || strings.Contains(string(b), `"action":"GET /api/network`) {
		t.Errorf("reads audited: %s", b)
	}
	// Filters are values, never SQL.
	for _, q := range []url.Values{{"actor": {"' OR '1'='1"}}, {"action": {"%"}}, {"request_id": {"1;DROP TABLE audit_log"}},
		{"outcome": {"ok' --"}}, {"actor": {"<script>alert(1)</script>"}}} {
		code, b := s.call("admin1", "GET", "/api/audit?"+q.Encode(), "")
		var l struct {
			Entries []auth.Entry `json:"entries"`
		}
		json.Unmarshal(b, &l) //nolint:errcheck
		if code >= 500 || len(l.Entries) > 0 {
			t.Errorf("audit?%s: %d, %d entries", q.Encode(), code, len(l.Entries))
		}
	}
	code, b = s.call("admin1", "GET", "/api/audit?limit=1", "")
	if err := json.Unmarshal(b, &log); code != 200 || err != nil || len(log.Entries) != 1 {
		t.Errorf("audit limit: %d %s", code, b)
	}
}
