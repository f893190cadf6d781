package asbuilt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const sampleDir = "../../../shared/data/asbuilt"

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return b
}

// TestSampleMatchesExpected reads the three sample files and compares every
// figure of expected.json, the pipes one by one included.
func TestSampleMatchesExpected(t *testing.T) {
	raw := readSample(t, "expected.json")
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sample_clean.xlsx", "sample_clean.csv", "sample_clean_gbk.csv"} {
		t.Run(name, func(t *testing.T) {
			d, err := Read(name, readSample(t, name), ReadOptions{StorageSRID: 4548, CRS: CRS{SRID: 4548}})
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range d.Issues {
				if is.Severity == SevError {
					t.Errorf("unexpected error: %s", is)
				}
			}
			sm := d.Survey.Summarize(d.CRS, d.Swap, nil, true)
			b, _ := json.Marshal(sm)
			var got map[string]any
			json.Unmarshal(b, &got) //nolint:errcheck
			got["bbox_epsg4548"] = got["bbox"]
			checked := 0
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					continue // descriptive keys (point_id_column, …)
				}
				if k == "sheet" && name != "sample_clean.xlsx" {
					continue // a CSV has no sheet name
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s: got %v, want %v", k, g, w)
				}
				checked++
			}
			if checked < 28 {
				t.Errorf("only %d keys of expected.json compared", checked)
			}
			if len(d.Dataset.Pipes) != 133 || len(d.Dataset.Valves) != 15 || len(d.Dataset.Hydrants) != 6 {
				t.Errorf("dataset: %d pipes, %d valves, %d hydrants", len(d.Dataset.Pipes), len(d.Dataset.Valves), len(d.Dataset.Hydrants))
			}
		})
	}
}
