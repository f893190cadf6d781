package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/migrations/testdb"
)

const sharedData = "../../../shared/data"

// runCmd runs the real command line with the given environment.
func runCmd(t *testing.T, envs map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return envs[k] }})
	return code, out.String(), errb.String()
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, nil, "help")
	for _, c := range []string{"serve", "migrate", "import", "export", "gen", "shutoff", "segments"} {
		if !strings.Contains(out, c) {
			t.Errorf("help does not list %s", c)
		}
	}
	if code != 0 {
		t.Errorf("help exit %d", code)
	}
	if code, _, _ := runCmd(t, nil, "bogus"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	for _, c := range []string{"serve", "import", "export", "gen", "shutoff", "segments", "migrate", "rules"} {
		if code, _, errs := runCmd(t, nil, c, "-h"); code != 0 || !strings.Contains(errs, "usage: waterline "+c) {
			t.Errorf("%s -h: exit %d, %q", c, code, errs)
		}
	}
	if code, _, errs := runCmd(t, map[string]string{}, "migrate"); code != 1 || !strings.Contains(errs, "DATABASE_URL") {
		t.Errorf("migrate without a database: %d %q", code, errs)
	}
}

// TestImportShutoffExportServe drives the binary's commands end to end on
// the Giswater sample: import, plan a reference case, export and re-import
// to the same network, and serve on :0.
func TestImportShutoffExportServe(t *testing.T) {
	sample := filepath.Join(sharedData, "giswater/network.geojson")
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	_, url := testdb.New(t, 25831)
	envs := map[string]string{"DATABASE_URL": url, "WATERLINE_SRID": "25831"}

	code, out, errs := runCmd(t, envs, "import", "--dry-run", sample)
	if code != 0 || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, envs, "import", "--replace", sample)
	if code != 0 || !strings.Contains(out, "269 pipes") || !strings.Contains(out, "network version 1") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, envs, "shutoff", "--pipe", "2061", "--at", "0.5", "--json")
	if code != 0 {
		t.Fatalf("shutoff: %d %s", code, errs)
	}
	var plan map[string]any
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range plan["valves_to_close"].([]any) {
		got = append(got, v.(string))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "1088,1090,1109,1111,1114" || plan["households"].(float64) != 241 {
		t.Errorf("shutoff of 2061: %v households %v", got, plan["households"])
	}
	if code, _, errs := runCmd(t, envs, "shutoff", "--pipe", "nope"); code != 1 || !strings.Contains(errs, `"nope"`) {
		t.Errorf("unknown pipe: %d %s", code, errs)
	}

	// Export, re-import the export, export again: the same network.
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.geojson"), filepath.Join(dir, "b.geojson")
	if code, _, errs := runCmd(t, envs, "export", "-o", a); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	if code, out, errs := runCmd(t, envs, "import", "--replace", a); code != 0 || !strings.Contains(out, "network version 2") {
		t.Fatalf("re-import: %s %s", out, errs)
	}
	if code, _, errs := runCmd(t, envs, "export", "-o", b); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) || len(ba) < 100000 {
		t.Errorf("import → export → import changed the network (%d vs %d bytes)", len(ba), len(bb))
	}

	// Serve on a free port; /healthz answers; the context ends it cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	envs["WATERLINE_ADDR"] = "127.0.0.1:0"
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, &env{stdout: pw, stderr: io.Discard, getenv: func(k string) string { return envs[k] }})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "waterline: serving on "))
	go io.Copy(io.Discard, pr)
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, res)
	}
	res.Body.Close()
	res, err = http.Get(base + "/")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("index: %v %v", err, res)
	}
	res.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestImportSharedEPANET: every shared EPANET model imports, placed at
// Jinan with a generated N-1 valve layer, and can be planned on.
func TestImportSharedEPANET(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedData, "networks/*.inp"))
	if len(files) == 0 {
		t.Skip("shared data not available")
	}
	_, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url}
	want := map[string]string{"Net1.inp": "13 pipes", "Net3.inp": "119 pipes", "L-TOWN.inp": "909 pipes", "ky12.inp": "2463 pipes", "BWSN_Network_2.inp": "14831 pipes"}
	for _, f := range files {
		code, out, errs := runCmd(t, envs, "import", "--replace", "--origin", "117.0,36.67", "--valves", "n-1", "--seed", "1", f)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, errs)
		}
		if w := want[filepath.Base(f)]; w == "" || !strings.Contains(out, w) || !strings.Contains(out, "generated n-1") {
			t.Errorf("%s: %s", f, out)
		}
	}
	// The last one imported is the store's network: a shutoff plan works.
	code, out, errs := runCmd(t, envs, "segments", "--top", "3")
	if code != 0 || !strings.Contains(out, "shutoff units") {
		t.Errorf("segments: %d %s %s", code, out, errs)
	}
}
