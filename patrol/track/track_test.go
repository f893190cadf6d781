package track_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol/track"
)

const gpxOK = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>巡检 D01</name><trkseg>
  <trkpt lat="36.6700" lon="117.0000"><ele>30</ele><time>2026-03-02T01:00:00Z</time></trkpt>
  <trkpt lat="36.6701" lon="117.0001"><time>2026-03-02T01:00:01Z</time></trkpt>
 </trkseg><trkseg>
  <trkpt lat="36.6702" lon="117.0002"><time>2026-03-02T09:00:05+08:00</time></trkpt>
 </trkseg></trk>
</gpx>`

func code(err error) string {
	var ge *gis.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

func TestParseGPX(t *testing.T) {
	tr, err := track.Parse(strings.NewReader("\ufeff"+gpxOK), track.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != "gpx" || tr.Name != "巡检 D01" || len(tr.Points) != 3 {
		t.Fatalf("%+v", tr)
	}
	if p := tr.Points[1]; p.Lon != 117.0001 || p.Lat != 36.6701 || !p.T.Equal(time.Date(2026, 3, 2, 1, 0, 1, 0, time.UTC)) {
		t.Fatalf("point 2: %+v", p)
	}
	if d := tr.End().Sub(tr.Start()); d != 5*time.Second {
		t.Fatalf("duration %v", d)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ name, body, code string }{
		{"empty", "  \n", "track.empty"},
		{"not xml", "<gpx><trk><trkseg><trkpt lat=1 lon=2></trkpt></trkseg></trk>", "track.bad_xml"},
		{"unclosed", "<gpx><trk><trkseg>", "track.bad_xml"},
		{"binary", "\x89PNG\r\n", "track.bad_format"},
		{"not gpx", `<kml><Placemark/></kml>`, "track.not_gpx"},
		{"no time", regexp.MustCompile(`<time>[^<]*</time>`).ReplaceAllString(gpxOK, ""), ""},
		{"one untimed", strings.Replace(gpxOK, "<time>2026-03-02T01:00:01Z</time>", "", 1), "track.no_time"},
		{"bad time", strings.Replace(gpxOK, "2026-03-02T01:00:01Z", "yesterday", 1), "track.bad_time"},
		{"out of order", strings.Replace(gpxOK, "2026-03-02T01:00:01Z", "2026-03-02T00:59:00Z", 1), "track.out_of_order"},
		{"bad lat", strings.Replace(gpxOK, `lat="36.6701"`, `lat="96.6701"`, 1), "track.bad_coordinate"},
		{"no lon", strings.Replace(gpxOK, ` lon="117.0001"`, "", 1), "track.bad_coordinate"},
		{"one point", `<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>2026-03-02T01:00:00Z</time></trkpt></trkseg></trk></gpx>`, "track.too_short"},
		{"json syntax", `{"type": "Feature", "geometry": {`, "track.bad_json"},
		{"geojson no time", `{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[117,36.67],[117.001,36.67]]}}`, "track.no_time"},
		{"geojson polygon", `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[]}}`, "track.bad_geojson"},
		{"geojson times count", `{"type":"Feature","properties":{"coordTimes":["2026-03-02T01:00:00Z"]},"geometry":{"type":"LineString","coordinates":[[117,36.67],[117.001,36.67]]}}`, "track.bad_time"},
		{"geojson order", `{"type":"Feature","properties":{"coordTimes":["2026-03-02T01:00:09Z","2026-03-02T01:00:00Z"]},"geometry":{"type":"LineString","coordinates":[[117,36.67],[117.001,36.67]]}}`, "track.out_of_order"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := track.Parse(strings.NewReader(c.body), track.Options{})
			want := c.code
			if want == "" {
				want = "track.no_time"
			}
			if got := code(err); got != want {
				t.Fatalf("error %q (%v), want %s", got, err, want)
			}
			var ge *gis.Error
			if errors.As(err, &ge) && ge.Kind != gis.Invalid {
				t.Fatalf("kind %v", ge.Kind)
			}
		})
	}
	if _, err := track.Parse(strings.NewReader(gpxOK), track.Options{MaxPoints: 2}); code(err) != "track.too_large" {
		t.Fatalf("max points: %v", err)
	}
}

func TestParseGeoJSON(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	for _, c := range []struct{ name, body string }{
		{"coordTimes", `{"type":"Feature","properties":{"name":"t"},"geometry":{"type":"LineString","coordinates":[[117,36.67],[117.001,36.67,12]]},"properties":{"coordTimes":["2026-03-02T01:00:00Z","2026-03-02T09:00:10"]}}`},
		{"epoch ms", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"times":[1772413200000,1772413210000]},"geometry":{"type":"LineString","coordinates":[[117,36.67],[117.001,36.67]]}}]}`},
		{"4th coordinate", `{"type":"LineString","coordinates":[[117,36.67,30,1772413200],[117.001,36.67,30,1772413210]]}`},
		{"points", `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{"time":"2026-03-02T01:00:00Z"},"geometry":{"type":"Point","coordinates":[117,36.67]}},
			{"type":"Feature","properties":{"time":"2026-03-02T01:00:10Z"},"geometry":{"type":"Point","coordinates":[117.001,36.67]}}]}`},
		{"multi", `{"type":"Feature","properties":{"coordTimes":[["2026-03-02T01:00:00Z"],["2026-03-02T01:00:10Z"]]},"geometry":{"type":"MultiLineString","coordinates":[[[117,36.67]],[[117.001,36.67]]]}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := track.Parse(strings.NewReader(c.body), track.Options{Loc: shanghai})
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Points) != 2 || tr.Format != "geojson" {
				t.Fatalf("%+v", tr)
			}
			if !tr.Start().Equal(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) || tr.End().Sub(tr.Start()) != 10*time.Second {
				t.Fatalf("times %v .. %v", tr.Start(), tr.End())
			}
		})
	}
}

// bruteCover samples ls every step metres.
func bruteCover(ls orb.LineString, xy []orb.Point, r, maxGap float64) float64 {
	const step = 0.02
	covered := 0.0
	for k := 1; k < len(ls); k++ {
		p, q := ls[k-1], ls[k]
		L := math.Hypot(q[0]-p[0], q[1]-p[1])
		n := int(L / step)
		for i := 0; i < n; i++ {
			t := (float64(i) + 0.5) / float64(n)
			x := orb.Point{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])}
			for j := 0; j+1 < len(xy); j++ {
				a, b := xy[j], xy[j+1]
				if math.Hypot(b[0]-a[0], b[1]-a[1]) > maxGap {
					b = a
					if gis.DistanceToLine(orb.LineString{xy[j+1], xy[j+1]}, x) <= r {
						covered += L / float64(n)
						break
					}
				}
				if gis.DistanceToLine(orb.LineString{a, b}, x) <= r {
					covered += L / float64(n)
					break
				}
			}
		}
	}
	return covered
}

func TestCoverMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 40; trial++ {
		var xy []orb.Point
		var ts []time.Time
		p := orb.Point{rng.Float64() * 100, rng.Float64() * 100}
		t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		for i := 0; i < 30; i++ {
			xy = append(xy, p)
			ts = append(ts, t0.Add(time.Duration(i)*time.Second))
			step := 8.0
			if rng.IntN(10) == 0 {
				step = 80 // a gap
			}
			a := rng.Float64() * 2 * math.Pi
			p = orb.Point{p[0] + step*math.Cos(a), p[1] + step*math.Sin(a)}
		}
		m := track.NewMatcher(xy, ts, 20, 50)
		var ls orb.LineString
		for i := 0; i < 4; i++ {
			ls = append(ls, orb.Point{rng.Float64()*160 - 30, rng.Float64()*160 - 30})
		}
		got, _ := m.Cover(ls)
		want := bruteCover(ls, xy, 20, 50)
		if math.Abs(got-want) > 0.05+1e-3*want {
			t.Fatalf("trial %d: covered %.3f, brute force %.3f", trial, got, want)
		}
	}
}

func TestCoverAlongAPipe(t *testing.T) {
	// Walk 60 % of a 100 m pipe, 12 m beside it, then away.
	var xy []orb.Point
	var ts []time.Time
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	for i := 0; i <= 60; i++ {
		xy = append(xy, orb.Point{float64(i), 12})
		ts = append(ts, t0.Add(time.Duration(i)*time.Second))
	}
	xy = append(xy, orb.Point{60, 100})
	ts = append(ts, t0.Add(200*time.Second))
	m := track.NewMatcher(xy, ts, 20, 150)
	got, at := m.Cover(orb.LineString{{0, 0}, {50, 0}, {100, 0}})
	// Covered up to x = 60 + sqrt(20² − 12²) = 76 along the pipe; the last
	// leg leaves at a right angle.
	if math.Abs(got-76) > 1e-6 || !at.Equal(t0) {
		t.Fatalf("covered %.3f at %v, want 76 at %v", got, at, t0)
	}
	if got, _ := m.Cover(orb.LineString{{0, 60}, {30, 60}}); got != 0 {
		t.Fatalf("a pipe 48 m away is covered %.1f", got)
	}
}

// walkTrack is a 4-hour, 1 Hz track: a manager walking at 1.1 m/s along
// the streets of a grid of 100 m blocks, with GPS noise of a few metres.
func walkTrack(seconds int) ([]orb.Point, []time.Time) {
	rng := rand.New(rand.NewPCG(11, 11))
	t0 := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC)
	cx, cy := 25, 25
	pos := orb.Point{float64(cx) * 100, float64(cy) * 100}
	var xy []orb.Point
	var ts []time.Time
	dir := 0
	for s := 0; s < seconds; s++ {
		xy = append(xy, orb.Point{pos[0] + rng.NormFloat64()*4, pos[1] + rng.NormFloat64()*4})
		ts = append(ts, t0.Add(time.Duration(s)*time.Second))
		d := [4][2]float64{{1, 0}, {0, 1}, {-1, 0}, {0, -1}}[dir]
		pos[0] += 1.1 * d[0]
		pos[1] += 1.1 * d[1]
		if math.Mod(pos[0]+1e-9, 100) < 1.1 && math.Mod(pos[1]+1e-9, 100) < 1.1 {
			// At a junction: turn, staying inside the 60×60 grid.
			dir = rng.IntN(4)
			nd := [4][2]float64{{1, 0}, {0, 1}, {-1, 0}, {0, -1}}[dir]
			nx, ny := pos[0]+100*nd[0], pos[1]+100*nd[1]
			if nx < 0 || ny < 0 || nx > 5900 || ny > 5900 {
				dir = (dir + 2) % 4
			}
			pos = orb.Point{math.Round(pos[0]/100) * 100, math.Round(pos[1]/100) * 100}
		}
	}
	return xy, ts
}

func gridPipes() []orb.LineString {
	var out []orb.LineString
	for r := 0; r < 60; r++ {
		for c := 0; c < 59; c++ {
			out = append(out, orb.LineString{{float64(c) * 100, float64(r) * 100}, {float64(c+1) * 100, float64(r) * 100}})
			out = append(out, orb.LineString{{float64(r) * 100, float64(c) * 100}, {float64(r) * 100, float64(c+1) * 100}})
		}
	}
	return out
}

func matchAll(xy []orb.Point, ts []time.Time, pipes []orb.LineString) (patrolled int) {
	m := track.NewMatcher(xy, ts, 20, 150)
	b := m.Bound()
	for _, ls := range pipes {
		if !ls.Bound().Intersects(b) {
			continue
		}
		c, _ := m.Cover(ls)
		if c >= 0.8*gis.LineLength(ls) {
			patrolled++
		}
	}
	return patrolled
}

// TestFourHourTrack matches a 4-hour 1 Hz track against a district of
// 7,080 pipes (its speed: BenchmarkMatchFourHourTrack).
func TestFourHourTrack(t *testing.T) {
	xy, ts := walkTrack(4 * 3600)
	pipes := gridPipes()
	start := time.Now()
	n := matchAll(xy, ts, pipes)
	el := time.Since(start)
	t.Logf("4 h track (%d points) against %d pipes: %d patrolled, %v", len(xy), len(pipes), n, el)
	if n < 50 {
		t.Errorf("only %d pipes patrolled by a 16 km walk", n)
	}
}

func BenchmarkMatchFourHourTrack(b *testing.B) {
	xy, ts := walkTrack(4 * 3600)
	pipes := gridPipes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		matchAll(xy, ts, pipes)
	}
}

func ExampleParse() {
	tr, err := track.Parse(strings.NewReader(`{"type":"Feature","properties":{"coordTimes":["2026-03-02T01:00:00Z","2026-03-02T01:00:05Z"]},
		"geometry":{"type":"LineString","coordinates":[[117.0,36.67],[117.0001,36.67]]}}`), track.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr.Format, len(tr.Points), tr.End().Sub(tr.Start()))
	// Output: geojson 2 5s
}
