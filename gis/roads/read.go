// Package roads reads a road network for patrol deadheading: lines from
// GeoJSON (LineString and MultiLineString features) or from anything GDAL
// reads (an OSM .osm/.pbf extract, a shapefile, a GeoPackage) through
// GDAL's ogr2ogr (Debian's gdal-bin), which converts the source to GeoJSON
// in its own CRS. Roads are kept by class (OSM highway=*, or a
// shapefile's fclass): motorways and trunks are not walkable and are
// skipped by default. The result is ready for store.ImportRoads, which
// transforms it into the storage CRS in PostGIS.
package roads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/ogr"
	"github.com/waterline-gis/waterline/gis/store"
)

// DefaultClasses are the road classes kept by default: every OSM highway
// class a person walks along. Motorways, trunks (and their links) and
// roads that are not built (proposed, construction, abandoned) are left
// out.
var DefaultClasses = []string{
	"primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
	"unclassified", "residential", "living_street", "service", "pedestrian", "road",
	"footway", "path", "steps", "cycleway", "track", "bridleway",
}

// Options control Read.
type Options struct {
	// SRID is the CRS of the file's coordinates (--crs); 0 takes the
	// file's own (GeoJSON crs member, GDAL's reading of the source), or
	// EPSG:4326 for GeoJSON and OSM without one.
	SRID int
	// Classes are the road classes kept (nil: DefaultClasses; a single
	// "all": every class). A feature without a class is kept, except from
	// OSM, whose lines layer holds rivers, power lines and the like too.
	Classes []string
	// OGR2OGR is the ogr2ogr program ("ogr2ogr" on the PATH when empty).
	OGR2OGR string
	// Timeout bounds the ogr2ogr run (default 10 minutes).
	Timeout time.Duration
}

// Result is what Read found.
type Result struct {
	Roads  []store.Road
	SRID   int    // CRS of Roads' coordinates
	Format string // geojson | osm | gdal
	// Counts: "kept", "features", and "skipped:<reason>" (a class, "no
	// class", "not a line").
	Counts map[string]int
}

// Error is bad input: the file and, when it is about one, the feature.
type Error struct {
	File, Feature, Msg string
}

func (e *Error) Error() string {
	if e.Feature != "" {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Feature, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Format tells the format of a road file from its name: geojson, osm or
// gdal (anything else GDAL may read).
func Format(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".geojson", ".json":
		return "geojson"
	case ".osm", ".pbf":
		return "osm"
	}
	return "gdal"
}

// Read reads the road lines of the file at path (see the package comment).
// Errors: *Error for bad input (not readable, not GeoJSON, no road lines,
// a malformed feature, an unknown crs member), naming the file and the
// feature.
func Read(ctx context.Context, path string, opt Options) (*Result, error) {
	name := filepath.Base(path)
	format := Format(path)
	if format == "geojson" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{File: name, Msg: err.Error()}
		}
		defer f.Close()
		return read(f, name, format, "", opt)
	}
	run, err := ogr.New(opt.OGR2OGR, "waterline-roads-")
	var nf *ogr.NotFoundError
	if errors.As(err, &nf) {
		return nil, &Error{File: name, Msg: "reading this format needs GDAL's ogr2ogr, which is not installed (apt-get install gdal-bin), or convert the roads to GeoJSON"}
	}
	if err != nil {
		return nil, err
	}
	defer run.Close()
	if _, err := os.Stat(path); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	conv := ogr.Options{SkipFailures: true}
	layer := ""
	if format == "osm" {
		// OSM's lines layer: ways that are not areas. Only roads are wanted.
		layer = "lines"
		conv.Layer, conv.Where = "lines", "highway IS NOT NULL"
	}
	f, err := run.ToGeoJSON(ctx, path, conv)
	var oe *ogr.Error
	switch {
	case errors.As(err, &oe) && oe.NoOutput:
		return nil, &Error{File: name, Msg: "GDAL wrote nothing: " + oe.Stderr}
	case errors.As(err, &oe):
		msg := oe.Detail()
		if ctx.Err() != nil {
			msg = "ogr2ogr took longer than " + opt.Timeout.String()
		}
		return nil, &Error{File: name, Msg: "GDAL cannot read the file: " + msg}
	case err != nil:
		return nil, err
	}
	defer f.Close()
	return read(f, name, format, layer, opt)
}

// ReadGeoJSON reads road lines from GeoJSON (a FeatureCollection, as a
// file or as ogr2ogr writes it). name is used in errors.
func ReadGeoJSON(r io.Reader, name string, opt Options) (*Result, error) {
	return read(r, name, "geojson", "", opt)
}

