package patrol_test

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/patroltest"
)

// haversine is the distance in metres between two lon/lat points.
func haversine(a, b [2]float64) float64 {
	const r = 6371000
	la1, la2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dla, dlo := la2-la1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

func TestTrackProvesPatrol(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 10, NY: 8, Seed: 4}, nil)
	ctx := context.Background()
	day := e.today()
	p, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: day, Save: true})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Districts[0]
	rt := d.Routes[0]
	coords := routeCoords(t, e, rt.ID)
	start := day.Start(e.loc).Add(8 * time.Hour)
	gpx := gpxOf(coords, start, haversine)
	ntracks := func() int { return count(t, e, "SELECT count(*) FROM patrol_tracks") }

	// Bad tracks are rejected, and nothing is recorded.
	shifted := make([][2]float64, len(coords))
	for i, c := range coords {
		shifted[i] = [2]float64{c[0] + 0.2, c[1]}
	}
	reversed := strings.Replace(gpx, start.UTC().Format(time.RFC3339), start.Add(time.Hour).UTC().Format(time.RFC3339), 1)
	for _, c := range []struct{ name, body, code string }{
		{"not xml", "<gpx><trk>", "track.bad_xml"},
		{"no time", strings.NewReplacer("<time>", "<desc>", "</time>", "</desc>").Replace(gpx), "track.no_time"},
		{"far away", gpxOf(shifted, start, haversine), "track.far_from_district"},
		{"out of order", reversed, "track.out_of_order"},
	} {
		_, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{District: d.District, Manager: "M", Body: strings.NewReader(c.body)})
		if errCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{Body: strings.NewReader(gpx)}); errCode(err) != "track.no_district" {
		t.Errorf("no district: %v", err)
	}
	if _, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{District: "nope", Body: strings.NewReader(gpx)}); errCode(err) != "district.not_found" {
		t.Errorf("unknown district: %v", err)
	}
	if ntracks() != 0 || count(t, e, "SELECT count(*) FROM patrol_pipe_state WHERE last_day IS NOT NULL") != 0 {
		t.Fatal("a rejected track left records")
	}

	// Walk the first half of the route: about half the pipes are patrolled.
	half := coords[:len(coords)/2]
	res, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{RouteID: rt.ID, Body: strings.NewReader(gpxOf(half, start, haversine))})
	if err != nil {
		t.Fatal(err)
	}
	if res.District != d.District || res.Manager != rt.Manager || res.RouteID == nil || res.Date != day.String() {
		t.Fatalf("track: %+v", res)
	}
	if res.Coverage == nil || res.Coverage.Rate <= 0.2 || res.Coverage.Rate >= 0.9 || len(res.Coverage.Missed) == 0 {
		t.Fatalf("coverage after half the route: %+v", res.Coverage)
	}
	// The whole route: everything planned is patrolled.
	res2, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{RouteID: rt.ID, Body: strings.NewReader(gpxOf(coords, start.Add(3*time.Hour), haversine))})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Coverage.PatrolledPipes != res2.Coverage.PlannedPipes || len(res2.Coverage.Missed) != 0 || res2.Coverage.Rate != 1 {
		t.Fatalf("coverage after the whole route: %d of %d, missed %v", res2.Coverage.PatrolledPipes, res2.Coverage.PlannedPipes, res2.Coverage.Missed)
	}
	if res2.Patrolled < rt.Pipes {
		t.Errorf("the track patrolled %d pipes, the route has %d", res2.Patrolled, rt.Pipes)
	}
	for _, pc := range res2.Pipes {
		if pc.At.Before(start.Add(3*time.Hour)) || pc.At.After(start.Add(8*time.Hour)) || pc.At.Location().String() != "Asia/Shanghai" {
			t.Fatalf("pipe %s seen at %v", pc.Pipe, pc.At)
		}
	}
	// The same track again: a duplicate.
	if _, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{RouteID: rt.ID, Body: strings.NewReader(gpxOf(coords, start.Add(3*time.Hour), haversine))}); errCode(err) != "track.duplicate" {
		t.Errorf("duplicate: %v", err)
	}
	got, err := e.svc.Track(ctx, res2.ID)
	if err != nil || got.Patrolled != res2.Patrolled || len(got.Pipes) != len(res2.Pipes) {
		t.Fatalf("stored track: %+v %v", got, err)
	}
	list, err := e.svc.Tracks(ctx, day, d.District)
	if err != nil || len(list) != 2 {
		t.Fatalf("tracks of the day: %v %v", list, err)
	}
	// Tomorrow: the patrolled grade-2/3 pipes are not due; daily ones are.
	st, err := e.svc.Status(ctx, day+1, d.District)
	if err != nil {
		t.Fatal(err)
	}
	patrolled := map[string]bool{}
	for _, pc := range res2.Pipes {
		if pc.Patrolled {
			patrolled[pc.Pipe] = true
		}
	}
	for _, ps := range st.Pipes {
		if !patrolled[ps.Pipe] {
			continue
		}
		if ps.Last != day.String() {
			t.Fatalf("pipe %s: last %q, want %s", ps.Pipe, ps.Last, day)
		}
		if want := ps.EveryDays == 1; (ps.Status == "due") != want {
			t.Fatalf("pipe %s (every %d) tomorrow: %s", ps.Pipe, ps.EveryDays, ps.Status)
		}
	}
	// GeoJSON with timestamps (the UI's format) works too.
	var gj strings.Builder
	gj.WriteString(`{"type":"Feature","properties":{"coordTimes":[`)
	tt := start.Add(9 * time.Hour)
	for i := range coords {
		if i > 0 {
			gj.WriteString(",")
			tt = tt.Add(time.Duration(max(1, haversine(coords[i-1], coords[i])/1.2)) * time.Second)
		}
		gj.WriteString(`"` + tt.Format(time.RFC3339) + `"`)
	}
	gj.WriteString(`]},"geometry":{"type":"LineString","coordinates":[`)
	for i, c := range coords {
		if i > 0 {
			gj.WriteString(",")
		}
		gj.WriteString("[" + ftoa(c[0]) + "," + ftoa(c[1]) + "]")
	}
	gj.WriteString("]}}")
	res3, err := e.svc.UploadTrack(ctx, patrol.TrackUpload{District: d.District, Manager: "M-2", Body: strings.NewReader(gj.String())})
	if err != nil {
		t.Fatal(err)
	}
	if res3.Format != "geojson" || res3.Patrolled != res2.Patrolled {
		t.Fatalf("geojson track: %s, %d patrolled (gpx %d)", res3.Format, res3.Patrolled, res2.Patrolled)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 8, 64) }

