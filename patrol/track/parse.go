// Package track reads GPS tracks (GPX, or GeoJSON with timestamps) and
// matches them against pipes: how much of each pipe lies within a buffer of
// the track, and when the track was there. Parsing rejects what cannot be
// proof of patrol — not XML/JSON, no timestamps, points out of order,
// coordinates out of range — with *gis.Error values of kind gis.Invalid
// and codes "track.*", so that nothing is recorded from a rejected track.
package track

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// Point is a track point in WGS84 with its time.
type Point struct {
	Lon, Lat float64
	T        time.Time
}

// Track is a parsed, validated GPS track: at least two points, every one
// with a time, in non-decreasing time order.
type Track struct {
	Format string // "gpx" | "geojson"
	Name   string
	Points []Point
}

// Options control Parse.
type Options struct {
	// MaxPoints rejects larger tracks (default 200,000: 55 h at 1 Hz).
	MaxPoints int
	// Loc reads times written without a zone offset (GeoJSON only; GPX
	// times are UTC by the standard). Default UTC.
	Loc *time.Location
}

func invalid(code, format string, args ...any) error {
	return gis.Errorf(gis.Invalid, code, format, args...)
}

// Parse reads a track, telling GPX from GeoJSON by its first character.
func Parse(r io.Reader, opt Options) (*Track, error) {
	if opt.MaxPoints <= 0 {
		opt.MaxPoints = 200_000
	}
	if opt.Loc == nil {
		opt.Loc = time.UTC
	}
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, invalid("track.empty", "the track file is empty")
		}
		switch c := b[0]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			br.ReadByte() //nolint:errcheck
			continue
		case c == 0xEF: // UTF-8 byte-order mark
			br.Discard(3) //nolint:errcheck
			continue
		case c == '<':
			return parseGPX(br, opt)
		case c == '{':
			return parseGeoJSON(br, opt)
		default:
			return nil, invalid("track.bad_format", "the track is neither GPX (XML) nor GeoJSON: it starts with %q", string(b))
		}
	}
}

type gpxPt struct {
	Lat  *string `xml:"lat,attr"`
	Lon  *string `xml:"lon,attr"`
	Time *string `xml:"time"`
}

// parseGPX reads the <trkpt> of every <trk>/<trkseg> in order.
func parseGPX(r io.Reader, opt Options) (*Track, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	tr := &Track{Format: "gpx"}
	root := true
	var noTime, total int
	firstNoTime := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, invalid("track.bad_xml", "the GPX file is not well-formed XML: line %d: %s", se.Line, se.Msg)
			}
			return nil, invalid("track.bad_xml", "the GPX file is not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			root = false
			if se.Name.Local != "gpx" {
				return nil, invalid("track.not_gpx", "the XML file is not GPX: its root element is <%s>, want <gpx>", se.Name.Local)
			}
			continue
		}
		switch se.Name.Local {
		case "name":
			if tr.Name == "" {
				var s string
				if err := dec.DecodeElement(&s, &se); err == nil {
					tr.Name = strings.TrimSpace(s)
				}
			}
		case "trkpt":
			var p gpxPt
			if err := dec.DecodeElement(&p, &se); err != nil {
				line, _ := dec.InputPos()
				return nil, invalid("track.bad_xml", "the GPX file is not well-formed XML near line %d: %v", line, err)
			}
			total++
			if total > opt.MaxPoints {
				return nil, invalid("track.too_large", "the track has more than %d points; split it", opt.MaxPoints)
			}
			if p.Lat == nil || p.Lon == nil {
				return nil, invalid("track.bad_coordinate", "track point %d has no lat/lon attributes", total)
			}
			lat, err1 := strconv.ParseFloat(strings.TrimSpace(*p.Lat), 64)
			lon, err2 := strconv.ParseFloat(strings.TrimSpace(*p.Lon), 64)
			if err1 != nil || err2 != nil {
				return nil, invalid("track.bad_coordinate", "track point %d: lat=%q lon=%q are not numbers", total, *p.Lat, *p.Lon)
			}
			pt := Point{Lon: lon, Lat: lat}
			if p.Time == nil || strings.TrimSpace(*p.Time) == "" {
				noTime++
				if firstNoTime == 0 {
					firstNoTime = total
				}
			} else {
				t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*p.Time))
				if err != nil {
					return nil, invalid("track.bad_time", "track point %d: time %q is not an ISO 8601 / RFC 3339 time", total, *p.Time)
				}
				pt.T = t
			}
			tr.Points = append(tr.Points, pt)
		}
	}
	if root {
		return nil, invalid("track.bad_xml", "the GPX file has no root element")
	}
	if noTime == total && total > 0 {
		return nil, invalid("track.no_time", "the track has no timestamps: a track is proof of patrol only with the time of each point (record with time, e.g. <time> in every <trkpt>)")
	}
	if noTime > 0 {
		return nil, invalid("track.no_time", "%d of %d track points have no <time>, the first is point %d", noTime, total, firstNoTime)
	}
	return tr, tr.validate()
}

type gjGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

type gjFeature struct {
	Type       string          `json:"type"`
	Geometry   *gjGeometry     `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

type gjRoot struct {
	Type       string          `json:"type"`
	Features   []gjFeature     `json:"features"`
	Geometry   *gjGeometry     `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// parseGeoJSON reads a track written as GeoJSON in WGS84: a LineString or
// MultiLineString Feature whose properties carry the time of each
// coordinate ("coordTimes" or "times": RFC 3339 strings or epoch
// seconds or milliseconds, nested per line for a MultiLineString), or a fourth
// coordinate holding epoch seconds; or a FeatureCollection of such
// Features, or of Point Features with a "time" property; or a bare
// LineString with four-number coordinates.
func parseGeoJSON(r io.Reader, opt Options) (*Track, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("track: read: %w", err)
	}
	var root gjRoot
	if err := json.Unmarshal(b, &root); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
			return nil, invalid("track.bad_json", "the GeoJSON track is not valid JSON: line %d: %v", line, err)
		}
		return nil, invalid("track.bad_json", "the GeoJSON track is not valid GeoJSON: %v", err)
	}
	tr := &Track{Format: "geojson"}
	var feats []gjFeature
	switch root.Type {
	case "FeatureCollection":
		feats = root.Features
	case "Feature":
		feats = []gjFeature{{Type: "Feature", Geometry: root.Geometry, Properties: root.Properties}}
	case "LineString", "MultiLineString":
		feats = []gjFeature{{Type: "Feature", Geometry: &gjGeometry{Type: root.Type, Coordinates: mustRaw(b)}}}
	default:
		return nil, invalid("track.bad_geojson", "a GeoJSON track must be a Feature, FeatureCollection or LineString, not %q", root.Type)
	}
	for fi, f := range feats {
		if f.Geometry == nil {
			continue
		}
		props := map[string]json.RawMessage{}
		if len(f.Properties) > 0 && string(f.Properties) != "null" {
			if err := json.Unmarshal(f.Properties, &props); err != nil {
				return nil, invalid("track.bad_geojson", "feature %d: properties are not an object", fi)
			}
		}
		if name, ok := props["name"]; ok && tr.Name == "" {
			json.Unmarshal(name, &tr.Name) //nolint:errcheck // a name is optional
		}
		switch f.Geometry.Type {
		case "Point":
			var c []float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil || len(c) < 2 {
				return nil, invalid("track.bad_coordinate", "feature %d: a Point needs [lon, lat]", fi)
			}
			p := Point{Lon: c[0], Lat: c[1]}
			raw, ok := props["time"]
			if !ok {
				raw, ok = props["timestamp"]
			}
			if ok {
				t, err := parseTime(raw, opt.Loc)
				if err != nil {
					return nil, invalid("track.bad_time", "feature %d: %v", fi, err)
				}
				p.T = t
			}
			tr.Points = append(tr.Points, p)
		case "LineString", "MultiLineString":
			var lines [][][]float64
			var times [][]json.RawMessage
			if f.Geometry.Type == "LineString" {
				var c [][]float64
				if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil {
					return nil, invalid("track.bad_coordinate", "feature %d: LineString coordinates must be [[lon, lat], …]", fi)
				}
				lines = [][][]float64{c}
				var ts []json.RawMessage
				if raw := timesProp(props); raw != nil {
					if err := json.Unmarshal(raw, &ts); err != nil {
						return nil, invalid("track.bad_time", "feature %d: coordTimes must be an array", fi)
					}
					times = [][]json.RawMessage{ts}
				}
			} else {
				if err := json.Unmarshal(f.Geometry.Coordinates, &lines); err != nil {
					return nil, invalid("track.bad_coordinate", "feature %d: MultiLineString coordinates must be [[[lon, lat], …], …]", fi)
				}
				if raw := timesProp(props); raw != nil {
					if err := json.Unmarshal(raw, &times); err != nil {
						return nil, invalid("track.bad_time", "feature %d: coordTimes must be an array of arrays, one per line", fi)
					}
				}
			}
			for li, line := range lines {
				if times != nil && (li >= len(times) || len(times[li]) != len(line)) {
					return nil, invalid("track.bad_time", "feature %d: line %d has %d coordinates but a different number of times", fi, li, len(line))
				}
				for k, c := range line {
					if len(c) < 2 {
						return nil, invalid("track.bad_coordinate", "feature %d: coordinate %d has fewer than two numbers", fi, k)
					}
					p := Point{Lon: c[0], Lat: c[1]}
					switch {
					case times != nil:
						t, err := parseTime(times[li][k], opt.Loc)
						if err != nil {
							return nil, invalid("track.bad_time", "feature %d: coordinate %d: %v", fi, k, err)
						}
						p.T = t
					case len(c) >= 4:
						p.T = epoch(c[3])
					}
					tr.Points = append(tr.Points, p)
				}
			}
		default:
			return nil, invalid("track.bad_geojson", "feature %d: a track is made of LineString or Point features, not %s", fi, f.Geometry.Type)
		}
		if len(tr.Points) > opt.MaxPoints {
			return nil, invalid("track.too_large", "the track has more than %d points; split it", opt.MaxPoints)
		}
	}
	missing := 0
	for _, p := range tr.Points {
		if p.T.IsZero() {
			missing++
		}
	}
	if missing == len(tr.Points) && missing > 0 {
		return nil, invalid("track.no_time", "the track has no timestamps: give each coordinate a time (properties.coordTimes, or a \"time\" per Point feature)")
	}
	if missing > 0 {
		return nil, invalid("track.no_time", "%d of %d track points have no time", missing, len(tr.Points))
	}
	return tr, tr.validate()
}

