package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
)

// midpoint returns the lon/lat of the middle of a pipe.
func (s *site) midpoint(t *testing.T, id string) (lon, lat float64) {
	t.Helper()
	for _, p := range s.ds.Pipes {
		if p.ID == id {
			a, b := p.Geom[0], p.Geom[len(p.Geom)-1]
			lons, lats, err := s.st.ToLonLat(context.Background(), []float64{(a[0] + b[0]) / 2}, []float64{(a[1] + b[1]) / 2})
			if err != nil {
				t.Fatal(err)
			}
			return lons[0], lats[0]
		}
	}
	t.Fatalf("no pipe %s", id)
	return 0, 0
}

type planAnswer struct {
	ValvesToClose []string `json:"valves_to_close"`
	Customers     []string `json:"customers"`
	Households    int64    `json:"households"`
	Leak          struct {
		Pipe string  `json:"pipe"`
		At   float64 `json:"at"`
	} `json:"leak"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// plan asks the API directly.
func (s *site) plan(t *testing.T, req map[string]any) planAnswer {
	t.Helper()
	b, _ := json.Marshal(req)
	res, err := http.Post(s.url+"api/shutoffs/plan", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a planAnswer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// noPageErrors fails the test on map errors and on page errors other than
// those containing one of expected (e.g. "status of 403" for a refusal
// the test provoked).
func noPageErrors(t *testing.T, p *Page, expected ...string) {
	t.Helper()
	var mapErrs []string
	p.Eval(`window.__waterline.errors`, &mapErrs)
	var errs []string
next:
	for _, e := range p.Errors() {
		for _, x := range expected {
			if strings.Contains(e, x) {
				continue next
			}
		}
		errs = append(errs, e)
	}
	if len(mapErrs) > 0 || len(errs) > 0 {
		t.Errorf("map errors %v, page errors %v", mapErrs, errs)
	}
}

func TestMapRendersTiles(t *testing.T) {
	s := newSite(t)
	p := Open(t, s.url, Options{})
	p.WaitReady()
	var counts map[string]int
	p.Eval(`(() => {
		const m = window.__waterline.map;
		const n = (layers) => m.queryRenderedFeatures({layers}).length;
		return {pipes: n(['pipes', 'pipes-crossing', 'pipes-inactive']), crossings: n(['pipes-crossing']),
			valves: n(['valves']), hydrants: n(['hydrants']), sources: n(['sources']), districts: n(['districts-line']),
			zoom: Math.floor(m.getZoom())};
	})()`, &counts)
	t.Logf("rendered: %v", counts)
	for _, k := range []string{"pipes", "crossings", "valves", "hydrants", "sources", "districts"} {
		if counts[k] == 0 {
			t.Errorf("no %s rendered: %v", k, counts)
		}
	}
	// The map fitted the network: every source is on screen.
	if counts["sources"] < len(s.ds.Sources) {
		t.Errorf("%d of %d sources on screen", counts["sources"], len(s.ds.Sources))
	}
	// The valves are coloured by state: the three states are all drawn.
	var states []string
	p.Eval(`[...new Set(window.__waterline.map.queryRenderedFeatures({layers: ['valves']}).map(f =>
		!f.properties.operable ? 'inoperable' : f.properties.normally_open ? 'open' : 'closed'))].sort()`, &states)
	if strings.Join(states, ",") != "closed,inoperable,open" {
		t.Errorf("valve states drawn: %v", states)
	}
	info := p.Text("#network-info")
	if !strings.Contains(info, fmt.Sprint(len(s.ds.Pipes))) {
		t.Errorf("network info %q does not count %d pipes", info, len(s.ds.Pipes))
	}
	p.Screenshot("")
	noPageErrors(t, p)
}

func TestLanguageSwitch(t *testing.T) {
	s := newSite(t)
	p := Open(t, s.url, Options{})
	p.WaitReady()
	labels := func() (title, legend, toggle, hint, htmlLang string) {
		var l []string
		p.Eval(`[document.querySelector('#app-title').textContent,
			document.querySelector('#legend [data-legend="grade_special"]').textContent,
			document.querySelector('#lang-toggle').textContent,
			document.querySelector('#hint').textContent,
			document.documentElement.lang]`, &l)
		return l[0], l[1], l[2], l[3], l[4]
	}
	title, legend, toggle, hint, hl := labels()
	if title != "水线 · 供水管网调度" || legend != "特级管" || toggle != "EN" || !strings.Contains(hint, "点击管道") || hl != "zh-CN" {
		t.Errorf("Chinese labels: %q %q %q %q %q", title, legend, toggle, hint, hl)
	}
	p.ClickOn("#lang-toggle")
	title, legend, toggle, hint, hl = labels()
	if title != "Waterline · Network dispatch" || legend != "Special grade" || toggle != "中文" || !strings.Contains(hint, "Click a pipe") || hl != "en" {
		t.Errorf("English labels: %q %q %q %q %q", title, legend, toggle, hint, hl)
	}
	p.Screenshot("en")
	// Remembered across a reload.
	p.Do("reload", chromedp.Reload())
	p.WaitReady()
	if title, _, _, _, _ = labels(); title != "Waterline · Network dispatch" {
		t.Errorf("after reload the title is %q", title)
	}
	p.ClickOn("#lang-toggle")
	if title, _, _, _, _ = labels(); title != "水线 · 供水管网调度" {
		t.Errorf("after switching back the title is %q", title)
	}
	var stored string
	p.Eval(`localStorage.getItem('waterline.lang')`, &stored)
	if stored != "zh" {
		t.Errorf("stored language %q", stored)
	}
	noPageErrors(t, p)
}

type panelState struct {
	State         string   `json:"state"`
	ValvesToClose int      `json:"valves_to_close"`
	Customers     int      `json:"customers"`
	Households    int      `json:"households"`
	Markers       []string `json:"markers"`
	FailButtons   []string `json:"fail_buttons"`
	Failed        []string `json:"failed"`
	CSV           string   `json:"csv"`
	Pipe          string   `json:"pipe"`
	At            float64  `json:"at"`
	Critical      int      `json:"critical"`
	Plans         int      `json:"plans"`
}

const readPanel = `(() => {
	const q = (s) => document.querySelector(s);
	const num = (k) => Number(q('[data-count="' + k + '"]')?.dataset.value ?? -1);
	const w = window.__waterline;
	return {
		state: q('#plan-panel').dataset.state,
		valves_to_close: num('valves_to_close'), customers: num('customers'), households: num('households'),
		markers: [...document.querySelectorAll('.maplibregl-marker.valve-marker')].sort((a, b) => a.dataset.order - b.dataset.order).map(e => e.dataset.valveId),
		fail_buttons: [...document.querySelectorAll('[data-fail-valve]')].map(e => e.dataset.failValve),
		failed: [...document.querySelectorAll('[data-failed-valve]')].map(e => e.dataset.failedValve),
		csv: q('#csv-link')?.getAttribute('href') ?? '',
		pipe: w.state.req?.pipe ?? '', at: w.state.req?.at ?? -1,
		critical: document.querySelectorAll('#critical-customers li').length,
		plans: w.plans,
	};
})()`

func TestPipeClickPlansShutoff(t *testing.T) {
	s := newSite(t)
	p := Open(t, s.url, Options{})
	p.WaitReady()
	pipe := tilestest.HPipe(3, 5) // a DN100 street pipe with customers
	lon, lat := s.midpoint(t, pipe)
	p.ClickLngLat(lon, lat)
	p.WaitFor(`document.querySelector('#plan-panel').dataset.state === 'ready'`, 20*time.Second)
	var ps panelState
	p.Eval(readPanel, &ps)
	if ps.Pipe != pipe || ps.At < 0.4 || ps.At > 0.6 {
		t.Fatalf("clicked the middle of %s, planned for %s at %v", pipe, ps.Pipe, ps.At)
	}
	api := s.plan(t, map[string]any{"pipe": ps.Pipe, "at": ps.At})
	if api.Error != nil {
		t.Fatalf("API: %+v", api.Error)
	}
	if ps.ValvesToClose != len(api.ValvesToClose) || len(api.ValvesToClose) == 0 {
		t.Errorf("panel shows %d valves to close, the API %d", ps.ValvesToClose, len(api.ValvesToClose))
	}
	if ps.Customers != len(api.Customers) || int64(ps.Households) != api.Households {
		t.Errorf("panel customers %d households %d, API %d %d", ps.Customers, ps.Households, len(api.Customers), api.Households)
	}
	if len(ps.Markers) != len(api.ValvesToClose) || len(ps.FailButtons) != len(api.ValvesToClose) {
		t.Errorf("%d numbered markers, %d fail buttons for %d valves", len(ps.Markers), len(ps.FailButtons), len(api.ValvesToClose))
	}
	if !strings.Contains(ps.CSV, "pipe="+pipe) || !strings.Contains(ps.CSV, "at=") {
		t.Errorf("CSV link %q", ps.CSV)
	}
	// The range is drawn: segment in red under the pipes (GeoJSON sources
	// update in a worker, so give it a moment).
	p.WaitFor(`window.__waterline.map.queryRenderedFeatures({layers: ['plan-segment']}).length > 0`, 10*time.Second)
	p.WaitIdle()
	// The CSV export answers, for Excel (UTF-8 with a BOM).
	var csvHead []int
	p.Eval(`fetch(document.querySelector('#csv-link').href).then(r => r.ok ? r.arrayBuffer() : new ArrayBuffer(0)).then(b => [...new Uint8Array(b.slice(0, 3))])`, &csvHead)
	if fmt.Sprint(csvHead) != "[239 187 191]" {
		t.Errorf("the CSV export starts with bytes %v, not a UTF-8 BOM", csvHead)
	}
	p.Screenshot("plan")

	// The panel follows the language switch.
	label := func() string {
		var s string
		p.Eval(`document.querySelector('[data-count="valves_to_close"] dt').textContent`, &s)
		return s
	}
	if l := label(); l != "需关阀门" {
		t.Errorf("Chinese count label %q", l)
	}
	p.ClickOn("#lang-toggle")
	if l := label(); l != "Valves to close" {
		t.Errorf("English count label %q", l)
	}
	p.Screenshot("plan-en")
	p.ClickOn("#lang-toggle")

	// The first valve fails on site: re-plan around it.
	first := ps.FailButtons[0]
	p.ClickOn(fmt.Sprintf(`[data-fail-valve="%s"]`, first))
	p.WaitFor(fmt.Sprintf(`window.__waterline.plans === %d && document.querySelector('#plan-panel').dataset.state === 'ready'`, ps.Plans+1), 20*time.Second)
	var ps2 panelState
	p.Eval(readPanel, &ps2)
	api2 := s.plan(t, map[string]any{"pipe": ps.Pipe, "at": ps.At, "failed_valves": []string{first}})
	if api2.Error != nil {
		t.Fatalf("API: %+v", api2.Error)
	}
	if ps2.ValvesToClose != len(api2.ValvesToClose) || len(ps2.Failed) != 1 || ps2.Failed[0] != first {
		t.Errorf("after %s failed: panel %d valves (failed %v), API %d", first, ps2.ValvesToClose, ps2.Failed, len(api2.ValvesToClose))
	}
	for _, id := range ps2.FailButtons {
		if id == first {
			t.Errorf("the failed valve %s is still to close", id)
		}
	}
	if !strings.Contains(ps2.CSV, "failed="+first) {
		t.Errorf("CSV link %q does not name the failed valve", ps2.CSV)
	}
	p.WaitIdle()
	p.Screenshot("failed")
	noPageErrors(t, p)
}

func TestPlanErrorIsShown(t *testing.T) {
	s := newSite(t)
	p := Open(t, s.url, Options{})
	p.WaitReady()
	// The grid's last pipe is abandoned: it carries no water to shut off.
	abandoned := s.ds.Pipes[len(s.ds.Pipes)-1]
	if abandoned.Status != gis.StatusAbandoned {
		t.Fatalf("pipe %s is %s", abandoned.ID, abandoned.Status)
	}
	want := s.plan(t, map[string]any{"pipe": abandoned.ID, "at": 0.5})
	if want.Error == nil {
		t.Fatal("the API planned a shutoff on an abandoned pipe")
	}
	lon, lat := s.midpoint(t, abandoned.ID)
	p.ClickLngLat(lon, lat)
	p.WaitFor(`!document.querySelector('#error-banner').hidden`, 20*time.Second)
	var got []string
	p.Eval(`[document.querySelector('#error-banner').dataset.errorCode,
		document.querySelector('#error-message').textContent,
		document.querySelector('#plan-panel').dataset.state]`, &got)
	code, msg, state := got[0], got[1], got[2]
	if code != want.Error.Code || msg != want.Error.Message {
		t.Errorf("banner %q %q, API %q %q", code, msg, want.Error.Code, want.Error.Message)
	}
	if state != "idle" {
		t.Errorf("panel state %q after a failed first plan", state)
	}
	p.Screenshot("")
}

func TestPhoneLayout(t *testing.T) {
	s := newSite(t)
	p := Open(t, s.url, Options{Width: 390, Height: 844, Mobile: true})
	p.WaitReady()
	lon, lat := s.midpoint(t, tilestest.HPipe(5, 4))
	p.ClickLngLat(lon, lat)
	p.WaitFor(`document.querySelector('#plan-panel').dataset.state === 'ready'`, 20*time.Second)
	var box map[string]float64
	p.Eval(`(() => { const r = document.querySelector('#plan-panel').getBoundingClientRect();
		return {top: r.top, bottom: r.bottom, left: r.left, width: r.width, vw: innerWidth, vh: innerHeight}; })()`, &box)
	if box["width"] != box["vw"] || box["left"] != 0 || box["top"] < box["vh"]/3 || box["bottom"] != box["vh"] {
		t.Errorf("the panel is not a bottom sheet: %v", box)
	}
	var legendShown bool
	p.Eval(`getComputedStyle(document.querySelector('#legend')).display !== 'none'`, &legendShown)
	if legendShown {
		t.Error("the legend covers the phone's map before it is asked for")
	}
	p.WaitIdle()
	p.Screenshot("")
	noPageErrors(t, p)
}

// TestStaticFiles checks that the embedded UI is served with the types the
// browser needs (the worker is a module script).
func TestStaticFiles(t *testing.T) {
	s := newSite(t)
	for path, want := range map[string]string{
		"": "text/html", "app.js": "javascript", "maplibre-gl-worker.js": "javascript",
		"app.css": "text/css", "maplibre-gl.css": "text/css",
	} {
		res, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), want) || len(b) == 0 {
			t.Errorf("/%s: %d %s (%d bytes)", path, res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
	}
}