func TestAnomalies(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 6, NY: 6, Seed: 4}, nil)
	ctx := context.Background()
	now := e.clock.Now()
	// A point inside the district: its route start, in lon/lat.
	p, err := e.svc.Plan(ctx, patrol.PlanOptions{Day: e.today(), Save: true})
	if err != nil {
		t.Fatal(err)
	}
	lon, lat := p.Districts[0].Start.Lon, p.Districts[0].Start.Lat
	ok := func(in patrol.AnomalyInput) *patrol.Anomaly {
		t.Helper()
		a, err := e.svc.ReportAnomaly(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := ok(patrol.AnomalyInput{Type: "damaged", Lon: &lon, Lat: &lat, FoundAt: now.Add(-10 * time.Minute), Note: "井盖破损", Manager: "M-1"})
	if a.Late || a.DelayMin != 10 || a.District != "D0000" || a.Pipe == "" || a.ID == 0 {
		t.Fatalf("anomaly: %+v", a)
	}
	b := ok(patrol.AnomalyInput{Type: "chamber_collapsed", Lon: &lon, Lat: &lat, FoundAt: now.Add(-45 * time.Minute)})
	if !b.Late {
		t.Fatalf("45 min late is not late: %+v", b)
	}
	for _, c := range []struct {
		in   patrol.AnomalyInput
		code string
	}{
		{patrol.AnomalyInput{Type: "fire", Lon: &lon, Lat: &lat, FoundAt: now}, "anomaly.bad_type"},
		{patrol.AnomalyInput{Type: "lost", FoundAt: now}, "anomaly.bad_position"},
		{patrol.AnomalyInput{Type: "lost", Lon: &lon, Lat: &lat}, "anomaly.no_found_at"},
		{patrol.AnomalyInput{Type: "lost", Lon: &lon, Lat: &lat, FoundAt: now.Add(time.Hour)}, "anomaly.found_in_future"},
		{patrol.AnomalyInput{Type: "lost", Lon: &lon, Lat: &lat, FoundAt: now, Pipe: "nope"}, "pipe.not_found"},
	} {
		if _, err := e.svc.ReportAnomaly(ctx, c.in); errCode(err) != c.code {
			t.Errorf("%+v: %v, want %s", c.in, err, c.code)
		}
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{1}, 1000)...)
	ph, err := e.svc.AddPhoto(ctx, a.ID, "application/octet-stream", bytes.NewReader(jpeg))
	if err != nil || ph.ContentType != "image/jpeg" || ph.Size != len(jpeg) {
		t.Fatalf("photo: %+v %v", ph, err)
	}
	data, ct, err := e.svc.PhotoData(ctx, a.ID, ph.ID)
	if err != nil || ct != "image/jpeg" || !bytes.Equal(data, jpeg) {
		t.Fatalf("photo data: %s %v", ct, err)
	}
	if _, err := e.svc.AddPhoto(ctx, a.ID, "image/jpeg", strings.NewReader("not an image")); errCode(err) != "photo.bad_type" {
		t.Errorf("text photo: %v", err)
	}
	big := append(append([]byte{}, jpeg[:11]...), make([]byte, patrol.DefaultRules().PhotoMaxBytes)...)
	if _, err := e.svc.AddPhoto(ctx, a.ID, "image/jpeg", bytes.NewReader(big)); errCode(err) != "photo.too_large" {
		t.Errorf("big photo: %v", err)
	}
	if _, err := e.svc.AddPhoto(ctx, 999, "image/jpeg", bytes.NewReader(jpeg)); errCode(err) != "anomaly.not_found" {
		t.Errorf("photo of a missing anomaly: %v", err)
	}
	got, err := e.svc.Anomaly(ctx, a.ID)
	if err != nil || len(got.Photos) != 1 || got.Note != "井盖破损" || got.FoundAt.Location().String() != "Asia/Shanghai" {
		t.Fatalf("anomaly: %+v %v", got, err)
	}
	list, err := e.svc.Anomalies(ctx, patrol.AnomalyFilter{District: "D0000"})
	if err != nil || len(list) != 2 || list[0].ID != a.ID {
		t.Fatalf("list: %v %v", list, err)
	}
	day := e.today()
	rep, err := e.svc.AnomalyReport(ctx, patrol.ReportQuery{From: day - 6, To: day, By: "week"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("report: %+v", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r["type"] == "chamber_collapsed" && r["late"] != 1 {
			t.Errorf("row %+v", r)
		}
	}
	if _, err := e.svc.AnomalyReport(ctx, patrol.ReportQuery{From: day, To: day - 1}); errCode(err) != "report.bad_period" {
		t.Errorf("bad period: %v", err)
	}
	ov, err := e.svc.OverdueReport(ctx, day+30, "")
	if err != nil || len(ov.Rows) == 0 {
		t.Fatalf("overdue in a month: %+v %v", ov, err)
	}
}

// A leak report opens a repair job through the hook.
func TestLeakOpensRepairJob(t *testing.T) {
	e := newEnv(t, patroltest.Options{NX: 4, NY: 4}, nil)
	var got *patrol.Anomaly
	svc, err := patrol.New(patrol.Config{Store: e.st, Live: e.live, Grades: gis.DefaultGradeRules(), Rules: patrol.DefaultRules(), TZ: e.loc, Now: e.clock.Now,
		OnLeak: func(ctx context.Context, a *patrol.Anomaly) (string, error) { got = a; return "R-1", nil }})
	if err != nil {
		t.Fatal(err)
	}
	lon, lat := 117.0, 36.67
	a, err := svc.ReportAnomaly(context.Background(), patrol.AnomalyInput{Type: "leak", Lon: &lon, Lat: &lat, FoundAt: e.clock.Now()})
	if err != nil || got == nil || a.RepairJob != "R-1" {
		t.Fatalf("%+v %v", a, err)
	}
}
