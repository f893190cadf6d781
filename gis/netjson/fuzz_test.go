package netjson

import (
	"bytes"
	"os"
	"testing"
)

// FuzzRead checks that Read never panics, and that whatever it accepts
// survives Write and Read unchanged. Run it with
//
//	go test ./gis/netjson -run '^$' -fuzz FuzzRead -fuzztime 30s
func FuzzRead(f *testing.F) {
	seeds := []string{
		fc(),
		fc(pipe(`"1"`, `"dn":110,"status":"planned","x":[1,{"a":null}]`), point("valve", `"v"`, `"pipe":"1","normally_open":false`)),
		fc(point("customer", `"c"`, `"households":2,"critical":true`), withGeom("customer", `"connection":"k"`, "null")),
		fc(withGeom("district", `"name":"n"`, `{"type":"Polygon","coordinates":[[[0,0,1],[1,0,1],[1,1,1],[0,0,1]]]}`)),
		fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2,3],[1,2,3],[4,5,6]]}`)),
		`{"type":"FeatureCollection","name":"n","proj":"+proj=longlat","provenance":{"a":"b"},"crs":{"type":"name","properties":{"name":"EPSG:25831"}},"features":[` +
			withGeom("source", `"type":"well"`, `{"type":"Point","coordinates":[418935.8,4576793.9]}`) + `]}`,
		// invalid
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"valve","id":"v"},"geometry":{"type":"Point","coordinates":[NaN,1]}}]}`,
		fc(withGeom("pipe", `"dn":"abc"`, `{"type":"LineString","coordinates":[[1,2],[1e999,3]]}`)),
		fc(withGeom("pipe", `"dn":1`, `{"type":"LineString","coordinates":[[1,2],[3,4,5]]}`)),
		fc(pipe(`"1"`, ""), pipe(`1`, ""), `17`, `{"type":"Feature"}`),
		fc(point("meter", `"m"`, "")),
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:abc"}},"features":[]}`,
		`{"type":"FeatureCollection","features":[` + pipe(`"1"`, ""),
		`{"type":"FeatureCollection" "features":[]}`,
		`[]`, ``, `{"features":{}}`, `{"a\u0041":[{"b":"\ud800"}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(giswaterPath); err == nil && len(b) > 4000 {
		f.Add(append(b[:3500:3500], "]}"...)) // a few real features, cut
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, _, err := Read(bytes.NewReader(data), Options{Name: "fuzz", MaxBytes: 1 << 20})
		if err != nil {
			if ds != nil {
				t.Fatal("dataset returned with an error")
			}
			return
		}
		if out, err := roundTrip(ds); err != nil {
			t.Fatalf("%v\ninput:  %s\noutput: %s", err, data, out)
		}
	})
}
