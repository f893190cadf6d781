package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// terminateBackends ends every other connection to the test's database,
// as a database restart does to its clients (the server is shared with
// other checkouts' tests, so it is not restarted). It returns how many.
func terminateBackends(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) k`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func jobStatus(t *testing.T, url, job string) string {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return ""
	}
	defer c.Close(ctx)
	var s string
	c.QueryRow(ctx, "SELECT status FROM job_runs WHERE job = $1 ORDER BY started_at DESC LIMIT 1", job).Scan(&s) //nolint:errcheck
	return s
}

// TestDatabaseFault cuts every database connection of a running service
// three times — the first while the morning patrol job runs, while
// clients plan, draw tiles and list — and checks that it recovers by
// itself: requests succeed again within seconds, the interrupted job is
// retried and done once, every repair scan slot runs once, and network
// changes still reach the service.
func TestDatabaseFault(t *testing.T) {
	t.Parallel()
	_, url := testdb.New(t, 4548)
	// The morning job at the next whole minute (so it is not run at start),
	// slow enough to be cut (4 s per route), retried every 2 s; the repair
	// scan every second.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Now().In(loc).Add(time.Minute).Truncate(time.Minute)
	if time.Until(at) < 15*time.Second {
		at = at.Add(time.Minute)
	}
	rules := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(rules, []byte(fmt.Sprintf("[patrol]\ncron = \"%d %d * * *\"\njob_route_time_ms = 4000\n\n[repair]\nscan_schedule = \"@every 1s\"\n",
		at.Minute(), at.Hour())), 0o644); err != nil {
		t.Fatal(err)
	}
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_RULES": rules, "WATERLINE_CATCHUP": "2s"}
	genImport(t, envs, 3000, 9)
	ds, err := gen.Generate(gen.Options{Pipes: 3000, Seed: 9, SRID: 4548})
	if err != nil {
		t.Fatal(err)
	}
	var pipes []string
	for _, p := range ds.Pipes {
		if p.Status == gis.StatusInService {
			pipes = append(pipes, p.ID)
		}
	}
	srv := startServe(t, envs)
	// A user per client: the per-client rate limits apply as in service.
	var tokens []string
	for w := range 8 {
		name := fmt.Sprintf("client%d", w)
		if code, out, errs := runCmd(t, envs, "user", "add", name, "-role", "dispatcher", "-no-password"); code != 0 {
			t.Fatalf("user add: %s %s", out, errs)
		}
		tokens = append(tokens, mustToken(t, envs, name))
	}

	// Clients: plans, tiles and lists, each request's outcome by time.
	type outcome struct {
		at  time.Time
		ok  bool
		why string
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				var req *http.Request
				switch rng.IntN(8) {
				case 0:
					p := pipes[rng.IntN(len(pipes))]
					req, _ = http.NewRequest("POST", srv.base+"/api/shutoffs/plan", strings.NewReader(`{"pipe":"`+p+`"}`))
				case 1, 3:
					req, _ = http.NewRequest("GET", srv.base+fmt.Sprintf("/tiles/network/15/%d/%d.mvt", 27000+rng.IntN(40), 12770+rng.IntN(40)), nil)
				case 2, 4, 5:
					req, _ = http.NewRequest("GET", srv.base+"/api/repair/jobs", nil)
				default:
					req, _ = http.NewRequest("GET", srv.base+"/api/patrol/routes?district=D001", nil)
				}
				req.Header.Set("Authorization", "Bearer "+tokens[w])
				t0 := time.Now()
				res, err := client.Do(req)
				o := outcome{at: t0, ok: err == nil && res.StatusCode < 300}
				if err != nil {
					o.why = err.Error()
				} else {
					o.why = res.Status
					res.Body.Close()
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	// Cut the connections while the morning job runs, then twice more.
	deadline := time.Now().Add(time.Until(at) + 30*time.Second)
	for jobStatus(t, url, "patrol.plan") != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("the morning job did not start at %s", at.Format("15:04"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	var kills []time.Time
	for i := range 3 {
		if i > 0 {
			time.Sleep(2 * time.Second)
		}
		n := terminateBackends(t, url)
		kills = append(kills, time.Now())
		t.Logf("cut %d database connections", n)
	}
	lastKill := kills[len(kills)-1]

	// The job is retried and done, once.
	for jobStatus(t, url, "patrol.plan") != "done" {
		if time.Since(lastKill) > 60*time.Second {
			t.Fatalf("the interrupted morning job was not redone (status %q)", jobStatus(t, url, "patrol.plan"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Clients keep going 8 s after the last cut.
	time.Sleep(time.Until(lastKill.Add(8 * time.Second)))
	stop.Store(true)
	wg.Wait()

	// Requests fail only in the seconds after a cut.
	var total, failed, late int
	var lastFailure time.Time
	for _, o := range outcomes {
		total++
		if o.ok {
			continue
		}
		failed++
		if o.at.After(lastFailure) {
			lastFailure = o.at
		}
		near := false
		for _, k := range kills {
			if o.at.After(k.Add(-time.Second)) && o.at.Before(k.Add(4*time.Second)) {
				near = true
			}
		}
		if !near {
			late++
			t.Errorf("request at %s failed far from a cut: %s", o.at.Format("15:04:05.000"), o.why)
		}
	}
	t.Logf("%d requests, %d failed (all within 4 s of a cut); last failure %v after the last cut", total, failed, lastFailure.Sub(lastKill).Round(time.Millisecond))
	if total < 200 {
		t.Errorf("only %d requests", total)
	}

	// Jobs: the morning plan started more than once (it was cut) and was
	// done once; every scan slot ran once, none was done twice.
	slots := jobSlots(t, url)
	today := at.Format("2006-01-02")
	p := slots[[2]string{"patrol.plan", today}]
	if p.done != 1 || p.started < 2 {
		t.Errorf("morning job %s: started %d, done %d; want cut, retried, done once", today, p.started, p.done)
	}
	t.Logf("morning job: started %d times, done %d", p.started, p.done)
	first, last := "", ""
	for k, r := range slots {
		if k[0] != "repair.escalate" {
			continue
		}
		if r.done > 1 {
			t.Errorf("scan slot %s done %d times", k[1], r.done)
		}
		if first == "" || k[1] < first {
			first = k[1]
		}
		if k[1] > last {
			last = k[1]
		}
	}
	for k, r := range slots {
		if k[0] == "repair.escalate" && k[1] != last && r.done != 1 {
			t.Errorf("scan slot %s was lost: %+v", k[1], r)
		}
	}

	// The network listener came back: an import reaches the service.
	genImport(t, envs, 3000, 10)
	t0 := time.Now()
	for {
		var ready struct {
			Version int64 `json:"network_version"`
		}
		if code := getJSON(t, client, srv.base+"/readyz", "", &ready); code == 200 && ready.Version == 2 {
			break
		}
		if time.Since(t0) > 10*time.Second {
			t.Fatal("the service did not follow an import after the fault")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