func mustRaw(b []byte) json.RawMessage {
	var g struct {
		Coordinates json.RawMessage `json:"coordinates"`
	}
	json.Unmarshal(b, &g) //nolint:errcheck // already parsed once
	return g.Coordinates
}

func timesProp(props map[string]json.RawMessage) json.RawMessage {
	for _, k := range []string{"coordTimes", "times", "coord_times"} {
		if v, ok := props[k]; ok {
			return v
		}
	}
	return nil
}

// epoch reads epoch seconds, or milliseconds when the value is too large
// to be seconds.
func epoch(v float64) time.Time {
	if v > 1e11 {
		return time.UnixMilli(int64(v)).UTC()
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func parseTime(raw json.RawMessage, loc *time.Location) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return time.Time{}, fmt.Errorf("time %s is neither a string nor a number", raw)
		}
		return epoch(f), nil
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not an ISO 8601 / RFC 3339 time", s)
}

// validate checks coordinates and order.
func (tr *Track) validate() error {
	if len(tr.Points) < 2 {
		return invalid("track.too_short", "the track has %d point(s); a patrol track needs at least two", len(tr.Points))
	}
	for i, p := range tr.Points {
		if !(p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90) {
			return invalid("track.bad_coordinate", "track point %d: (%g, %g) is not a WGS84 longitude/latitude", i+1, p.Lon, p.Lat)
		}
		if i > 0 && p.T.Before(tr.Points[i-1].T) {
			return invalid("track.out_of_order", "track point %d (%s) is earlier than point %d (%s): points must be in time order",
				i+1, p.T.Format(time.RFC3339), i, tr.Points[i-1].T.Format(time.RFC3339))
		}
	}
	return nil
}

// Start and End are the times of the first and last points.
func (tr *Track) Start() time.Time { return tr.Points[0].T }

// End is the time of the last point.
func (tr *Track) End() time.Time { return tr.Points[len(tr.Points)-1].T }
