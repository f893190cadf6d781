package netjson

import (
	"fmt"
	"strings"
	"testing"
)

// TestErrors checks one error code per case: the code, where it is
// reported, the feature named, and that nothing else is reported.
func TestErrors(t *testing.T) {
	nanFile := "{\"type\":\"FeatureCollection\",\n\"features\":[\n" +
		`{"type":"Feature","properties":{"kind":"valve","id":"v1"},"geometry":{"type":"Point","coordinates":[NaN,2]}}` + "\n]}"
	infFile := fc(withGeom("valve", "", `{"type":"Point","coordinates":[1,-Infinity]}`))
	trailingComma := "{\"type\":\"FeatureCollection\",\"features\":[\n" + pipe(`"1"`, "") + ",\n" + `{"type":"Feature",}` + "\n]}"
	truncated := fc(pipe(`"1"`, ""))[:60]
	missingComma := "{\"type\":\"FeatureCollection\",\"features\":[\n" + pipe(`"1"`, "") + "\n" + pipe(`"2"`, "") + "]}"
	badKey := "{\"type\":\"FeatureCollection\",\n  \"feat\\qures\":[]}"
	missingColon := "{\"type\" \"FeatureCollection\",\"features\":[]}"
	after := fc() + "\n\n  {}"
	projected := `{"type":"FeatureCollection","features":[` + pipe(`"1"`, "") + `,` +
		`{"type":"Feature","properties":{"kind":"valve","id":"v"},"geometry":{"type":"Point","coordinates":[418935.8,4576793.9]}}]}`
	crs := func(name string) string {
		return `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"` + name + `"}},"features":[]}`
	}

	tests := []struct {
		name    string
		in      string
		opt     Options
		code    string
		where   string // "" = the file
		feature string
		msg     string // a substring of Msg
		n       int    // number of errors expected; 0 = 1
	}{
		// JSON
		{name: "NaN literal", in: nanFile, code: CodeJSONSyntax, where: atOffset(nanFile, strings.Index(nanFile, "NaN")), msg: "NaN and Infinity are not JSON numbers"},
		{name: "-Infinity literal", in: infFile, code: CodeJSONSyntax, msg: "NaN and Infinity"},
		{name: "nan literal", in: fc(withGeom("valve", "", `{"type":"Point","coordinates":[nan,2]}`)), code: CodeJSONSyntax, msg: "NaN and Infinity"},
		{name: "inf literal", in: fc(withGeom("valve", "", `{"type":"Point","coordinates":[1,inf]}`)), code: CodeJSONSyntax, msg: "NaN and Infinity"},
		{name: "trailing comma", in: trailingComma, code: CodeJSONSyntax, msg: "invalid character '}'"},
		{name: "truncated", in: truncated, code: CodeJSONSyntax, where: atOffset(truncated, len(truncated)), msg: "truncated"},
		{name: "missing comma", in: missingComma, code: CodeJSONSyntax, where: "t.geojson:3:1", msg: "comma"},
		{name: "bad escape in key", in: badKey, code: CodeJSONSyntax, where: atOffset(badKey, strings.Index(badKey, "q")), msg: "escape"},
		{name: "missing colon", in: missingColon, code: CodeJSONSyntax, where: "t.geojson:1:9"},
		{name: "data after", in: after, code: CodeJSONSyntax, where: "t.geojson:3:3", msg: "after the end"},
		{name: "empty", in: "  \n", code: CodeJSONSyntax, msg: "empty"},
		{name: "top-level array", in: `[]`, code: CodeNotFeatureCollection, msg: "array"},
		{name: "single feature", in: pipe(`"1"`, ""), code: CodeNotFeatureCollection, msg: "single Feature"},
		{name: "no features", in: `{"type":"FeatureCollection"}`, code: CodeNotFeatureCollection, msg: "no features"},
		{name: "no type", in: `{"features":[]}`, code: CodeNotFeatureCollection, msg: "no \"type\""},
		{name: "features not array", in: `{"type":"FeatureCollection","features":{"a":[1]}}`, code: CodeNotFeatureCollection, msg: "features is an object"},
		{name: "too large", in: fc(pipe(`"1"`, ""), pipe(`"2"`, "")), opt: Options{MaxBytes: 100}, code: CodeTooLarge, msg: "larger than 100 bytes"},

		// features
		{name: "not an object", in: fc(pipe(`"1"`, ""), `17`), code: CodeNotFeature, where: feature(1)},
		{name: "not a Feature", in: fc(`{"type":"Point","coordinates":[1,2]}`), code: CodeNotFeature, where: feature(0)},
		{name: "no kind", in: fc(`{"type":"Feature","properties":{"id":"1"},"geometry":null}`), code: CodeNoKind, where: feature(0)},
		{name: "null properties", in: fc(`{"type":"Feature","properties":null,"geometry":null}`), code: CodeNoKind, where: feature(0)},
		{name: "kind not string", in: fc(`{"type":"Feature","properties":{"kind":3,"id":"1"},"geometry":null}`), code: CodeNoKind, where: feature(0), msg: "not a string"},
		{name: "properties array", in: fc(`{"type":"Feature","properties":[1],"geometry":null}`), code: CodeNoKind, where: feature(0), msg: "not an object"},
		{name: "no id", in: fc(pipe(`"1"`, ""), point("valve", `null`, "")), code: CodeNoID, where: feature(1)},
		{name: "missing id", in: fc(`{"type":"Feature","id":7,"properties":{"kind":"valve"},"geometry":{"type":"Point","coordinates":[1,2]}}`), code: CodeNoID, where: feature(0)},
		{name: "empty id", in: fc(point("valve", `" "`, "")), code: CodeNoID, where: feature(0), msg: "empty"},
		{name: "bool id", in: fc(point("valve", `true`, "")), code: CodeBadID, where: feature(0)},
		{name: "object id", in: fc(point("valve", `{"a":1}`, "")), code: CodeBadID, where: feature(0)},
		{name: "duplicate id", in: fc(pipe(`"1"`, ""), point("valve", `"1"`, ""), pipe(`1`, "")), code: CodeDuplicateID, where: feature(2), feature: "pipe:1", msg: "feature 0"},

		// geometry
		{name: "null geometry", in: fc(withGeom("pipe", `"dn":1`, `null`)), code: CodeGeomMissing, where: feature(0), feature: "pipe:x"},
		{name: "absent geometry", in: fc(`{"type":"Feature","properties":{"kind":"hydrant","id":"h"}}`), code: CodeGeomMissing, feature: "hydrant:h"},
		{name: "empty point", in: fc(withGeom("valve", "", `{"type":"Point","coordinates":[]}`)), code: CodeGeomMissing},
		{name: "no coordinates", in: fc(withGeom("valve", "", `{"type":"Point"}`)), code: CodeGeomMissing},
		{name: "line for valve", in: fc(withGeom("valve", "", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`)), code: CodeGeomWrongType, feature: "valve:x", msg: "LineString"},
		{name: "point for pipe", in: fc(withGeom("pipe", `"dn":1`, `{"type":"Point","coordinates":[1,2]}`)), code: CodeGeomWrongType},
		{name: "multi line of two", in: fc(withGeom("pipe", `"dn":1`, `{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8]]]}`)), code: CodeGeomWrongType, msg: "2 parts"},
		{name: "collection", in: fc(withGeom("district", "", `{"type":"GeometryCollection","geometries":[]}`)), code: CodeGeomWrongType},
		{name: "geometry string", in: fc(withGeom("source", "", `"POINT(1 2)"`)), code: CodeGeomWrongType},
		{name: "string coordinate", in: fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[["a",1],[3,4]]}`)), code: CodeGeomBadCoords, msg: `"a"`},
		{name: "short position", in: fc(withGeom("valve", "", `{"type":"Point","coordinates":[1]}`)), code: CodeGeomBadCoords, msg: "1 number"},
		{name: "flat line", in: fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[1,2]}`)), code: CodeGeomBadCoords},
		{name: "one position", in: fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2]]}`)), code: CodeGeomTooFew, feature: "pipe:x"},
		{name: "short ring", in: fc(withGeom("district", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`)), code: CodeGeomTooFew},
		{name: "empty multipolygon", in: fc(withGeom("district", "", `{"type":"MultiPolygon","coordinates":[]}`)), code: CodeGeomTooFew},
		{name: "open ring", in: fc(withGeom("district", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`)), code: CodeGeomNotClosed},
		{name: "1e999", in: fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2],[1e999,4]]}`)), code: CodeGeomNotFinite, feature: "pipe:x", msg: "1e999"},
		{name: "-1e400 point", in: fc(withGeom("valve", "", `{"type":"Point","coordinates":[-1e400,4]}`)), code: CodeGeomNotFinite},
		{name: "mixed dimensions", in: fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2],[3,4,5]]}`)), code: CodeGeomMixedDims},
		{name: "mixed dimensions in polygon", in: fc(withGeom("district", "", `{"type":"Polygon","coordinates":[[[0,0,1],[1,0,1],[1,1,1],[0,0]]]}`)), code: CodeGeomMixedDims},

		// properties
		{name: "dn string", in: fc(pipe(`"p"`, `"dn":"abc"`)), code: CodePipeBadDN, where: feature(0), feature: "pipe:p", msg: `"abc"`},
		{name: "dn numeric string", in: fc(pipe(`"p"`, `"dn":"110"`)), code: CodePipeBadDN},
		{name: "dn 0", in: fc(pipe(`"p"`, `"dn":0`)), code: CodePipeBadDN},
		{name: "dn -5", in: fc(pipe(`"p"`, `"dn":-5`)), code: CodePipeBadDN},
		{name: "dn 12.5", in: fc(pipe(`"p"`, `"dn":12.5`)), code: CodePipeBadDN, msg: "12.5"},
		{name: "dn huge", in: fc(pipe(`"p"`, `"dn":1e12`)), code: CodePipeBadDN},
		{name: "dn missing", in: fc(pipe(`"p"`, `"material":"PVC"`)), code: CodePipeBadDN, msg: "no dn"},
		{name: "status", in: fc(pipe(`"p"`, `"dn":1,"status":"active"`)), code: CodePipeBadStatus, msg: "in_service"},
		{name: "status case", in: fc(pipe(`"p"`, `"dn":1,"status":"In_Service"`)), code: CodePipeBadStatus},
		{name: "role", in: fc(pipe(`"p"`, `"dn":1,"role":"trunk"`)), code: CodePipeBadRole},
		{name: "crossing", in: fc(pipe(`"p"`, `"dn":1,"crossing":"road"`)), code: CodePipeBadCross},
		{name: "install_year", in: fc(pipe(`"p"`, `"dn":1,"install_year":"1990"`)), code: CodePipeBadYear},
		{name: "material bool", in: fc(pipe(`"p"`, `"dn":1,"material":true`)), code: CodeBadProperty},
		{name: "dn_inferred string", in: fc(pipe(`"p"`, `"dn":1,"dn_inferred":"yes"`)), code: CodeBadProperty},
		{name: "normally_open string", in: fc(point("valve", `"v"`, `"normally_open":"false"`)), code: CodeValveBadBool, feature: "valve:v"},
		{name: "operable number", in: fc(point("valve", `"v"`, `"operable":0`)), code: CodeValveBadBool},
		{name: "valve dn", in: fc(point("valve", `"v"`, `"dn":0`)), code: CodeValveBadDN},
		{name: "households 0", in: fc(point("customer", `"c"`, `"households":0`)), code: CodeCustBadHH, feature: "customer:c"},
		{name: "households 1.5", in: fc(point("customer", `"c"`, `"households":1.5`)), code: CodeCustBadHH},
		{name: "households string", in: fc(point("customer", `"c"`, `"households":"2"`)), code: CodeCustBadHH},
		{name: "critical string", in: fc(point("customer", `"c"`, `"critical":"yes"`)), code: CodeBadProperty},
		{name: "source type number", in: fc(point("source", `"s"`, `"type":3`)), code: CodeBadProperty},
		{name: "errors of one feature", in: fc(pipe(`"p"`, `"dn":0,"status":"x","role":"y"`)), code: CodePipeBadDN, n: 3},

		// CRS
		{name: "crs unparseable", in: crs("urn:ogc:def:crs:EPSG::abc"), code: CodeCRSUnknown, msg: `"urn:ogc:def:crs:EPSG::abc"`},
		{name: "crs unknown name", in: crs("WGS 84"), code: CodeCRSUnknown, msg: "WGS 84"},
		{name: "crs link", in: `{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"http://x"}},"features":[]}`, code: CodeCRSUnknown},
		{name: "crs not object", in: `{"type":"FeatureCollection","crs":"EPSG:25831","features":[]}`, code: CodeCRSUnknown},
		{name: "crs unknown with user srid", in: crs("foo"), opt: Options{SRID: 25831}, code: CodeCRSUnknown},
		{name: "crs missing", in: projected, code: CodeCRSMissing, where: feature(1), msg: "projected coordinates but no CRS named; add a crs member or pass --crs EPSG:N"},
		{name: "crs conflict", in: crs("urn:ogc:def:crs:EPSG::25831"), opt: Options{SRID: 25830}, code: CodeCRSConflict, msg: "EPSG:25831"},
		{name: "crs84 conflict", in: crs("urn:ogc:def:crs:OGC:1.3:CRS84"), opt: Options{SRID: 25831}, code: CodeCRSConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, errs := read(t, tc.in, tc.opt)
			if errs == nil {
				t.Fatalf("no error; want %s", tc.code)
			}
			want := tc.n
			if want == 0 {
				want = 1
			}
			if len(errs) != want {
				t.Errorf("%d errors, want %d: %v", len(errs), want, errs)
			}
			is := errs[0]
			if is.Code != tc.code {
				t.Fatalf("code %s, want %s (%v)", is.Code, tc.code, is)
			}
			where := tc.where
			switch {
			case where == "" && strings.HasPrefix(tc.code, "json.syntax") && tc.name != "empty":
				where = "t.geojson:" // at least a line:col
			case where == "" && (strings.HasPrefix(tc.code, "feature.") || strings.HasPrefix(tc.code, "geometry.") ||
				strings.Contains("pipe valve customer property", strings.Split(tc.code, ".")[0])):
				where = feature(0)
			case where == "":
				where = testName
			}
			if where == "t.geojson:" {
				var l, c int
				if _, err := fmt.Sscanf(is.Where, "t.geojson:%d:%d", &l, &c); err != nil {
					t.Errorf("where %q, want line:column", is.Where)
				}
			} else if is.Where != where {
				t.Errorf("where %q, want %q", is.Where, where)
			}
			if tc.feature != "" && is.Feature != tc.feature {
				t.Errorf("feature %q, want %q", is.Feature, tc.feature)
			}
			if !strings.Contains(is.Msg, tc.msg) {
				t.Errorf("message %q does not contain %q", is.Msg, tc.msg)
			}
			if is.Msg == "" || (is.Fix == "" && tc.code != CodeTooManyErrors) {
				t.Errorf("issue without message or fix: %#v", is)
			}
		})
	}
}

