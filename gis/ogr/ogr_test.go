package ogr

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNotFound(t *testing.T) {
	_, err := New("/nonexistent/ogr2ogr", "waterline-ogr-test-")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Program != "/nonexistent/ogr2ogr" {
		t.Fatalf("New: %v, want a *NotFoundError", err)
	}
}

func TestToGeoJSON(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Skip("ogr2ogr is not installed (apt-get install gdal-bin)")
	}
	src := filepath.Join(t.TempDir(), "in.geojson")
	body := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}},"features":[
		{"type":"Feature","properties":{"k":"a"},"geometry":{"type":"LineString","coordinates":[[500000,4060000],[500100,4060000]]}},
		{"type":"Feature","properties":{"k":"b"},"geometry":{"type":"Point","coordinates":[500000,4060000]}}]}`
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := New("", "waterline-ogr-test-")
	if err != nil {
		t.Fatal(err)
	}
	dir := r.Dir()
	f, err := r.ToGeoJSON(context.Background(), src, Options{Where: "k = 'a'"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "EPSG::4548") || !strings.Contains(s, `"a"`) || strings.Contains(s, `"b"`) || strings.Contains(s, "bbox") {
		t.Errorf("output:\n%s", s)
	}
	_, err = r.ToGeoJSON(context.Background(), filepath.Join(dir, "missing.shp"), Options{})
	var oe *Error
	if !errors.As(err, &oe) || oe.NoOutput || oe.Detail() == "" {
		t.Errorf("missing source: %v, want an *Error with ogr2ogr's message", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("work directory %s not removed: %v", dir, err)
	}
}
