package store

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
)

// TestFeatureJSON: the history's features, split from netjson.Write's
// output without parsing it, are each exactly that feature of a full
// parse, whatever braces, quotes, escapes and newlines their strings hold.
func TestFeatureJSON(t *testing.T) {
	tricky := `a "quoted" {brace} [bracket], back\slash \" and` + "\nnewline\ttab"
	ds := &gis.Dataset{SRID: 4548,
		Pipes: []gis.Pipe{
			{ID: "P1", DN: 200, Material: tricky, Geom: orb.LineString{{1, 2}, {3, 4}}, Extra: map[string]any{"note": tricky, "rows": []any{1.0, "x]"}}},
			{ID: `P"2}`, Geom: orb.LineString{{5, 6}, {7, 8}}},
		},
		Valves:    []gis.Valve{{ID: "V1", Pipe: "P1", Geom: orb.Point{2, 3}}},
		Hydrants:  []gis.Hydrant{{ID: "H{1", Geom: orb.Point{2, 3}}},
		Customers: []gis.Customer{{ID: "C1", Name: tricky, Households: 2}},
		Districts: []gis.District{{ID: "D1", Name: "东区", Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}}},
	}
	var buf bytes.Buffer
	if err := netjson.Write(&buf, ds); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range fc.Features {
		var p struct {
			Properties struct{ Kind, ID string } `json:"properties"`
		}
		if err := json.Unmarshal(f, &p); err != nil {
			t.Fatal(err)
		}
		want[p.Properties.Kind+":"+p.Properties.ID] = string(f)
	}
	got, err := featureJSON(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 6 {
		t.Fatalf("%d features, want %d", len(got), len(want))
	}
	for k, f := range want {
		if string(got[k]) != f {
			t.Errorf("%s:\n got  %s\n want %s", k, got[k], f)
		}
	}
	some, err := featureJSON(ds, map[string]bool{"pipe:" + `P"2}`: true, "customer:C1": true})
	if err != nil || len(some) != 2 || string(some["customer:C1"]) != want["customer:C1"] {
		t.Errorf("two features: %v %v", some, err)
	}
}