type feature struct {
	ID       json.RawMessage `json:"id"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func read(r io.Reader, name, format, layer string, opt Options) (*Result, error) {
	keep := map[string]bool{}
	all := false
	classes := opt.Classes
	if classes == nil {
		classes = DefaultClasses
	}
	for _, c := range classes {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "all" {
			all = true
		}
		keep[c] = true
	}
	res := &Result{Format: format, Counts: map[string]int{}}
	where := func(i int) string {
		if layer != "" {
			return fmt.Sprintf("[%s] feature %d", layer, i+1)
		}
		return fmt.Sprintf("feature %d", i+1)
	}
	fileSRID := 0
	dec := json.NewDecoder(r)
	dec.UseNumber()
	notJSON := func(err error) error {
		return &Error{File: name, Msg: "not GeoJSON: " + err.Error()}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, notJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &Error{File: name, Msg: "not GeoJSON: want a FeatureCollection object"}
	}
	sawFeatures := false
	nf := 0
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, notJSON(err)
		}
		key, _ := kt.(string)
		switch key {
		case "crs":
			var c struct {
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, notJSON(err)
			}
			if string(raw) == "null" {
				continue
			}
			_ = json.Unmarshal(raw, &c)
			srid, ok := netjson.ParseCRSName(c.Properties.Name)
			if !ok {
				return nil, &Error{File: name, Msg: fmt.Sprintf("unknown CRS %s in the crs member; name it as urn:ogc:def:crs:EPSG::<code> or pass --crs EPSG:N", shorten(raw))}
			}
			fileSRID = srid
		case "features":
			sawFeatures = true
			t, err := dec.Token()
			if err != nil {
				return nil, notJSON(err)
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return nil, &Error{File: name, Msg: "not GeoJSON: features is not an array"}
			}
			for dec.More() {
				var f feature
				if err := dec.Decode(&f); err != nil {
					return nil, &Error{File: name, Feature: where(nf), Msg: "not a GeoJSON feature: " + err.Error()}
				}
				if err := res.add(&f, where(nf), format, keep, all); err != nil {
					return nil, &Error{File: name, Feature: where(nf), Msg: err.Error()}
				}
				nf++
			}
			if _, err := dec.Token(); err != nil {
				return nil, notJSON(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, notJSON(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, notJSON(err)
	}
	if !sawFeatures {
		return nil, &Error{File: name, Msg: "not a GeoJSON FeatureCollection: no features member"}
	}
	res.Counts["features"] = nf
	res.Counts["kept"] = len(res.Roads)
	if len(res.Roads) == 0 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("no road lines (%d features: %s)", nf, skippedText(res.Counts))}
	}
	switch {
	case opt.SRID != 0:
		res.SRID = opt.SRID
	case fileSRID != 0:
		res.SRID = fileSRID
	default:
		res.SRID = 4326
		if format == "gdal" {
			return nil, &Error{File: name, Msg: "the file names no CRS GDAL knows by an EPSG code; pass --crs EPSG:N"}
		}
	}
	if res.SRID == 4326 {
		for i := range res.Roads {
			for _, p := range res.Roads[i].Geom {
				if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
					return nil, &Error{File: name, Feature: res.Roads[i].Feature,
						Msg: fmt.Sprintf("coordinates (%g, %g) are not WGS84 lon/lat; pass --crs EPSG:N", p[0], p[1])}
				}
			}
		}
	}
	return res, nil
}

func skippedText(c map[string]int) string {
	var parts []string
	for k, v := range c {
		if strings.HasPrefix(k, "skipped:") {
			parts = append(parts, fmt.Sprintf("%d %s", v, strings.TrimPrefix(k, "skipped:")))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "none is a line"
	}
	return "skipped " + strings.Join(parts, ", ")
}

func shorten(b []byte) string {
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// add keeps f's lines if it is a road of a kept class.
func (res *Result) add(f *feature, where, format string, keep map[string]bool, all bool) error {
	if f.Geometry == nil {
		res.Counts["skipped:not a line"]++
		return nil
	}
	var lines [][][]float64
	switch f.Geometry.Type {
	case "LineString":
		var l [][]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &l); err != nil {
			return fmt.Errorf("LineString coordinates: %v", err)
		}
		lines = [][][]float64{l}
	case "MultiLineString":
		if err := json.Unmarshal(f.Geometry.Coordinates, &lines); err != nil {
			return fmt.Errorf("MultiLineString coordinates: %v", err)
		}
	default:
		res.Counts["skipped:not a line"]++
		return nil
	}
	props := f.Properties
	class := strings.ToLower(prop(props, "highway", "fclass"))
	tags := otherTags(prop(props, "other_tags"))
	switch {
	case class == "" && format == "osm":
		res.Counts["skipped:no class"]++
		return nil
	case class != "" && !all && !keep[class]:
		res.Counts["skipped:"+class]++
		return nil
	}
	layer := 0
	ls := prop(props, "layer")
	if ls == "" {
		ls = tags["layer"]
	}
	if v, err := strconv.Atoi(strings.TrimSpace(ls)); err == nil {
		layer = v
	} else if yes(prop(props, "bridge")) || yes(tags["bridge"]) {
		layer = 1
	} else if yes(prop(props, "tunnel")) || yes(tags["tunnel"]) {
		layer = -1
	}
	id := prop(props, "osm_id", "id")
	if id == "" && len(f.ID) > 0 && string(f.ID) != "null" {
		id = strings.Trim(string(f.ID), `"`)
	}
	for k, l := range lines {
		if len(l) < 2 {
			return fmt.Errorf("a line needs at least two positions, has %d", len(l))
		}
		g := make(orb.LineString, len(l))
		for i, c := range l {
			if len(c) < 2 || math.IsNaN(c[0]) || math.IsNaN(c[1]) || math.IsInf(c[0], 0) || math.IsInf(c[1], 0) {
				return fmt.Errorf("position %d is not [x, y]", i+1)
			}
			g[i] = orb.Point{c[0], c[1]}
		}
		w := where
		if len(lines) > 1 {
			w = fmt.Sprintf("%s (line %d)", where, k+1)
		}
		res.Roads = append(res.Roads, store.Road{SourceID: id, Name: prop(props, "name"), Highway: class, Layer: layer, Geom: g, Feature: w})
	}
	return nil
}

// prop is the first of keys present in props, as text.
func prop(props map[string]any, keys ...string) string {
	for _, k := range keys {
		v, ok := props[k]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		default:
			return fmt.Sprint(x)
		}
	}
	return ""
}

func yes(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "t", "1", "y":
		return true
	}
	return false
}

var tagRE = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"`)

// otherTags reads GDAL's OSM other_tags (an hstore text: "k"=>"v",…).
func otherTags(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, kv := range tagRE.FindAllStringSubmatch(s, -1) {
		m[kv[1]] = kv[2]
	}
	return m
}
