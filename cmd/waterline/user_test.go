package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/migrations/testdb"
)

// runIn runs the command line with stdin.
func runIn(t *testing.T, envs map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(context.Background(), args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return envs[k] }})
	return code, out.String(), errb.String()
}

var passwordLine = regexp.MustCompile(`password: (\S+)`)

func TestUserCommands(t *testing.T) {
	_, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url}
	code, out, errs := runCmd(t, envs, "user", "add", "zhang", "-role", "district_manager", "-districts", "D001,D002", "-display", "张三")
	pw := passwordLine.FindStringSubmatch(out)
	if code != 0 || pw == nil || len(pw[1]) != 20 || !strings.Contains(out, "district_manager of D001, D002") {
		t.Fatalf("user add: %d %q %q", code, out, errs)
	}
	if code, out, errs := runIn(t, envs, "a typed password\n", "user", "add", "li", "-role", "crew", "-password-stdin"); code != 0 || strings.Contains(out, "password:") {
		t.Errorf("user add -password-stdin: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{
		{"user", "add", "x", "-role", "root"},
		{"user", "add", "y", "-role", "district_manager"},
		{"user", "add", "bad name", "-role", "viewer"},
		{"user", "add", "zhang", "-role", "viewer"},
	} {
		if code, _, _ := runCmd(t, envs, args...); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
	if code, _, _ := runCmd(t, envs, "user", "add"); code != 2 {
		t.Errorf("user add without a name: exit %d", code)
	}
	code, out, _ = runCmd(t, envs, "user", "list")
	if code != 0 || !strings.Contains(out, "zhang") || !strings.Contains(out, "张三") || !strings.Contains(out, "crew") {
		t.Errorf("user list: %q", out)
	}
	if code, out, _ := runCmd(t, envs, "user", "set", "li", "-role", "viewer"); code != 0 || !strings.Contains(out, "li is now viewer") {
		t.Errorf("user set: %d %q", code, out)
	}
	code, out, _ = runCmd(t, envs, "user", "passwd", "zhang")
	if pw2 := passwordLine.FindStringSubmatch(out); code != 0 || pw2 == nil || pw2[1] == pw[1] {
		t.Errorf("user passwd: %q", out)
	}
	code, out, _ = runCmd(t, envs, "user", "token", "add", "zhang", "-label", "phone app", "-expires-days", "30")
	tok := regexp.MustCompile(`wlt_\S+`).FindString(out)
	if code != 0 || tok == "" {
		t.Fatalf("token add: %q", out)
	}
	code, out, _ = runCmd(t, envs, "user", "token", "list")
	if code != 0 || !strings.Contains(out, "phone app") || strings.Contains(out, tok) || !strings.Contains(out, "active") {
		t.Errorf("token list: %q", out)
	}
	if code, out, _ := runCmd(t, envs, "user", "token", "revoke", "1"); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("token revoke: %q", out)
	}
	if code, out, _ := runCmd(t, envs, "user", "disable", "zhang"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("disable: %q", out)
	}
	// ensure-admin: creates with a printed password; then leaves it; -reset
	// gives a new one.
	code, out, _ = runCmd(t, envs, "user", "ensure-admin")
	if a := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out); code != 0 || a == nil {
		t.Errorf("ensure-admin: %q", out)
	}
	if code, out, _ := runCmd(t, envs, "user", "ensure-admin"); code != 0 || strings.Contains(out, "password:") {
		t.Errorf("ensure-admin again: %q", out)
	}
	if code, out, _ := runCmd(t, envs, "user", "ensure-admin", "-reset"); code != 0 || !strings.Contains(out, "new password: ") {
		t.Errorf("ensure-admin -reset: %q", out)
	}
	if code, _, errs := runCmd(t, envs, "user", "help"); code != 0 {
		t.Errorf("user help: %d %s", code, errs)
	}
}

// replica is one `waterline serve` run by run() in this process.
type replica struct {
	base    string
	cancel  context.CancelFunc
	done    chan int
	mu      sync.Mutex
	printed []string
}

// startServe runs `waterline serve` on a free loopback port and returns
// once it serves; the test ends it (and fails if it does not stop).
func startServe(t *testing.T, envs map[string]string) *replica {
	t.Helper()
	e := map[string]string{"WATERLINE_ADDR": "127.0.0.1:0"}
	for k, v := range envs {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	rp := &replica{cancel: cancel, done: make(chan int, 1)}
	go func() {
		rp.done <- run(ctx, []string{"serve"}, &env{stdout: pw, stderr: io.Discard, stdin: strings.NewReader(""),
			getenv: func(k string) string { return e[k] }})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		cancel()
		t.Fatalf("serve printed nothing (exit %d)", <-rp.done)
	}
	rp.base = strings.TrimSpace(strings.TrimPrefix(lines.Text(), "waterline: serving on "))
	go func() {
		for lines.Scan() {
			rp.mu.Lock()
			rp.printed = append(rp.printed, lines.Text())
			rp.mu.Unlock()
		}
	}()
	t.Cleanup(func() { rp.stop(t) })
	return rp
}

func (rp *replica) stop(t *testing.T) {
	rp.cancel()
	select {
	case code, ok := <-rp.done:
		if ok && code != 0 {
			t.Errorf("serve exited %d", code)
		}
		close(rp.done)
	case <-time.After(40 * time.Second):
		t.Error("serve did not stop")
	}
}

func (rp *replica) output() string {
	time.Sleep(50 * time.Millisecond)
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return strings.Join(rp.printed, "\n")
}

// getJSON GETs a path with a bearer token and decodes the JSON answer.
func getJSON(t *testing.T, client *http.Client, url, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out) //nolint:errcheck
	} else {
		io.Copy(io.Discard, res.Body) //nolint:errcheck
	}
	return res.StatusCode
}

// fastJobs writes a rules file whose jobs fire every second.
func fastJobs(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(f, []byte("[patrol]\ncron = \"@every 1s\"\n\n[repair]\nscan_schedule = \"@every 1s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustToken(t *testing.T, envs map[string]string, user string) string {
	t.Helper()
	code, out, errs := runCmd(t, envs, "user", "token", "add", user)
	tok := regexp.MustCompile(`wlt_\S+`).FindString(out)
	if code != 0 || tok == "" {
		t.Fatalf("token for %s: %d %s %s", user, code, out, errs)
	}
	return tok
}

func genImport(t *testing.T, envs map[string]string, pipes, seed int) {
	t.Helper()
	if code, out, errs := runCmd(t, envs, "gen", "--pipes", fmt.Sprint(pipes), "--seed", fmt.Sprint(seed), "--import"); code != 0 {
		t.Fatalf("gen: %d %s %s", code, out, errs)
	}
}