// TestSyntaxPositions checks line:column for errors found at the different
// places of the decoder (inside a feature, between tokens, in keys).
func TestSyntaxPositions(t *testing.T) {
	var sb strings.Builder // several decoder buffers
	for i := 0; i < 3000; i++ {
		sb.WriteString(pipe(fmt.Sprintf(`"a%d"`, i), "") + ",\n")
	}
	big := sb.String()
	tests := []struct {
		name string
		in   string
		bad  string // the offending text; the error is at its first byte
		skip int    // ...plus this many bytes
	}{
		{"NaN deep in a feature", "{\"type\":\"FeatureCollection\",\"features\":[\n  " + strings.Replace(pipe(`"1"`, ""), "[3,4]", "[NaN,4]", 1) + "]}", "NaN", 0},
		{"NaN after many lines", "{\"type\":\"FeatureCollection\",\"features\":[\n" + big + strings.Replace(pipe(`"1"`, ""), "[3,4]", "[3,\n NaN]", 1) + "]}", "NaN", 0},
		{"bad value in top member", "{\"type\":\n\n  FeatureCollection, \"features\":[]}", "FeatureCollection", 0},
		{"bad literal", fc(point("valve", `"v"`, `"operable":tru`)), "tru}", 3},
		{"control char in string", fc(point("valve", "\"v\x01\"", "")), "\x01", 0},
		{"unclosed features", "{\"type\":\"FeatureCollection\",\"features\":[\n" + pipe(`"1"`, "") + "}", "}", 0},
		{"colon after array element", fc(pipe(`"1"`, "") + ":"), ":", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, errs := read(t, tc.in, Options{})
			if len(errs) != 1 || errs[0].Code != CodeJSONSyntax {
				t.Fatalf("got %d errors %v, want one json.syntax", len(errs), codes(errs[:min(len(errs), 5)]))
			}
			i := strings.LastIndex(tc.in, tc.bad) + tc.skip
			if tc.bad == "FeatureCollection" || tc.bad == "}" {
				i = strings.Index(tc.in, tc.bad)
			}
			if tc.bad == "}" {
				i = strings.LastIndex(tc.in, "}") // the last brace: where "]" is expected
			}
			if want := atOffset(tc.in, i); errs[0].Where != want {
				t.Errorf("where %s, want %s (%s)", errs[0].Where, want, errs[0].Msg)
			}
		})
	}
}

func TestTooManyErrors(t *testing.T) {
	var f []string
	for i := 0; i < 1500; i++ {
		f = append(f, point("valve", `""`, ""))
	}
	_, _, errs := read(t, fc(f...), Options{})
	if len(errs) != maxErrors {
		t.Fatalf("%d errors, want %d", len(errs), maxErrors)
	}
	last := errs[len(errs)-1]
	if last.Code != CodeTooManyErrors || last.Where != feature(maxErrors-1) {
		t.Errorf("last issue %v", last)
	}
}
