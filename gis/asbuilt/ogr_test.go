package asbuilt

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/waterline-gis/waterline/gis"
)

// The testdata network (4 pipes with a tee and a bend, 2 valves, a
// hydrant; EPSG:4548) was written by ogr2ogr from one GeoJSON file as a
// zipped shapefile (a pipes and a fittings layer), a GeoPackage (the same
// two layers) and a DXF file (the pipes only; DXF keeps no attributes).

func needOGR(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Skip("ogr2ogr is not installed (apt-get install gdal-bin)")
	}
}

func readTestdata(t *testing.T, name string, opt ReadOptions) *Delivery {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Read(name, b, opt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestShapefileAndGeoPackageSameTopology reads the zipped shapefile and the
// GeoPackage of one network: the datasets and their resolved topologies
// must be the same.
func TestShapefileAndGeoPackageSameTopology(t *testing.T) {
	needOGR(t)
	shp := readTestdata(t, "network_shp.zip", ReadOptions{StorageSRID: 4548})
	gpkg := readTestdata(t, "network.gpkg", ReadOptions{StorageSRID: 4548})
	for _, d := range []*Delivery{shp, gpkg} {
		if d.CRS.SRID != 4548 || len(d.Dataset.Pipes) != 4 || len(d.Dataset.Valves) != 2 || len(d.Dataset.Hydrants) != 1 {
			t.Fatalf("%s: crs %v, %d pipes %d valves %d hydrants; issues %v", d.Format, d.CRS, len(d.Dataset.Pipes), len(d.Dataset.Valves), len(d.Dataset.Hydrants), d.Issues)
		}
		for _, is := range d.Issues {
			t.Errorf("%s: unexpected issue %s", d.Format, is)
		}
	}
	key := func(ds *gis.Dataset) map[string]any {
		m := map[string]any{}
		for _, p := range ds.Pipes {
			m["pipe:"+p.ID] = []any{p.DN, p.Material, p.InstallYear, p.Geom}
		}
		for _, v := range ds.Valves {
			m["valve:"+v.ID] = []any{v.DN, v.Geom}
		}
		for _, h := range ds.Hydrants {
			m["hydrant:"+h.ID] = h.Geom
		}
		return m
	}
	if a, b := key(shp.Dataset), key(gpkg.Dataset); !reflect.DeepEqual(a, b) {
		t.Fatalf("shapefile %v\ngeopackage %v", a, b)
	}
	ta, _ := gis.Resolve(shp.Dataset, 0)
	tb, _ := gis.Resolve(gpkg.Dataset, 0)
	if !reflect.DeepEqual(ta.NodeXY, tb.NodeXY) || !reflect.DeepEqual(ta.PipeFrom, tb.PipeFrom) || !reflect.DeepEqual(ta.PipeTo, tb.PipeTo) ||
		!reflect.DeepEqual(ta.TeePipe, tb.TeePipe) || !reflect.DeepEqual(ta.ValvePipe, tb.ValvePipe) || !reflect.DeepEqual(ta.HydrantPipe, tb.HydrantPipe) {
		t.Fatalf("topologies differ:\n%+v\n%+v", ta, tb)
	}
	if len(ta.TeePipe) != 1 || len(ta.NodeXY)/2 != 6 {
		t.Errorf("%d tees, %d junctions; want the S4 tee on S1 and 6 junctions", len(ta.TeePipe), len(ta.NodeXY)/2)
	}
	v := Validate(shp, nil, ValidateOptions{})
	if find(v.Issues, CodePipeDanglingEnd) == nil {
		t.Errorf("open ends of a GIS delivery are not reported: %v", v.Issues)
	}
}

func TestDXF(t *testing.T) {
	needOGR(t)
	d := readTestdata(t, "network.dxf", ReadOptions{StorageSRID: 4548})
	if len(d.Dataset.Pipes) != 4 || d.CRS.SRID != 4548 {
		t.Fatalf("%d pipes, crs %v", len(d.Dataset.Pipes), d.CRS)
	}
	expect(t, d.Issues, CodeCRSAssumed, SevWarning, 0)
	// DXF keeps no attributes: every pipe lacks its diameter.
	expect(t, Validate(d, nil, ValidateOptions{}).Issues, CodePipeDNMissing, SevError, 0)
}

func TestOGRErrors(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "network.gpkg"))
	_, err := Read("n.gpkg", b, ReadOptions{OGR2OGR: "/nonexistent/ogr2ogr"})
	if e, ok := err.(*Error); !ok || e.Issues[0].Code != CodeGDALMissing {
		t.Fatalf("no ogr2ogr: %v", err)
	}
	needOGR(t)
	_, err = Read("n.gpkg", b[:4096], ReadOptions{})
	if e, ok := err.(*Error); !ok || e.Issues[0].Code != CodeFileUnreadable {
		t.Fatalf("truncated GeoPackage: %v", err)
	}
	z, _ := os.ReadFile(filepath.Join("testdata", "network_shp.zip"))
	_, err = Read("n.zip", z[:len(z)/2], ReadOptions{})
	if e, ok := err.(*Error); !ok || e.Issues[0].Code != CodeFileUnreadable {
		t.Fatalf("truncated zip: %v", err)
	}
	_, err = Read("n.zip", z, ReadOptions{Limits: Limits{MaxUnzipped: 1000}})
	if e, ok := err.(*Error); !ok || e.Issues[0].Code != CodeFileZipBomb {
		t.Fatalf("over the unzip limit: %v", err)
	}
}
