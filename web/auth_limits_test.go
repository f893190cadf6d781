package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/web"
)

func TestLimits(t *testing.T) {
	lim := web.DefaultLimits(16)
	lim.Heavy.Rate, lim.Heavy.Burst = 0.01, 3
	s := newAuthSite(t, siteOptions{limits: &lim})
	plan := `{"pipe":"` + s.pipe + `"}`
	// The fixture's set-up used dispatch1's heavy budget (opening jobs):
	// the viewer's is whole.
	for i := range 3 {
		if code, b := s.call("viewer1", "POST", "/api/shutoffs/plan", plan); code != 200 {
			t.Fatalf("plan %d: %d %s", i, code, b)
		}
	}
	res := s.do("viewer1", "POST", "/api/shutoffs/plan", plan, nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 429 || errCode(b) != "rate.limited" || res.Header.Get("Retry-After") == "" {
		t.Errorf("4th plan: %d %s Retry-After=%q", res.StatusCode, b, res.Header.Get("Retry-After"))
	}
	// Per client: another user is not slowed down; light routes are not
	// limited.
	if code, b := s.call("gis1", "POST", "/api/shutoffs/plan", plan); code != 200 {
		t.Errorf("another user's plan: %d %s", code, b)
	}
	for range 20 {
		if code, _ := s.call("viewer1", "GET", "/api/network", ""); code != 200 {
			t.Fatalf("light route limited: %d", code)
		}
	}
	// Bodies: a JSON route takes 1 MiB.
	big := `{"pipe":"` + strings.Repeat("x", 1<<20) + `"}`
	if code, b := s.call("gis1", "POST", "/api/shutoffs/plan", big); code != 413 || errCode(b) != "body.too_large" {
		t.Errorf("big body: %d %.200s", code, b)
	}
	if code, b := s.call("admin1", "POST", "/api/users", `{"name":"`+strings.Repeat("y", 20<<10)+`"}`); code != 413 {
		t.Errorf("big user body: %d %.200s", code, b)
	}
	// The refusals are counted.
	s.call("viewer1", "GET", "/api/users", "")
	code, m := s.call("admin1", "GET", "/metrics", "")
	for _, want := range []string{`waterline_rate_limited_total{class="heavy"} 1`, "waterline_shutoff_plan_duration_seconds_count",
		`waterline_auth_denied_total{code="auth.forbidden"} 1`, `waterline_db_pool_max`, `waterline_job_runs_total{job="patrol.plan",status="done"} 1`} {
		if code != 200 || !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _ := s.call("viewer1", "GET", "/metrics", ""); code != 403 {
		t.Errorf("metrics for a viewer: %d", code)
	}
}

// TestLogsHoldNoSecrets runs sign-ins, tokens, plans, exports and jobs
// with customers' phones and checks the log: no password, token, session,
// CSRF token or phone number.
func TestLogsHoldNoSecrets(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	b := s.signIn("dispatch1")
	b.send("POST", "/api/shutoffs/plan", `{"pipe":"`+s.pipe+`"}`, nil)
	b.send("GET", "/api/shutoffs/customers.csv?pipe="+url.QueryEscape(s.pipe), "", nil)
	b.send("POST", "/api/repair/jobs", `{"leak":{"pipe":"`+s.pipe+`"},"order":{"source":"hotline","content":"leak","contact":"王先生 13512345678"}}`, nil)
	b.send("POST", "/api/logout", "", nil)
	s.call("", "POST", "/api/login", `{"name":"dispatch1","password":"`+s.passwd+`x"}`)
	s.call("", "POST", "/api/login", `{"name":"13612345678","password":"0531-86112233"}`)
	s.call("", "GET", "/api/network", "")
	res := s.do("", "GET", "/api/network", "", http.Header{"Authorization": {"Bearer " + s.tokens["viewer1"] + "x"}})
	res.Body.Close()
	s.call("crew1", "POST", "/api/repair/jobs/999999/milestones", `{"milestone":"on_site","note":"call 13712345678"}`)

	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) || !strings.Contains(logs, `"user":"dispatch1"`) {
		t.Fatalf("no access log: %.500s", logs)
	}
	secrets := []string{s.passwd, b.csrf, "13912345678", "13512345678", "13612345678", "13712345678", "0531-86112233"}
	secrets = append(secrets, s.phones...)
	for _, tok := range s.tokens {
		secrets = append(secrets, tok, tok[4:20])
	}
	for _, c := range b.c.Jar.Cookies(mustURL(t, s.baseURL)) {
		secrets = append(secrets, c.Value)
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(logs, sec) {
			t.Errorf("the log holds %q", sec)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
