package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/migrations/testdb"
)

// jobSlots reads the job history: for each job and slot, the runs started
// and finished.
type slotRuns struct{ started, done, failed int }

func jobSlots(t *testing.T, url string) map[[2]string]slotRuns {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT job, slot, count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'done'),
		count(*) FILTER (WHERE status = 'failed') FROM job_run_log GROUP BY job, slot`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[2]string]slotRuns{}
	for rows.Next() {
		var job, slot string
		var r slotRuns
		if err := rows.Scan(&job, &slot, &r.started, &r.done, &r.failed); err != nil {
			t.Fatal(err)
		}
		out[[2]string{job, slot}] = r
	}
	return out
}

// TestTwoReplicas runs two `waterline serve` on one database: the
// scheduled jobs fire on both every second, yet each slot runs once; an
// import made elsewhere reaches both replicas' networks at once
// (LISTEN/NOTIFY); a session made on one is good on the other, and
// signing out on one ends it on both.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	_, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_RULES": fastJobs(t)}
	genImport(t, envs, 400, 5)
	a := startServe(t, envs)
	b := startServe(t, envs)
	if strings.Count(a.output()+b.output(), "first start: created the administrator") != 1 {
		t.Errorf("the first administrator was announced %q / %q", a.output(), b.output())
	}
	tok := mustToken(t, envs, "admin")
	client := &http.Client{Timeout: 10 * time.Second}

	// Both replicas serve the first network.
	for _, rp := range []*replica{a, b} {
		var ready struct {
			Version int64 `json:"network_version"`
		}
		if code := getJSON(t, client, rp.base+"/readyz", "", &ready); code != 200 || ready.Version != 1 {
			t.Fatalf("%s: readyz %d %+v", rp.base, code, ready)
		}
	}
	// An import by another process: both follow within seconds (the
	// polling backstop is 30 s, so this is the notification).
	genImport(t, envs, 450, 6)
	t0 := time.Now()
	for _, rp := range []*replica{a, b} {
		for {
			var ready struct {
				Version int64 `json:"network_version"`
			}
			getJSON(t, client, rp.base+"/readyz", "", &ready)
			if ready.Version == 2 {
				break
			}
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("%s still serves network version %d 10 s after the import", rp.base, ready.Version)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("both replicas on the new network %v after the import", time.Since(t0).Round(time.Millisecond))

	// A session from replica a works on b; signing out on a ends it on b
	// (within the principal cache's few seconds).
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	code, out, _ := runCmd(t, envs, "user", "add", "disp", "-role", "dispatcher")
	pw := passwordLine.FindStringSubmatch(out)
	if code != 0 || pw == nil {
		t.Fatalf("user add: %s", out)
	}
	res, err := br.Post(a.base+"/api/login", "application/json", strings.NewReader(`{"name":"disp","password":"`+pw[1]+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("login on a: %v %v", err, res)
	}
	res.Body.Close()
	// The cookie jar keys cookies by host; both replicas are 127.0.0.1.
	if code := getJSON(t, br, b.base+"/api/me", "", nil); code != 200 {
		t.Errorf("session from a on b: %d", code)
	}
	sessionCookies := jar.Cookies(mustParse(t, a.base))
	req, _ := http.NewRequest("POST", a.base+"/api/logout", nil)
	req.Header.Set("Origin", a.base)
	if res, err := br.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("logout on a: %v %v", err, res)
	} else {
		res.Body.Close()
	}
	// Replay the old cookie against b until b refuses it.
	stale := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(6 * time.Second)
	for {
		req, _ := http.NewRequest("GET", b.base+"/api/me", nil)
		for _, c := range sessionCookies {
			req.AddCookie(c)
		}
		res, err := stale.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 401 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("replica b still accepts a session ended on a")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Jobs: wait until the repair scan has run in two minute slots (both
	// replicas fire it every second), then check the history.
	if code := getJSON(t, client, a.base+"/api/users", tok, nil); code != 200 {
		t.Errorf("admin token on a: %d", code)
	}
	deadline = time.Now().Add(75 * time.Second)
	for {
		n := 0
		for k, r := range jobSlots(t, url) {
			if k[0] == "repair.escalate" && r.done > 0 {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the repair scan did not run in two minute slots")
		}
		time.Sleep(500 * time.Millisecond)
	}
	slots := jobSlots(t, url)
	patrolSlots := 0
	for k, r := range slots {
		if k[0] == "patrol.plan" {
			patrolSlots++
		}
		if r.started != 1 || r.done != 1 || r.failed != 0 {
			t.Errorf("job %s slot %s: started %d, done %d, failed %d; want once", k[0], k[1], r.started, r.done, r.failed)
		}
	}
	if patrolSlots != 1 {
		t.Errorf("the morning patrol plan has %d slots, want 1 (today)", patrolSlots)
	}
	t.Logf("job slots: %v", slots)
}

func mustParse(t *testing.T, s string) *neturl.URL {
	u, err := neturl.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
