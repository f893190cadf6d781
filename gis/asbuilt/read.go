package asbuilt

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
)

// Formats Read accepts.
const (
	FormatXLSX      = "xlsx"
	FormatCSV       = "csv"
	FormatGeoJSON   = "geojson"
	FormatShapefile = "shapefile" // zipped
	FormatGPKG      = "gpkg"
	FormatDXF       = "dxf"
)

// ReadOptions controls Read.
type ReadOptions struct {
	// CRS is the CRS the uploader named (zero: detect). A Local CRS must
	// come with its Proj filled in by the caller (the store's registry).
	CRS CRS
	// StorageSRID is the deployment's CRS: what plain Gauss-Krüger numbers
	// without a named CRS are taken to be.
	StorageSRID int
	Mapping     *Mapping
	Limits      Limits
	Build       BuildOptions
	// OGR2OGR is the ogr2ogr program for Shapefile, GeoPackage and DXF
	// ("ogr2ogr" on the PATH when empty).
	OGR2OGR string
}

// Delivery is a file as read: its format, the survey (point tables only),
// the Dataset with its provenance, the CRS settled, and every issue found
// so far. Validate adds those that need the live network.
type Delivery struct {
	File    string
	Format  string
	Survey  *Survey  // nil for GIS formats
	Summary *Summary // nil for GIS formats
	*Built
	CRS    CRS
	Swap   bool
	Issues []Issue
}

// Sniff tells a delivery's format from its first bytes (and, where they do
// not settle it, its name). It fails with *Error (file.wrong_type) for
// anything that is not accepted.
func Sniff(name string, data []byte) (string, error) {
	ext := strings.ToLower(filepath.Ext(name))
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	switch {
	case len(data) == 0:
		return "", fileError(CodeFileEmpty, name, "the file is empty", "upload the survey file")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		switch ext {
		case ".xlsx", ".xlsm":
			return FormatXLSX, nil
		case ".zip":
			return FormatShapefile, nil
		}
		if bytes.Contains(data, []byte("xl/workbook")) {
			return FormatXLSX, nil
		}
		if bytes.Contains(bytes.ToLower(data), []byte(".shp")) {
			return FormatShapefile, nil
		}
		return "", fileError(CodeFileWrongType, name, "a ZIP archive that is neither an .xlsx workbook nor a zipped shapefile", "upload .xlsx, .csv, a zipped shapefile, .gpkg, .dxf or Network GeoJSON")
	case bytes.HasPrefix(data, []byte("SQLite format 3\x00")):
		return FormatGPKG, nil
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", fileError(CodeFileWrongType, name, "an old binary Excel (.xls) or Office file", "open it in Excel or WPS and save it as .xlsx (Excel workbook)")
	case bytes.HasPrefix(data, []byte("%PDF")), bytes.HasPrefix(data, []byte("\x89PNG")), bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(data, []byte("GIF8")), bytes.HasPrefix(data, []byte{0x1F, 0x8B}), bytes.HasPrefix(data, []byte("Rar!")), bytes.HasPrefix(data, []byte("7z\xBC\xAF")):
		return "", fileError(CodeFileWrongType, name, "not a survey file (a PDF, image or compressed archive)", "upload .xlsx, .csv, a zipped shapefile (.zip), .gpkg, .dxf or Network GeoJSON")
	case ext == ".shp" || ext == ".dbf" || ext == ".shx":
		return "", fileError(CodeFileWrongType, name, "a shapefile is several files", "zip the .shp, .shx, .dbf and .prj together and upload the .zip")
	}
	t := bytes.TrimLeft(head, "\xEF\xBB\xBF \t\r\n")
	switch {
	case ext == ".dxf" || bytes.HasPrefix(t, []byte("0\r\nSECTION")) || bytes.HasPrefix(t, []byte("0\nSECTION")):
		return FormatDXF, nil
	case ext == ".geojson" || ext == ".json" || bytes.HasPrefix(t, []byte("{")):
		return FormatGeoJSON, nil
	case ext == ".xlsx":
		return "", fileError(CodeFileUnreadable, name, "the file is named .xlsx but is not a workbook (truncated or another format)", "save it again from Excel as .xlsx")
	case ext == ".gpkg":
		return "", fileError(CodeFileUnreadable, name, "the file is named .gpkg but is not a GeoPackage", "export it again")
	case ext == ".zip":
		return "", fileError(CodeFileUnreadable, name, "the file is named .zip but is not a ZIP archive", "zip the shapefile again")
	}
	return FormatCSV, nil
}

