package asbuilt_test

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/asbuilt/asbuilttest"
)

func liveMain() *gis.Dataset {
	o := asbuilttest.Origin
	return &gis.Dataset{SRID: 4548,
		Pipes:   []gis.Pipe{{ID: "MAIN", DN: 600, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{{o[0] - 100, o[1]}, {o[0] + 0, o[1]}}}},
		Sources: []gis.Source{{ID: "PLANT", Type: "plant", Geom: orb.Point{o[0] - 100, o[1]}}},
	}
}

// TestGeneratedSurvey checks the benchmark's table: read from CSV and xlsx
// alike, tied into the live main, no errors.
func TestGeneratedSurvey(t *testing.T) {
	x, err := asbuilttest.XLSX(2000)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"gen.csv": asbuilttest.CSV(2000), "gen.xlsx": x} {
		d, err := asbuilt.Read(name, data, asbuilt.ReadOptions{CRS: asbuilt.CRS{SRID: 4548}})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Survey.Points) != 2000 || len(d.Dataset.Pipes) != 1999 {
			t.Fatalf("%s: %d points %d pipes", name, len(d.Survey.Points), len(d.Dataset.Pipes))
		}
		v := asbuilt.Validate(d, liveMain(), asbuilt.ValidateOptions{})
		if e, _ := asbuilt.Count(v.Issues); e > 0 {
			t.Fatalf("%s: %v", name, v.Issues[:min(5, len(v.Issues))])
		}
	}
}

// BenchmarkReadValidate20k reads and validates a 20,000-point table (the
// store adds the transform and the preview: see gis/store).
func BenchmarkReadValidate20k(b *testing.B) {
	csv := asbuilttest.CSV(20000)
	x, err := asbuilttest.XLSX(20000)
	if err != nil {
		b.Fatal(err)
	}
	for name, data := range map[string][]byte{"csv": csv, "xlsx": x} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				d, err := asbuilt.Read("gen."+name, data, asbuilt.ReadOptions{CRS: asbuilt.CRS{SRID: 4548}})
				if err != nil {
					b.Fatal(err)
				}
				asbuilt.Validate(d, liveMain(), asbuilt.ValidateOptions{})
			}
		})
	}
}
