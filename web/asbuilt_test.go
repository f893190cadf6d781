package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
)

func asbuiltServer(t *testing.T) (*httptest.Server, *store.Store, *store.Live) {
	t.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	live := &gis.Dataset{SRID: 4548,
		Pipes:   []gis.Pipe{{ID: "L1", DN: 400, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{{497705.318, 4059300}, {497705.318, 4059450}}}},
		Sources: []gis.Source{{ID: "PLANT", Type: "plant", Geom: orb.Point{497705.318, 4059300}}},
	}
	if _, err := st.Import(ctx, live, store.ImportOptions{File: "live", Replace: true}); err != nil {
		t.Fatal(err)
	}
	st.SetAsbuiltOptions(store.AsbuiltOptions{Limits: asbuiltLimits})
	l := store.NewLive(st)
	if err := l.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Config{Store: st, Live: l, Tiles: tiles.New(pool, 4548, 1<<20), Planner: &repair.Planner{Store: st, Live: l}, TZ: mustLoc(t)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st, l
}

func abCall(t *testing.T, method, url, user string, body io.Reader, ctype string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if user != "" {
		req.Header.Set(web.UserHeader, user)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: not JSON: %.200q", method, url, b)
	}
	return res.StatusCode, m, res.Header
}

func multipartUpload(t *testing.T, file string, data []byte, fields map[string]string) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v) //nolint:errcheck
	}
	fw, _ := mw.CreateFormFile("file", file)
	fw.Write(data) //nolint:errcheck
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// TestAsbuiltAPI: upload the sample, read the batch and its preview, the
// four-eyes approval (403 for the uploader), commit, the pipe's history,
// roll back; an oversized upload leaves a failed batch (422).
func TestAsbuiltAPI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedData, "asbuilt/sample_clean.xlsx"))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	ts, _, live := asbuiltServer(t)
	body, ct := multipartUpload(t, "sample_clean.xlsx", data, map[string]string{"project": "经十路", "contractor": "测绘院", "survey_date": "2026-10-15", "crs": "EPSG:4548"})
	code, b, hdr := abCall(t, "POST", ts.URL+"/api/asbuilt/batches", "alice", body, ct)
	if code != 201 || b["status"] != "ready" || hdr.Get("Location") == "" {
		t.Fatalf("upload: %d %v", code, b)
	}
	id := int(b["id"].(float64))
	batch := fmt.Sprintf("%s/api/asbuilt/batches/%d", ts.URL, id)
	if code, b, _ = abCall(t, "GET", batch, "", nil, ""); code != 200 || b["uploaded_by"] != "alice" || b["summary"].(map[string]any)["pipes"].(float64) != 133 {
		t.Fatalf("get: %d %v", code, b["summary"])
	}
	res, err := http.Get(batch + "/preview")
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry   *struct{ Type string } `json:"geometry"`
			Properties map[string]any         `json:"properties"`
		} `json:"features"`
	}
	json.NewDecoder(res.Body).Decode(&fc) //nolint:errcheck
	res.Body.Close()
	if res.Header.Get("Content-Type") != "application/geo+json" || fc.Type != "FeatureCollection" || len(fc.Features) < 133 {
		t.Fatalf("preview: %s %s %d features", res.Header.Get("Content-Type"), fc.Type, len(fc.Features))
	}
	if code, b, _ = abCall(t, "POST", batch+"/approve", "alice", strings.NewReader(`{"acknowledge_warnings": true}`), "application/json"); code != 403 {
		t.Fatalf("self approval: %d %v", code, b)
	}
	if code, b, _ = abCall(t, "POST", batch+"/approve", "", strings.NewReader(`{"by": "bob"}`), "application/json"); code != 400 {
		t.Fatalf("approval without acknowledging the warnings: %d %v", code, b)
	}
	if code, b, _ = abCall(t, "POST", batch+"/approve", "bob", strings.NewReader(`{"acknowledge_warnings": true}`), "application/json"); code != 200 || b["approved_by"] != "bob" {
		t.Fatalf("approve: %d %v", code, b)
	}
	v0 := live.Network().Version
	if code, b, _ = abCall(t, "POST", batch+"/commit", "bob", nil, ""); code != 200 || b["status"] != "committed" {
		t.Fatalf("commit: %d %v", code, b)
	}
	if live.Network().Version != v0+1 || live.Network().NumPieces() < 133 {
		t.Fatalf("the in-memory network was not reloaded: version %d", live.Network().Version)
	}
	code, h, _ := abCall(t, "GET", fmt.Sprintf("%s/api/network/history?pipe=%d:J1-J2", ts.URL, id), "", nil, "")
	if code != 200 || len(h["events"].([]any)) != 1 {
		t.Fatalf("history: %d %v", code, h)
	}
	if code, _, _ = abCall(t, "GET", ts.URL+"/api/network/history?pipe=L1", "", nil, ""); code != 200 {
		t.Fatalf("history of the split main: %d", code)
	}
	code, rb, hdr := abCall(t, "POST", batch+"/rollback", "carol", nil, "")
	if code != 201 || rb["rollback_of"].(float64) != float64(id) || hdr.Get("Location") == "" {
		t.Fatalf("rollback: %d %v", code, rb)
	}
	if code, b, _ = abCall(t, "GET", ts.URL+"/api/asbuilt/batches?status=ready", "", nil, ""); code != 200 || len(b["batches"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, b)
	}
	// Oversized: a failed batch, 422, nothing changed.
	big := bytes.Repeat([]byte("x"), int(asbuiltLimits.MaxBytes)+10)
	body, ct = multipartUpload(t, "big.csv", big, nil)
	code, b, _ = abCall(t, "POST", ts.URL+"/api/asbuilt/batches", "alice", body, ct)
	if code != 422 || b["error"].(map[string]any)["code"] != "file.too_large" || b["batch"].(map[string]any)["status"] != "failed" {
		t.Fatalf("oversized: %d %v", code, b["error"])
	}
	// Raw upload of a CSV that is not a point table.
	code, b, _ = abCall(t, "POST", ts.URL+"/api/asbuilt/batches?file=x.csv&by=alice", "", strings.NewReader("a,b\n1,2\n"), "text/csv")
	if code != 422 || b["error"].(map[string]any)["code"] != "sheet.not_found" {
		t.Fatalf("not a table: %d %v", code, b)
	}
	if code, b, _ = abCall(t, "POST", ts.URL+"/api/asbuilt/batches?file=x.csv", "", strings.NewReader("a"), "text/csv"); code != 400 {
		t.Fatalf("upload without a user: %d %v", code, b)
	}
	if code, _, _ = abCall(t, "GET", ts.URL+"/api/asbuilt/batches/999", "", nil, ""); code != 404 {
		t.Fatalf("unknown batch: %d", code)
	}
}
