package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/repair"
)

// runRepair runs `waterline repair …` with the given environment.
func runRepair(t *testing.T, envs map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cmdRepair(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return envs[k] }}, args)
	return out.String(), errb.String(), err
}

// TestRepairCommands drives `waterline repair` on the Giswater sample:
// open, record in and out of order, show, list, scan, report, calendar.
func TestRepairCommands(t *testing.T) {
	sample := filepath.Join(sharedData, "giswater/network.geojson")
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	_, url := testdb.New(t, 25831)
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_SRID": "25831"}
	if code, out, errs := runCmd(t, envs, "import", "--replace", sample); code != 0 {
		t.Fatalf("import: %s %s", out, errs)
	}
	out, errs, err := runRepair(t, envs, "open", "--pipe", "2061", "--source", "96111", "--content", "路面冒水",
		"--address", "Sant Ramon 176", "--by", "调度员 王", "--json")
	if err != nil {
		t.Fatalf("open: %v %s", err, errs)
	}
	var jb struct {
		ID     int64
		Valves []string
	}
	if err := json.Unmarshal([]byte(out), &jb); err != nil || strings.Join(jb.Valves, ",") != "1088,1090,1109,1111,1114" {
		t.Fatalf("open: %v %s", err, out)
	}
	id := strconv.FormatInt(jb.ID, 10)
	if out, errs, err := runRepair(t, envs, "record", id, "dispatched", "--by", "调度员 王"); err != nil || !strings.Contains(out, "next: on_site due") {
		t.Errorf("record: %v %s %s", err, out, errs)
	}
	if _, _, err := runRepair(t, envs, "record", id, "valves_closed", "--by", "x"); err == nil || !strings.Contains(err.Error(), "approve") {
		t.Errorf("out of order: %v", err)
	}
	if _, _, err := runRepair(t, envs, "fail", id, "1090", "--by", "x"); err == nil || !strings.Contains(err.Error(), "approved") {
		t.Errorf("failure before approval: %v", err)
	}
	if out, _, err := runRepair(t, envs, "show", id); err != nil || !strings.Contains(out, "on_site") || !strings.Contains(out, "Sant Ramon 176") {
		t.Errorf("show: %v %s", err, out)
	}
	if out, _, err := runRepair(t, envs, "list", "--status", "open"); err != nil || !strings.HasPrefix(out, "1 jobs") {
		t.Errorf("list: %v %s", err, out)
	}
	if out, _, err := runRepair(t, envs, "scan"); err != nil || !strings.HasPrefix(out, "scan: 1 open jobs") {
		t.Errorf("scan: %v %s", err, out)
	}
	if out, _, err := runRepair(t, envs, "report", "--csv"); err != nil || !strings.HasPrefix(out, "\ufeff月份 month") {
		t.Errorf("report: %v %q", err, out)
	}
	if out, _, err := runRepair(t, envs, "escalations"); err != nil {
		t.Errorf("escalations: %v %s", err, out)
	}
	if out, _, err := runRepair(t, envs, "calendar"); err != nil || !strings.Contains(out, "CN 2026") || !strings.Contains(out, "CN 2027 PROVISIONAL") {
		t.Errorf("calendar: %v %s", err, out)
	}
	file := filepath.Join(t.TempDir(), "cn-2028.json")
	os.WriteFile(file, []byte(`{"calendar":"CN","year":2028,"source":"test","holidays":[{"from":"2028-01-01","to":"2028-01-03","name":"元旦"}],"workdays":[]}`), 0o644) //nolint:errcheck
	if out, errs, err := runRepair(t, envs, "calendar", "load", file, "--by", "admin"); err != nil || !strings.Contains(out, "2028") {
		t.Errorf("calendar load: %v %s %s", err, out, errs)
	}
	if out, _, err := runRepair(t, envs, "cancel", id, "--by", "x", "--reason", "test"); err != nil || !strings.Contains(out, "cancelled") {
		t.Errorf("cancel: %v %s", err, out)
	}
}

// TestRepairRules: the [repair] section of the rules file reaches the
// deadlines; a bad one is refused.
func TestRepairRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rules.toml")
	os.WriteFile(file, []byte("[grades]\n[repair]\non_site_minutes = 20\nquiet_until = \"07:00\"\n"), 0o644) //nolint:errcheck
	all, err := LoadRules(file)
	if r := all.Repair; err != nil || r.OnSiteMinutes != 20 || r.QuietUntil != "07:00" || r.BarriersMinutes != 30 {
		t.Errorf("rules: %+v %v", r, err)
	}
	os.WriteFile(file, []byte("[repair]\nquiet_from = \"late\"\n"), 0o644) //nolint:errcheck
	if _, err := LoadRules(file); err == nil || !strings.Contains(err.Error(), "quiet_from") {
		t.Errorf("bad rules: %v", err)
	}
	if all, err := LoadRules(""); err != nil || all.Repair != repair.DefaultRules() {
		t.Errorf("defaults: %+v %v", all.Repair, err)
	}
}

func TestRepairUsage(t *testing.T) {
	var ue usageError
	if _, errs, err := runRepair(t, nil); !errors.As(err, &ue) || !strings.Contains(errs, "subcommands") {
		t.Errorf("repair: %v %s", err, errs)
	}
	if _, _, err := runRepair(t, nil, "bogus"); !errors.As(err, &ue) {
		t.Errorf("repair bogus: %v", err)
	}
	for _, sub := range []string{"open", "list", "show", "record", "fail", "cancel", "escalations", "scan", "report", "calendar"} {
		if _, errs, err := runRepair(t, nil, sub, "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errs, "usage: waterline repair "+sub) {
			t.Errorf("repair %s -h: %v %s", sub, err, errs)
		}
	}
	if _, _, err := runRepair(t, map[string]string{"DATABASE_URL": "postgres://x"}, "show"); !errors.As(err, &ue) {
		t.Errorf("show without id: %v", err)
	}
}
