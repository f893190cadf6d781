package netjson

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/waterline-gis/waterline/gis"
)

const testName = "t.geojson"

// fc wraps features into a FeatureCollection.
func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// pipe returns a valid pipe feature with extra properties (a JSON object
// body without braces, e.g. `"dn":110`) replacing the default dn.
func pipe(id string, props string) string {
	if props == "" {
		props = `"dn":110`
	}
	return `{"type":"Feature","properties":{"kind":"pipe","id":` + id + `,` + props + `},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}`
}

func point(kind, id, props string) string {
	if props != "" {
		props = "," + props
	}
	return `{"type":"Feature","properties":{"kind":"` + kind + `","id":` + id + props + `},"geometry":{"type":"Point","coordinates":[1,2]}}`
}

// withGeom returns a feature of kind with the given geometry JSON.
func withGeom(kind, props, geom string) string {
	if props != "" {
		props = "," + props
	}
	return `{"type":"Feature","properties":{"kind":"` + kind + `","id":"x"` + props + `},"geometry":` + geom + `}`
}

// at renders the location "t.geojson:line:col" of the first occurrence of
// sub in in (the n-th when n > 0).
func at(t *testing.T, in, sub string) string {
	t.Helper()
	i := strings.Index(in, sub)
	if i < 0 {
		t.Fatalf("%q not in input", sub)
	}
	return atOffset(in, i)
}

func atOffset(in string, i int) string {
	line := 1 + strings.Count(in[:i], "\n")
	col := i - strings.LastIndex(in[:i], "\n")
	return fmt.Sprintf("%s:%d:%d", testName, line, col)
}

func feature(i int) string { return gis.Ref{File: testName, Index: i}.String() }

// read runs Read and splits its outcome; any error that is not an
// InvalidError fails the test.
func read(t *testing.T, in string, opt Options) (ds *gis.Dataset, warns, errs []gis.Issue) {
	t.Helper()
	if opt.Name == "" {
		opt.Name = testName
	}
	ds, warns, err := Read(strings.NewReader(in), opt)
	if err != nil {
		var inv *gis.InvalidError
		if !errors.As(err, &inv) {
			t.Fatalf("Read: %v (not an InvalidError)", err)
		}
		if ds != nil {
			t.Errorf("Read returned a Dataset with an error")
		}
		if len(inv.Issues) == 0 {
			t.Fatalf("InvalidError without issues")
		}
		return nil, warns, inv.Issues
	}
	if ds == nil {
		t.Fatalf("Read returned neither a Dataset nor an error")
	}
	return ds, warns, nil
}

func mustRead(t *testing.T, in string, opt Options) (*gis.Dataset, []gis.Issue) {
	t.Helper()
	ds, warns, errs := read(t, in, opt)
	if errs != nil {
		t.Fatalf("unexpected errors: %v", errs)
	}
	return ds, warns
}

// normalize clears the fields that legitimately differ between a Dataset
// and the same data read back from another file: Src.
func normalize(ds *gis.Dataset) *gis.Dataset {
	c := *ds
	c.Pipes = append([]gis.Pipe(nil), ds.Pipes...)
	for i := range c.Pipes {
		c.Pipes[i].Src = gis.Ref{}
	}
	c.Valves = append([]gis.Valve(nil), ds.Valves...)
	for i := range c.Valves {
		c.Valves[i].Src = gis.Ref{}
	}
	c.Sources = append([]gis.Source(nil), ds.Sources...)
	for i := range c.Sources {
		c.Sources[i].Src = gis.Ref{}
	}
	c.Hydrants = append([]gis.Hydrant(nil), ds.Hydrants...)
	for i := range c.Hydrants {
		c.Hydrants[i].Src = gis.Ref{}
	}
	c.Connections = append([]gis.Connection(nil), ds.Connections...)
	for i := range c.Connections {
		c.Connections[i].Src = gis.Ref{}
	}
	c.Customers = append([]gis.Customer(nil), ds.Customers...)
	for i := range c.Customers {
		c.Customers[i].Src = gis.Ref{}
	}
	c.Districts = append([]gis.District(nil), ds.Districts...)
	for i := range c.Districts {
		c.Districts[i].Src = gis.Ref{}
	}
	return &c
}

// roundTrip writes ds, reads it back and reports the first difference.
func roundTrip(ds *gis.Dataset) (string, error) {
	var buf bytes.Buffer
	if err := Write(&buf, ds); err != nil {
		return "", fmt.Errorf("Write: %w", err)
	}
	back, _, err := Read(bytes.NewReader(buf.Bytes()), Options{Name: "back.geojson"})
	if err != nil {
		return buf.String(), fmt.Errorf("Read(Write(ds)): %w", err)
	}
	if d := firstDiff(normalize(ds), normalize(back)); d != "" {
		return buf.String(), errors.New(d)
	}
	return buf.String(), nil
}

// firstDiff names the first feature that differs.
func firstDiff(a, b *gis.Dataset) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < va.NumField(); i++ {
		fa, fb := va.Field(i), vb.Field(i)
		if reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			continue
		}
		name := va.Type().Field(i).Name
		if fa.Kind() == reflect.Slice && fa.Len() == fb.Len() {
			for j := 0; j < fa.Len(); j++ {
				if !reflect.DeepEqual(fa.Index(j).Interface(), fb.Index(j).Interface()) {
					return fmt.Sprintf("%s[%d]:\n  want %#v\n  got  %#v", name, j, fa.Index(j).Interface(), fb.Index(j).Interface())
				}
			}
		}
		return fmt.Sprintf("%s:\n  want %#v\n  got  %#v", name, fa.Interface(), fb.Interface())
	}
	return "differs"
}

func codes(issues []gis.Issue) []string {
	var c []string
	for _, is := range issues {
		c = append(c, is.Code)
	}
	return c
}
