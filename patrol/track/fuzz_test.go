package track

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParse feeds the GPS track reader (POST /api/patrol/tracks, GPX or
// GeoJSON): it must not panic, and a track it accepts is valid — two or
// more WGS84 points, in time order, within the point limit.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0"?><gpx><trk><trkseg><trkpt lat="36.6" lon="117"><time>2026-03-02T01:00:00Z</time></trkpt><trkpt lat="36.61" lon="117.01"><time>2026-03-02T01:01:00Z</time></trkpt></trkseg></trk></gpx>`,
		`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[117,36.6],[117.01,36.61]]},"properties":{"times":["2026-03-02T09:00:00","2026-03-02T09:01:00"]}}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[117,36.6]},"properties":{"time":1772413200}}]}`,
		`{"type":"LineString","coordinates":[[117,36.6,10,1772413200],[117.01,36.61,10,1772413260]]}`,
		`<gpx><trk><trkseg><trkpt lat="NaN" lon="1e999"/></trkseg></trk></gpx>`,
		`<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">]><gpx>&a;&a;</gpx>`,
		``, `{`, `<`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	loc := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := Parse(bytes.NewReader(b), Options{MaxPoints: 1000, Loc: loc})
		if err != nil {
			return
		}
		if len(tr.Points) < 2 || len(tr.Points) > 1000 {
			t.Fatalf("accepted a track of %d points", len(tr.Points))
		}
		if err := tr.validate(); err != nil {
			t.Fatalf("accepted an invalid track: %v", err)
		}
	})
}
