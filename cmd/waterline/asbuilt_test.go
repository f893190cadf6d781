package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/migrations/testdb"
)

func runAsbuilt(t *testing.T, envs map[string]string, args ...string) (error, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmdAsbuilt(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return envs[k] }}, args)
	return err, out.String(), errb.String()
}

// TestImportAsbuilt: waterline import of a point table makes a batch; the
// asbuilt subcommands approve (not by the uploader), commit and show it.
func TestImportAsbuilt(t *testing.T) {
	sample := filepath.Join(sharedData, "asbuilt/sample_clean.xlsx")
	_, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_SRID": "4548", "USER": "alice"}
	code, out, errs := runCmd(t, envs, "import", "--dry-run", "--crs", "EPSG:4548", sample)
	if code != 0 || !strings.Contains(out, "133 pipes") || !strings.Contains(out, "dry run") {
		if strings.Contains(errs, "no such file") {
			t.Skip("shared data not available")
		}
		t.Fatalf("dry run: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, envs, "import", "--crs", "EPSG:4548", "--project", "经十路", "--survey-date", "2026-10-15", sample)
	if code != 0 || !strings.Contains(out, "batch 1: ready") || !strings.Contains(out, "134 points") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if err, _, _ := runAsbuilt(t, envs, "approve", "1", "--ack"); err == nil || !strings.Contains(err.Error(), "cannot approve") {
		t.Fatalf("self approval: %v", err)
	}
	if err, out, _ := runAsbuilt(t, envs, "approve", "1", "--ack", "--by", "bob"); err != nil || !strings.Contains(out, "approved by bob") {
		t.Fatalf("approve: %v %s", err, out)
	}
	if err, out, _ := runAsbuilt(t, envs, "commit", "1", "--by", "bob"); err != nil || !strings.Contains(out, "network version 1") {
		t.Fatalf("commit: %v %s", err, out)
	}
	if err, out, _ := runAsbuilt(t, envs, "list"); err != nil || !strings.Contains(out, "committed") {
		t.Fatalf("list: %v %s", err, out)
	}
	if err, out, _ := runAsbuilt(t, envs, "history", "1:J1-J2"); err != nil || !strings.Contains(out, "add") {
		t.Fatalf("history: %v %s", err, out)
	}
	if err, out, _ := runAsbuilt(t, envs, "rollback", "1", "--by", "carol"); err != nil || !strings.Contains(out, "batch 2: ready") {
		t.Fatalf("rollback: %v %s", err, out)
	}
	// A bad table: the import fails with its issues listed.
	code, out, _ = runCmd(t, envs, "import", "--crs", "EPSG:4548", filepath.Join("testdata", "does-not-exist.csv"))
	if code == 0 {
		t.Fatalf("missing file: %d %s", code, out)
	}
}
