package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/patrol/patroltest"
)

// runPatrol runs `waterline patrol …` with the given environment.
func runPatrol(t *testing.T, envs map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cmdPatrol(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return envs[k] }}, args)
	return out.String(), errb.String(), err
}

// TestPatrolRPPBenchmark solves the 26 shared instances and holds the
// issue's targets: mean gap under 1 %, worst under 3 %, each under 1 s.
func TestPatrolRPPBenchmark(t *testing.T) {
	dir := filepath.Join(sharedData, "rpp")
	if _, err := os.Stat(filepath.Join(dir, "OPTIMA.tsv")); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	out, errs, err := runPatrol(t, nil, "rpp", "--json", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	n, sum, worst := 0, 0.0, 0.0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r rppRun
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if r.Optimum == nil || r.Gap == nil {
			t.Fatalf("%s: no optimum", r.Name)
		}
		if len(r.Tour) < 2 || r.Tour[0] != r.Tour[len(r.Tour)-1] {
			t.Fatalf("%s: tour %v", r.Name, r.Tour)
		}
		if r.MS > 1000 && !testing.Short() {
			t.Errorf("%s took %.0f ms", r.Name, r.MS)
		}
		n++
		sum += *r.Gap
		worst = max(worst, *r.Gap)
	}
	if n != 26 {
		t.Fatalf("%d instances solved, want 26", n)
	}
	if mean := sum / float64(n); mean >= 0.01 || worst >= 0.03 {
		t.Errorf("mean gap %.2f%%, worst %.2f%%: want < 1%% and < 3%%", 100*mean, 100*worst)
	}
	// The table.
	out, _, err = runPatrol(t, nil, "rpp", filepath.Join(dir, "P01"), filepath.Join(dir, "ALBAIDAA"))
	if err != nil || !strings.Contains(out, "P01") || !strings.Contains(out, "10599") || !strings.Contains(out, "mean gap") {
		t.Fatalf("table: %v\n%s", err, out)
	}
}

func TestPatrolRPPBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("NOMBRE : X\nVERTICES : 2\nARISTAS_REQ : 1\nARISTAS_NOREQ : 0\nLISTA_ARISTAS_REQ :\n(1, 2) cost 3\n"), 0o644) //nolint:errcheck
	_, errs, err := runPatrol(t, nil, "rpp", bad)
	if err == nil || !strings.Contains(errs, "bad.txt:6: bad edge line") {
		t.Fatalf("%v: %q", err, errs)
	}
	if _, _, err := runPatrol(t, nil, "rpp"); err == nil {
		t.Fatal("no files accepted")
	}
	if _, _, err := runPatrol(t, nil, "bogus"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}

func TestPatrolPlanCommand(t *testing.T) {
	ctx := context.Background()
	pool, url := testdb.New(t, patroltest.SRID)
	st := store.New(pool, patroltest.SRID, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, patroltest.City(patroltest.Options{NX: 10, NY: 8, DX: 2}), store.ImportOptions{File: "grid", Replace: true}); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(t.TempDir(), "rules.toml")
	os.WriteFile(rules, []byte("[patrol]\nmode = \"ebike\"\nhours_per_day = 5\n"), 0o644) //nolint:errcheck
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_SRID": "4548", "WATERLINE_RULES": rules}
	// The [patrol] section of the rules file reaches the patrol rules.
	all, err := LoadRules(rules)
	if err != nil || all.Patrol.Mode != "ebike" || all.Patrol.HoursPerDay != 5 {
		t.Fatalf("rules: %+v %v", all.Patrol, err)
	}
	os.WriteFile(rules, []byte("[patrol]\nmode = \"rocket\"\n"), 0o644) //nolint:errcheck
	if _, err := LoadRules(rules); err == nil || !strings.Contains(err.Error(), "rocket") {
		t.Fatalf("bad mode: %v", err)
	}
	delete(envs, "WATERLINE_RULES")

	out, errs, err := runPatrol(t, envs, "plan", "--date", "2026-03-02")
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if !strings.Contains(out, "patrol plan for 2026-03-02") || !strings.Contains(out, "D0000") || !strings.Contains(out, "D0001") || !strings.Contains(out, "route ") {
		t.Fatalf("plan output:\n%s", out)
	}
	// Re-plan one district by hand: it replaces that district's plan.
	out, errs, err = runPatrol(t, envs, "plan", "--date", "2026-03-02", "--district", "D0001", "--managers", "2", "--json")
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	var p struct {
		Saved     bool `json:"saved"`
		Districts []struct {
			Routes []struct {
				ID int64 `json:"id"`
			} `json:"routes"`
		} `json:"districts"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || !p.Saved || len(p.Districts) != 1 || len(p.Districts[0].Routes) != 2 {
		t.Fatalf("district re-plan: %v %s", err, out)
	}
	var n int
	pool.QueryRow(ctx, "SELECT count(*) FROM patrol_routes WHERE plan_date = '2026-03-02'").Scan(&n) //nolint:errcheck
	if n != 3 {
		t.Fatalf("%d routes stored, want 1 + 2", n)
	}
	if _, _, err := runPatrol(t, envs, "plan", "--date", "2026-02-30"); err == nil {
		t.Fatal("bad date accepted")
	}
	if _, _, err := runPatrol(t, envs, "plan", "--district", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown district: %v", err)
	}
}
