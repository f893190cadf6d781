package gis_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
)

const sharedData = "../../shared/data"

// loadGiswater reads the shared Giswater sample and builds its network.
func loadGiswater(t testing.TB) *gis.Network {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, "giswater/network.geojson"))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	defer f.Close()
	ds, _, err := netjson.Read(f, netjson.Options{Name: "network.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	topo, _ := gis.Resolve(ds, 0)
	return gis.NewNetwork(topo)
}

type refCase struct {
	CaseID  string `json:"case_id"`
	Request struct {
		Pipe string   `json:"pipe"`
		At   float64  `json:"at"`
		Fail []string `json:"fail"`
	} `json:"request"`
	Expected gis.Result `json:"expected"`
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	if len(g) != len(w) {
		t.Errorf("%s: got %d %v, want %d %v", what, len(g), g, len(w), w)
		return
	}
	for i := range g {
		if g[i] != w[i] {
			t.Errorf("%s: got %v, want %v", what, g, w)
			return
		}
	}
}

// TestGiswaterReferenceShutoffs reproduces every reference answer of
// shared/data/giswater/expected_shutoffs.json, computed by an independent
// implementation of the semantics.
func TestGiswaterReferenceShutoffs(t *testing.T) {
	net := loadGiswater(t)
	raw, err := os.ReadFile(filepath.Join(sharedData, "giswater/expected_shutoffs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) != 20 {
		t.Fatalf("want 20 cases, got %d", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		t.Run(c.CaseID, func(t *testing.T) {
			p, ok := net.PipeIndex(c.Request.Pipe)
			if !ok {
				t.Fatalf("pipe %s not found", c.Request.Pipe)
			}
			var failed []int32
			for _, v := range c.Request.Fail {
				i, ok := net.ValveIndex(v)
				if !ok {
					t.Fatalf("valve %s not found", v)
				}
				failed = append(failed, i)
			}
			plan := net.Normal().Isolate(gis.Leak{Pipe: p, S: c.Request.At * net.Topo.PipeLen[p], Failed: failed})
			got := net.Render(plan)
			want := c.Expected
			sameSet(t, "valves_to_close", got.ValvesToClose, want.ValvesToClose)
			sameSet(t, "valves_dry_side", got.ValvesDrySide, want.ValvesDrySide)
			sameSet(t, "valves_already_closed", got.ValvesAlreadyClosed, want.ValvesAlreadyClosed)
			sameSet(t, "valves_failed", got.ValvesFailed, want.ValvesFailed)
			sameSet(t, "segment_pipes", got.SegmentPipes, want.SegmentPipes)
			sameSet(t, "unintended_pipes", got.UnintendedPipes, want.UnintendedPipes)
			sameSet(t, "connections", got.Connections, want.Connections)
			sameSet(t, "customers", got.Customers, want.Customers)
			sameSet(t, "critical_customers", got.CriticalCustomers, want.CriticalCustomers)
			sameSet(t, "hydrants", got.Hydrants, want.Hydrants)
			if got.Households != want.Households {
				t.Errorf("households: got %d, want %d", got.Households, want.Households)
			}
			if math.Abs(got.LengthM-want.LengthM) > 0.5 {
				t.Errorf("length_m: got %.3f, want %.3f", got.LengthM, want.LengthM)
			}
		})
	}
}
