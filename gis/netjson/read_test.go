package netjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

const giswaterPath = "../../../shared/data/giswater/network.geojson"

func readGiswater(t testing.TB) *gis.Dataset {
	t.Helper()
	f, err := os.Open(giswaterPath)
	if err != nil {
		t.Skipf("sample not available: %v", err)
	}
	defer f.Close()
	ds, warns, err := Read(f, Options{Name: "network.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		if w.Code != CodeDuplicateVertices {
			t.Errorf("unexpected warning %v", w)
		}
	}
	return ds
}

func TestReadGiswater(t *testing.T) {
	ds := readGiswater(t)
	counts := []struct {
		what      string
		got, want int
	}{
		{"pipes", len(ds.Pipes), 269},
		{"valves", len(ds.Valves), 46},
		{"sources", len(ds.Sources), 5},
		{"hydrants", len(ds.Hydrants), 6},
		{"connections", len(ds.Connections), 477},
		{"customers", len(ds.Customers), 2398},
		{"districts", len(ds.Districts), 5},
		{"SRID", ds.SRID, 25831},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	valves := map[string]gis.Valve{}
	for _, v := range ds.Valves {
		valves[v.ID] = v
	}
	if v := valves["1115"]; v.NormallyOpen || !v.Operable {
		t.Errorf("valve 1115: %+v, want normally closed and operable", v)
	}
	if v := valves["1112"]; v.Operable || !v.NormallyOpen {
		t.Errorf("valve 1112: %+v, want inoperable and normally open", v)
	}
	closed, inoperable, inferred, withGeom := 0, 0, 0, 0
	for _, v := range ds.Valves {
		if !v.NormallyOpen {
			closed++
		}
		if !v.Operable {
			inoperable++
		}
	}
	status := map[string]int{}
	for _, p := range ds.Pipes {
		status[p.Status]++
		if p.DNInferred {
			inferred++
		}
		if p.DN <= 0 || len(p.Geom) < 2 || p.Z != nil {
			t.Errorf("pipe %s: dn %d, %d vertices, Z %v", p.ID, p.DN, len(p.Geom), p.Z)
		}
	}
	for _, c := range ds.Customers {
		if c.Geom != nil {
			withGeom++
		}
		if c.Households != 1 {
			t.Errorf("customer %s: households %d", c.ID, c.Households)
		}
	}
	if closed != 1 || inoperable != 1 || inferred != 5 || withGeom != 4 {
		t.Errorf("closed %d, inoperable %d, dn_inferred %d, customers with a point %d; want 1 1 5 4", closed, inoperable, inferred, withGeom)
	}
	if want := map[string]int{"in_service": 261, "abandoned": 5, "planned": 3}; !reflect.DeepEqual(status, want) {
		t.Errorf("status %v, want %v", status, want)
	}
	p := ds.Pipes[0]
	if p.ID != "129" || p.Material != "FC" || p.Role != "distribution" || p.InstallYear != 2017 || p.District != "dma2" ||
		p.Extra["catalog"] != "FC63-PN10" || p.Src != (gis.Ref{File: "network.geojson", Index: 0}) {
		t.Errorf("first pipe %+v", p)
	}
	if ds.Name != "giswater_ws_sample" {
		t.Errorf("name %q", ds.Name)
	}
	if d := ds.Districts[0]; len(d.Geom) == 0 || len(d.Geom[0]) == 0 || len(d.Geom[0][0]) < 4 {
		t.Errorf("district %s geometry %v", d.ID, d.Geom)
	}
}

func TestRoundTripGiswater(t *testing.T) {
	ds := readGiswater(t)
	out, err := roundTrip(ds)
	if err != nil {
		t.Fatal(err)
	}
	// Writing again gives the same bytes.
	back, _, err := Read(strings.NewReader(out), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Write(&again, back); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Errorf("second write differs from the first")
	}
}

// fullDataset uses every field Write and Read know about.
func fullDataset() *gis.Dataset {
	pt := orb.Point{3.5, -7.25}
	return &gis.Dataset{
		Name:       "net \"one\"",
		SRID:       25831,
		Provenance: map[string]string{"valves": "generated", "source": "test"},
		Pipes: []gis.Pipe{
			{ID: "p1", DN: 110, DNInferred: true, Material: "PE", Role: "distribution", Crossing: "river",
				Status: gis.StatusInService, InstallYear: 1998, District: "d1",
				Geom: orb.LineString{{0, 0}, {10.125, 0}, {10.125, 1e-7}}, Z: []float64{1, 2.5, -3},
				Extra: map[string]any{"catalog": "PE110", "n": 3.0, "list": []any{1.0, "a", nil, true},
					"obj": map[string]any{"k": "v"}, "null": nil, "huge": json.Number("1e999"), "tab\tkey": "é\u2028\x01"}},
			{ID: "p 2", DN: 63, Status: gis.StatusAbandoned, Geom: orb.LineString{{0, 0}, {0, 5}}},
			{ID: "12", DN: 1, Status: gis.StatusPlanned, Role: "service", Crossing: "railway", Geom: orb.LineString{{1e21, 0}, {0, 5}}},
		},
		Valves: []gis.Valve{
			{ID: "v1", Pipe: "p1", DN: 110, NormallyOpen: false, Operable: true, Geom: orb.Point{5, 0}, Z: []float64{0.5}},
			{ID: "v2", NormallyOpen: true, Operable: false, Geom: orb.Point{0, 2}, Extra: map[string]any{"x": "y"}},
		},
		Sources:     []gis.Source{{ID: "s", Type: "tank", Geom: orb.Point{0, 0}, Z: []float64{100}}, {ID: "s2", Geom: orb.Point{1, 1}}},
		Hydrants:    []gis.Hydrant{{ID: "h", Pipe: "p1", Geom: orb.Point{7, 0}}},
		Connections: []gis.Connection{{ID: "c", Pipe: "p1", Geom: orb.Point{8, 0}, Z: []float64{2}}},
		Customers: []gis.Customer{
			{ID: "u1", Connection: "c", Name: "Hospital", Address: "Main St 1", Phone: "+34 600", Category: "hospital",
				Critical: true, Households: 12},
			{ID: "u2", Pipe: "p1", Geom: &pt, Z: []float64{4}, Households: 1, Category: "residential"},
		},
		Districts: []gis.District{
			{ID: "d1", Name: "North", Manager: "Ann", Geom: orb.MultiPolygon{
				{{{0, 0}, {10, 0}, {10, 10}, {0, 0}}, {{1, 1}, {2, 1}, {2, 2}, {1, 1}}},
				{{{20, 20}, {30, 20}, {30, 30}, {20, 20}}},
			}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	ds := fullDataset()
	out, err := roundTrip(ds)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Proj without SRID round-trips and needs no lon/lat coordinates.
	ds.SRID, ds.Proj = 0, "+proj=tmerc +lat_0=41 +lon_0=2 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
	ds.Pipes[0].Geom[1][0] = 5e5
	if out, err := roundTrip(ds); err != nil {
		t.Fatalf("with proj: %v\n%s", err, out)
	}
	// An empty dataset.
	if _, err := roundTrip(&gis.Dataset{SRID: 4326}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(ds *gis.Dataset)
		want string
	}{
		{"NaN coordinate", func(ds *gis.Dataset) { ds.Valves[0].Geom[0] = nan() }, "valve:v1"},
		{"bad Z length", func(ds *gis.Dataset) { ds.Pipes[0].Z = []float64{1} }, "pipe:p1"},
		{"Inf extra", func(ds *gis.Dataset) { ds.Customers[0].Extra = map[string]any{"x": inf()} }, "customer:u1"},
		{"unmarshalable extra", func(ds *gis.Dataset) { ds.Districts[0].Extra = map[string]any{"f": func() {}} }, "district:d1"},
	}
	for _, tc := range tests {
		ds := fullDataset()
		tc.mod(ds)
		err := Write(io.Discard, ds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
	if err := Write(failWriter{}, fullDataset()); err == nil {
		t.Errorf("no error from a failing writer")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func nan() float64 { z := 0.0; return z / z }
func inf() float64 { z := 0.0; return 1 / z }

func TestWriteFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, fullDataset()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::25831"}}`,
		`"id":"12"`,
		`"coordinates":[[0,0,1],[10.125,0,2.5],[10.125,1e-7,-3]]`,
		`"normally_open":false,"operable":true`,
		`"type":"MultiPolygon"`,
		`"households":12`,
		`"huge":1e999`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	// Kinds in order, one feature per line.
	var kinds []string
	for _, line := range strings.Split(out, "\n")[1:] {
		if i := strings.Index(line, `"kind":"`); i >= 0 {
			k := line[i+8:]
			kinds = append(kinds, k[:strings.IndexByte(k, '"')])
		}
	}
	want := "pipe pipe pipe valve valve source source hydrant connection customer customer district"
	if strings.Join(kinds, " ") != want {
		t.Errorf("kinds %v, want %s", kinds, want)
	}
	if !json.Valid(buf.Bytes()) {
		t.Errorf("output is not valid JSON")
	}
	// No crs member when SRID is 0.
	buf.Reset()
	if err := Write(&buf, &gis.Dataset{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "crs") {
		t.Errorf("crs written for SRID 0: %s", buf.String())
	}
}

// TestReadValues checks the mapping of properties and geometry to the
// Dataset: defaults, conversions, Extra, Z.
func TestReadValues(t *testing.T) {
	in := `{"type":"FeatureCollection","bbox":[0,0,1,1],"features":[
	{"type":"Feature","properties":{"kind":"pipe","id":129,"dn":110.0,"material":null,"status":null,"giswater":{"a":[1,1e999]},"x":1e999},"geometry":{"type":"MultiLineString","coordinates":[[[1,2,3],[3,4,5]]]}},
	{"type":"Feature","properties":{"kind":"pipe","id":1e3,"dn":1,"role":"service","crossing":"railway","status":"planned","install_year":1990,"district":7},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
	{"type":"Feature","properties":{"kind":"valve","id":"v","pipe":129},"geometry":{"type":"MultiPoint","coordinates":[[1,2,9]]}},
	{"type":"Feature","properties":{"kind":"valve","id":"w","normally_open":false,"operable":false,"dn":80},"geometry":{"type":"Point","coordinates":[1,2,3,4]}},
	{"type":"Feature","properties":{"kind":"customer","id":"c","connection":"k","households":3,"critical":true,"phone":600123123},"geometry":null},
	{"type":"Feature","properties":{"kind":"customer","id":"d","pipe":"129"},"geometry":{"type":"Point","coordinates":[]}},
	{"type":"Feature","properties":{"kind":"customer","id":"e"},"geometry":{"type":"Point","coordinates":[5,6,7]}},
	{"type":"Feature","properties":{"kind":"district","id":"dm","name":"N"},"geometry":{"type":"Polygon","coordinates":[[[0,0,1],[1,0,1],[1,1,1],[0,0,1]]]}},
	{"type":"Feature","properties":{"kind":"source","id":"s","type":"well","pipe":"p"},"geometry":{"type":"Point","coordinates":[0,0]}},
	{"type":"Feature","properties":{"kind":"hydrant","id":"s","pipe":"129"},"geometry":{"type":"Point","coordinates":[0,0]}},
	{"type":"Feature","properties":{"kind":"connection","id":"s","pipe":"129"},"geometry":{"type":"Point","coordinates":[0,0]}}
	]}`
	ds, warns := mustRead(t, in, Options{})
	if ds.SRID != 4326 {
		t.Errorf("SRID %d, want 4326 for lon/lat coordinates", ds.SRID)
	}
	p := ds.Pipes[0]
	if p.ID != "129" || p.DN != 110 || p.Status != gis.StatusInService || p.Material != "" ||
		!reflect.DeepEqual(p.Z, []float64{3, 5}) || !reflect.DeepEqual(p.Geom, orb.LineString{{1, 2}, {3, 4}}) {
		t.Errorf("pipe 0: %+v", p)
	}
	wantExtra := map[string]any{"giswater": map[string]any{"a": []any{1.0, json.Number("1e999")}}, "x": json.Number("1e999")}
	if !reflect.DeepEqual(p.Extra, wantExtra) {
		t.Errorf("extra %#v, want %#v", p.Extra, wantExtra)
	}
	if p := ds.Pipes[1]; p.ID != "1000" || p.Role != "service" || p.Crossing != "railway" || p.Status != "planned" ||
		p.InstallYear != 1990 || p.District != "7" || p.Z != nil || p.Extra != nil {
		t.Errorf("pipe 1: %+v", p)
	}
	if v := ds.Valves[0]; v.Pipe != "129" || !v.NormallyOpen || !v.Operable || v.DN != 0 || !reflect.DeepEqual(v.Z, []float64{9}) {
		t.Errorf("valve 0: %+v", v)
	}
	if v := ds.Valves[1]; v.NormallyOpen || v.Operable || v.DN != 80 || !reflect.DeepEqual(v.Z, []float64{3}) {
		t.Errorf("valve 1: %+v", v)
	}
	if c := ds.Customers[0]; c.Connection != "k" || c.Households != 3 || !c.Critical || c.Geom != nil || c.Phone != "600123123" {
		t.Errorf("customer 0: %+v", c)
	}
	if c := ds.Customers[1]; c.Pipe != "129" || c.Geom != nil || c.Households != 1 {
		t.Errorf("customer 1: %+v", c)
	}
	if c := ds.Customers[2]; c.Geom == nil || *c.Geom != (orb.Point{5, 6}) || !reflect.DeepEqual(c.Z, []float64{7}) {
		t.Errorf("customer 2: %+v", c)
	}
	if d := ds.Districts[0]; !reflect.DeepEqual(d.Geom, orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}) || d.Name != "N" {
		t.Errorf("district: %+v", d)
	}
	if s := ds.Sources[0]; s.Type != "well" || s.Extra["pipe"] != "p" {
		t.Errorf("source: %+v", s)
	}
	if len(ds.Hydrants) != 1 || len(ds.Connections) != 1 {
		t.Errorf("hydrant/connection with the same id as a source must be kept")
	}
	// The 4-D position warns.
	if got := strings.Join(codes(warns), " "); got != CodeExtraOrdinates {
		t.Errorf("warnings %s", got)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		code  string
		where string
	}{
		{"unknown kind", fc(pipe(`"1"`, ""), point("meter", `"m"`, "")), CodeUnknownKind, feature(1)},
		{"kind case", fc(point("Valve", `"m"`, "")), CodeUnknownKind, feature(0)},
		{"duplicate vertices", fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2],[1,2],[3,4]]}`)), CodeDuplicateVertices, feature(0)},
		{"zero length", fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2],[1,2]]}`)), CodeZeroLength, feature(0)},
		{"extra ordinates", fc(withGeom("valve", "", `{"type":"Point","coordinates":[1,2,3,4]}`)), CodeExtraOrdinates, feature(0)},
		{"source type", fc(point("source", `"s"`, `"type":"river"`)), CodeSourceType, feature(0)},
		{"unknown dn", fc(withGeom("pipe", `"dn":null`, `{"type":"LineString","coordinates":[[1,2],[3,4]]}`)), CodePipeUnknownDN, feature(0)},
		{"customer without supply", fc(withGeom("customer", "", "null")), CodeCustNoSupply, feature(0)},
		{"bad name", `{"type":"FeatureCollection","name":3,"features":[]}`, CodeBadMember, testName},
		{"bad provenance", `{"type":"FeatureCollection","provenance":[1],"features":[]}`, CodeBadMember, testName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warns := mustRead(t, tc.in, Options{})
			if len(warns) != 1 || warns[0].Code != tc.code || warns[0].Where != tc.where || warns[0].Msg == "" {
				t.Errorf("warnings %v, want one %s at %s", warns, tc.code, tc.where)
			}
		})
	}
	// The unknown kind is skipped.
	ds, _ := mustRead(t, tests[0].in, Options{})
	if len(ds.Pipes) != 1 || len(ds.Valves) != 0 {
		t.Errorf("unknown kind not skipped: %+v", ds)
	}
	// Warnings are capped.
	var f []string
	for i := 0; i < 1500; i++ {
		f = append(f, point("meter", `"m"`, ""))
	}
	_, warns := mustRead(t, fc(f...), Options{})
	if len(warns) != maxWarnings || warns[maxWarnings-1].Code != CodeTooManyWarnings ||
		!strings.Contains(warns[maxWarnings-1].Msg, "501 more") {
		t.Errorf("%d warnings, last %v", len(warns), warns[len(warns)-1])
	}
}

func TestCRS(t *testing.T) {
	withCRS := func(crs, coords string) string {
		return `{"type":"FeatureCollection","crs":` + crs + `,"features":[` +
			withGeom("valve", "", `{"type":"Point","coordinates":`+coords+`}`) + `]}`
	}
	named := func(n string) string { return `{"type":"name","properties":{"name":"` + n + `"}}` }
	tests := []struct {
		name string
		in   string
		srid int // Options.SRID
		want int
	}{
		{"urn", withCRS(named("urn:ogc:def:crs:EPSG::25831"), "[418935,4576793]"), 0, 25831},
		{"urn with version", withCRS(named("urn:ogc:def:crs:EPSG:6.3:2263"), "[1e6,2e5]"), 0, 2263},
		{"EPSG:N", withCRS(named("EPSG:3857"), "[1e6,2e5]"), 0, 3857},
		{"lower case", withCRS(named("epsg:3857"), "[1e6,2e5]"), 0, 3857},
		{"http", withCRS(named("http://www.opengis.net/def/crs/EPSG/0/25830"), "[1e6,2e5]"), 0, 25830},
		{"CRS84", withCRS(named("urn:ogc:def:crs:OGC:1.3:CRS84"), "[2.03,41.34]"), 0, 4326},
		{"legacy EPSG type", withCRS(`{"type":"EPSG","properties":{"code":27700}}`, "[1e5,2e5]"), 0, 27700},
		{"null crs, lon/lat", withCRS(`null`, "[-180,90]"), 0, 4326},
		{"user CRS", withCRS(`null`, "[418935,4576793]"), 25831, 25831},
		{"user CRS agrees", withCRS(named("urn:ogc:def:crs:EPSG::25831"), "[418935,4576793]"), 25831, 25831},
		{"user CRS84 = 4326", withCRS(named("urn:ogc:def:crs:OGC:1.3:CRS84"), "[2,41]"), 4326, 4326},
		{"no coordinates", fc(), 0, 4326},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, _ := mustRead(t, tc.in, Options{SRID: tc.srid})
			if ds.SRID != tc.want {
				t.Errorf("SRID %d, want %d", ds.SRID, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "EPSG:", "EPSG:0", "EPSG:12a", "urn:ogc:def:crs:EPSG::", "urn:ogc:def:crs:OGC:1.3:CRS83",
		"urn:ogc:def:crs:EPSG::1234567890", "http://www.opengis.net/def/crs/EPSG/25831", "WGS84"} {
		if n, ok := ParseCRSName(bad); ok {
			t.Errorf("ParseCRSName(%q) = %d, want failure", bad, n)
		}
	}
	if _, _, err := Read(strings.NewReader(fc()), Options{SRID: -1}); err == nil {
		t.Errorf("negative SRID accepted")
	}
}

// endless produces a FeatureCollection that never ends.
type endless struct {
	n    int64
	head bool
	id   int
	buf  []byte
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.head {
		e.head = true
		e.buf = []byte(`{"type":"FeatureCollection","features":[`)
	}
	n := 0
	for n < len(p) {
		if len(e.buf) == 0 {
			e.id++
			e.buf = []byte(pipe(fmt.Sprint(e.id), "") + ",")
		}
		k := copy(p[n:], e.buf)
		e.buf = e.buf[k:]
		n += k
	}
	e.n += int64(n)
	return n, nil
}

func TestMaxBytes(t *testing.T) {
	src := &endless{}
	var last int64
	calls := 0
	_, _, err := Read(src, Options{Name: "big.geojson", MaxBytes: 3 << 20, Progress: func(n int64) { last = n; calls++ }})
	var inv *gis.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v, want an InvalidError", err)
	}
	if inv.Issues[0].Code != CodeTooLarge || !strings.Contains(inv.Issues[0].Msg, "larger than 3 MiB") || inv.Issues[0].Where != "big.geojson" {
		t.Errorf("first issue %v", inv.Issues[0])
	}
	if src.n > 3<<20+1 {
		t.Errorf("read %d bytes for a limit of %d", src.n, 3<<20)
	}
	if last != 3<<20+1 || calls < 3 {
		t.Errorf("progress: %d calls, last %d", calls, last)
	}
	// Exactly at the limit is fine.
	in := fc(pipe(`"1"`, ""))
	if _, _, err := Read(strings.NewReader(in), Options{MaxBytes: int64(len(in))}); err != nil {
		t.Errorf("input of exactly MaxBytes: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReaderError(t *testing.T) {
	_, _, err := Read(io.MultiReader(strings.NewReader(`{"type":"FeatureCollection","features":[`), errReader{}), Options{Name: "x"})
	var inv *gis.InvalidError
	if err == nil || errors.As(err, &inv) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("error %v, want the reader's error", err)
	}
}

func TestCounterLineCol(t *testing.T) {
	in := "ab\ncd\n\nefg"
	c := &counter{r: strings.NewReader(in), nlLast: -1}
	io.ReadAll(io.LimitReader(c, 4)) //nolint:errcheck
	io.ReadAll(c)                    //nolint:errcheck
	for pos := 0; pos <= len(in); pos++ {
		l, col := c.lineCol(int64(pos))
		if got, want := atOffset(in, pos), atOffsetLC(l, col); got != want {
			t.Errorf("pos %d: %s, want %s", pos, want, got)
		}
		if pos == 5 {
			c.prune(5)
		}
	}
}

func atOffsetLC(l int, c int64) string { return fmt.Sprintf("%s:%d:%d", testName, l, c) }

func TestByteOrderMark(t *testing.T) {
	ds, _ := mustRead(t, "\xEF\xBB\xBF"+fc(pipe(`"1"`, "")), Options{})
	if len(ds.Pipes) != 1 {
		t.Fatalf("pipes %d", len(ds.Pipes))
	}
	// Positions count the mark: the NaN is at column 3+i+1 of line 1.
	in := "\xEF\xBB\xBF" + fc(withGeom("valve", "", `{"type":"Point","coordinates":[NaN,2]}`))
	_, _, errs := read(t, in, Options{})
	if want := atOffset(in, strings.Index(in, "NaN")); len(errs) != 1 || errs[0].Where != want {
		t.Errorf("errors %v, want one at %s", errs, want)
	}
}

func TestFormatLimit(t *testing.T) {
	for n, want := range map[int64]string{512 << 20: "512 MiB", 100: "100 bytes", 3<<20 + 1<<19: "3.5 MiB (3670016 bytes)"} {
		if got := formatLimit(n); got != want {
			t.Errorf("formatLimit(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteNil(t *testing.T) {
	if err := Write(io.Discard, nil); err == nil {
		t.Error("no error for a nil Dataset")
	}
}