// Read reads a delivery: a point table (.xlsx, .csv), Network GeoJSON, a
// zipped Shapefile, a GeoPackage or a DXF file. It fails with *Error when
// the file cannot be used at all; otherwise the Delivery carries every
// issue found (errors included: they block the batch, but the rest of the
// file is still read so that all of them can be shown at once).
func Read(name string, data []byte, opt ReadOptions) (*Delivery, error) {
	lim := opt.Limits.withDefaults()
	opt.Limits = lim
	if int64(len(data)) > lim.MaxBytes {
		return nil, fileError(CodeFileTooLarge, name, fmt.Sprintf("the file is %d MiB, over the limit of %d MiB", len(data)>>20, lim.MaxBytes>>20), "split the survey into several deliveries")
	}
	format, err := Sniff(name, data)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatXLSX:
		sheets, err := readXLSX(data, name, lim)
		if err != nil {
			return nil, err
		}
		return readTable(name, format, "", sheets, opt)
	case FormatCSV:
		sh, enc, err := readCSV(data, name, lim)
		if err != nil {
			return nil, err
		}
		return readTable(name, format, enc, []Sheet{sh}, opt)
	case FormatGeoJSON:
		return readGeoJSON(name, data, opt)
	default:
		return readOGR(name, format, data, opt)
	}
}

func readTable(name, format, enc string, sheets []Sheet, opt ReadOptions) (*Delivery, error) {
	sh, hd, ferr := selectSheet(sheets, name, opt.Mapping)
	if ferr != nil {
		return nil, ferr
	}
	s, iss := parseSheet(sh, hd, name, enc, opt.Mapping, opt.Limits)
	if s.DataRows > opt.Limits.MaxRows {
		return nil, fileError(CodeFileTooLarge, s.where(), fmt.Sprintf("the table has %d data rows, more than the limit of %d", s.DataRows, opt.Limits.MaxRows), "split the survey into several deliveries")
	}
	d := &Delivery{File: name, Format: format, Survey: s, Issues: iss}
	var xs, ys []float64
	for i := range s.Points {
		if s.Points[i].HasXY {
			xs = append(xs, s.Points[i].X)
			ys = append(ys, s.Points[i].Y)
		}
	}
	dec := DetectCRS(xs, ys, opt.CRS, opt.StorageSRID, s.where())
	d.CRS, d.Swap = dec.CRS, dec.Swap
	d.Issues = append(d.Issues, dec.Issues...)
	d.Built = s.Build(d.CRS, d.Swap, opt.Build)
	d.Issues = append(d.Issues, d.Built.Issues...)
	sm := s.Summarize(d.CRS, d.Swap, opt.Mapping, false)
	d.Summary = &sm
	d.locate()
	return d, nil
}

// locate gives issues that name a point or pipe of the survey the
// position of that feature.
func (d *Delivery) locate() {
	if d.Built == nil {
		return
	}
	pipes := map[string]int{}
	for i := range d.Dataset.Pipes {
		pipes[d.Dataset.Pipes[i].ID] = i
	}
	for i := range d.Issues {
		is := &d.Issues[i]
		if is.At != nil || is.Feature == "" {
			continue
		}
		kind, id, _ := strings.Cut(is.Feature, ":")
		switch kind {
		case "point":
			if p, ok := d.PointAt[id]; ok {
				is.At = ptr(p)
			}
		case "pipe":
			if k, ok := pipes[id]; ok {
				is.At = ptr(midpoint(d.Dataset.Pipes[k].Geom))
			} else if a, b, ok := strings.Cut(id, "-"); ok {
				if p, ok := d.PointAt[a]; ok {
					q := d.PointAt[b]
					is.At = ptr([2]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2})
				}
			}
		}
	}
}

func readGeoJSON(name string, data []byte, opt ReadOptions) (*Delivery, error) {
	if opt.CRS.Local != "" || opt.CRS.Proj != "" {
		return nil, fileError(CodeCRSUnknown, name, "a Network GeoJSON file names its CRS with an EPSG code (or is lon/lat)", "pass --crs EPSG:N or add a crs member")
	}
	ds, warns, err := netjson.Read(bytes.NewReader(data), netjson.Options{Name: name, SRID: opt.CRS.SRID, MaxBytes: opt.Limits.MaxBytes})
	if err != nil {
		var inv *gis.InvalidError
		if errors.As(err, &inv) {
			e := &Error{}
			for _, i := range inv.Issues {
				e.Issues = append(e.Issues, fromGIS(i, SevError))
			}
			return nil, e
		}
		return nil, fileError(CodeFileUnreadable, name, err.Error(), "")
	}
	// A GeoJSON delivery names its own ids: they are kept, so that it can
	// change live features (same id) as well as add new ones.
	d := &Delivery{File: name, Format: FormatGeoJSON, CRS: CRS{SRID: ds.SRID, Proj: ds.Proj}, Built: &Built{Dataset: ds, PointAt: map[string]orb.Point{}, PipeOf: map[string][2]string{}, Refs: map[string][]int{}}}
	for _, w := range warns {
		d.Issues = append(d.Issues, fromGIS(w, SevWarning))
	}
	return d, nil
}

func fromGIS(i gis.Issue, sev string) Issue {
	return Issue{Severity: sev, Code: i.Code, Where: i.Where, Feature: i.Feature, Msg: i.Msg, Fix: i.Fix}
}

func midpoint(ls orb.LineString) orb.Point {
	return gis.PointAt(ls, gis.LineLength(ls)/2)
}
