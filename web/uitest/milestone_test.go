package uitest

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis/tiles/tilestest"
	"github.com/waterline-gis/waterline/web/auth"
)

// apiJob is what the milestone tests read of GET api/repair/jobs/{id}.
type apiJob struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Next   *struct {
		Milestone string `json:"milestone"`
	} `json:"next"`
	Timeline []struct {
		Milestone string     `json:"milestone"`
		State     string     `json:"state"`
		Done      *time.Time `json:"done"`
		By        string     `json:"by"`
		Note      string     `json:"note"`
	} `json:"timeline"`
	Valves       []string `json:"valves"`
	FailedValves []string `json:"failed_valves"`
}

func (j apiJob) step(t *testing.T, m string) (state string, done *time.Time, by, note string) {
	t.Helper()
	for _, s := range j.Timeline {
		if s.Milestone == m {
			return s.State, s.Done, s.By, s.Note
		}
	}
	t.Fatalf("job %d has no milestone %s", j.ID, m)
	return
}

// openJobAPI opens an emergency job on a pipe of the grid through the API,
// ordered `ago` before now, and records the milestones given.
func openJobAPI(t *testing.T, s *site, pipe string, ago time.Duration, record ...string) int64 {
	t.Helper()
	var jb struct {
		ID int64 `json:"id"`
	}
	if st := s.call(t, "POST", "api/repair/jobs", map[string]any{
		"leak": map[string]any{"pipe": pipe, "at": 0.5}, "by": "调度员乙", "ordered_at": time.Now().Add(-ago).Format(time.RFC3339),
		"order": map[string]any{"source": "热线电话", "content": "路面冒水", "address": "解放路 11号"},
	}, &jb); st != 201 {
		t.Fatalf("open a job: %d", st)
	}
	for _, m := range record {
		if st := s.call(t, "POST", fmt.Sprintf("api/repair/jobs/%d/milestones", jb.ID), map[string]any{"milestone": m, "by": "班组"}, nil); st != 201 {
			t.Fatalf("record %s: %d", m, st)
		}
	}
	return jb.ID
}

func getJob(t *testing.T, s *site, id int64) apiJob {
	t.Helper()
	var jb apiJob
	if st := s.call(t, "GET", fmt.Sprintf("api/repair/jobs/%d", id), nil, &jb); st != 200 {
		t.Fatalf("get job %d: %d", id, st)
	}
	return jb
}

// openDetail opens the job from the board and waits for its timeline.
func openDetail(p *Page, id int64) {
	p.WaitFor(fmt.Sprintf(`!!document.querySelector('#board-list [data-job-id="%d"]')`, id), 20*time.Second)
	p.ClickOn(fmt.Sprintf(`#board-list [data-job-id="%d"]`, id))
	p.WaitFor(fmt.Sprintf(`!document.querySelector('#job-detail').hidden && document.querySelector('#job-detail').dataset.jobId === '%d' && document.querySelectorAll('#job-timeline li').length > 0`, id), 10*time.Second)
}

func recordButtons(p *Page) []string {
	var ms []string
	p.Eval(`[...document.querySelectorAll('#milestone-record[data-milestone]')].map(b => b.dataset.milestone)`, &ms)
	return ms
}

func boardNext(p *Page, id int64) string {
	var m string
	p.Eval(fmt.Sprintf(`document.querySelector('#board-list [data-job-id="%d"] .job-next')?.dataset.milestone || ''`, id), &m)
	return m
}

// TestRecordMilestone: a dispatcher opens a job from the board and records
// its next milestone (crew on site) with the time left blank (now) and a
// note: the timeline shows it done, the API has it with the note and a
// time of now, and the board's next milestone moves on.
func TestRecordMilestone(t *testing.T) {
	s := newSite(t)
	id := openJobAPI(t, s, tilestest.HPipe(3, 5), 10*time.Minute, "dispatched")
	before := getJob(t, s, id)
	if before.Next == nil || before.Next.Milestone != "on_site" {
		t.Fatalf("the job's next milestone: %+v", before.Next)
	}
	p := Open(t, s.url, Options{})
	p.WaitReady()
	openDetail(p, id)
	if got := boardNext(p, id); got != "on_site" {
		t.Errorf("the board's next milestone before: %q", got)
	}
	// The next milestone is offered first; what needs it done is not.
	ms := recordButtons(p)
	t.Logf("recordable: %v", ms)
	if len(ms) == 0 || ms[0] != "on_site" {
		t.Fatalf("record buttons %v: want on_site first", ms)
	}
	for _, m := range ms {
		if m == "barriers" || m == "valves_closed" || m == "dispatched" || m == "closed" {
			t.Errorf("%s offered for recording (buttons %v)", m, ms)
		}
	}
	var label string
	p.Eval(`document.querySelector('#milestone-form .field-label').textContent`, &label)
	if !strings.Contains(label, "Asia/Shanghai") || !strings.Contains(label, "UTC+08:00") {
		t.Errorf("the time's label does not name the utility's zone: %q", label)
	}
	p.SetValue("#milestone-by", "班组长老张")
	p.SetValue("#milestone-note", "已到现场，路面冒水")
	p.Eval(`(() => { document.querySelector('#milestone-form').scrollIntoView({block: 'nearest'}); window.scrollTo(0, 0); return true; })()`, nil)
	p.Screenshot("form")
	t0 := time.Now().Add(-2 * time.Second)
	p.ClickOn(`#milestone-record[data-milestone="on_site"]`)
	// (a) the timeline item is done.
	p.WaitFor(`document.querySelector('#job-timeline li[data-milestone="on_site"]')?.dataset.state === 'done'`, 20*time.Second)
	t1 := time.Now().Add(2 * time.Second)
	// (b) the API has it: now, by whom, the note.
	after := getJob(t, s, id)
	state, done, by, note := after.step(t, "on_site")
	if state != "done" || done == nil || done.Before(t0) || done.After(t1) || by != "班组长老张" || note != "已到现场，路面冒水" {
		t.Errorf("on_site in the API: state %s, done %v (want %v…%v), by %q, note %q", state, done, t0, t1, by, note)
	}
	if after.Next == nil || after.Next.Milestone == "on_site" {
		t.Fatalf("the API's next milestone after: %+v", after.Next)
	}
	// (c) the board's next milestone moved on, to the API's.
	p.WaitFor(fmt.Sprintf(`document.querySelector('#board-list [data-job-id="%d"] .job-next')?.dataset.milestone === %q`, id, after.Next.Milestone), 10*time.Second)
	var detail struct {
		Next    string   `json:"next"`
		Buttons []string `json:"buttons"`
		Banner  bool     `json:"banner"`
		Note    string   `json:"note"`
	}
	p.Eval(`({next: document.querySelector('#job-next')?.dataset.milestone || '',
		buttons: [...document.querySelectorAll('#milestone-record[data-milestone]')].map(b => b.dataset.milestone),
		banner: !document.querySelector('#error-banner').hidden, note: document.querySelector('#milestone-note')?.value})`, &detail)
	if detail.Next != after.Next.Milestone || detail.Banner || detail.Note != "" {
		t.Errorf("the detail after recording: %+v (API next %s)", detail, after.Next.Milestone)
	}
	if !containsStr(detail.Buttons, "barriers") || containsStr(detail.Buttons, "on_site") {
		t.Errorf("after on site, the buttons are %v: want barriers, not on_site", detail.Buttons)
	}
	p.WaitIdle()
	p.Screenshot("")
	noPageErrors(t, p)
}

// TestRecordMilestoneEnteredTime: a time typed in the form is the
// utility's wall clock (Asia/Shanghai, UTC+8) whatever the browser's zone
// (here New York): the instant stored is that clock's, sent with its
// +08:00 offset, and the timeline shows it as that clock again.
func TestRecordMilestoneEnteredTime(t *testing.T) {
	s := newSite(t)
	id := openJobAPI(t, s, tilestest.HPipe(4, 6), 3*time.Hour)
	p := Open(t, s.url, Options{TimeZone: "America/New_York"})
	p.WaitReady()
	openDetail(p, id)
	if ms := recordButtons(p); len(ms) == 0 || ms[0] != "dispatched" {
		t.Fatalf("record buttons %v: want dispatched first", ms)
	}
	// 2 h 17 min ago, to the minute, as a Shanghai wall clock.
	want := time.Now().Add(-137 * time.Minute).In(s.loc).Truncate(time.Minute)
	typed := want.Format("2006-01-02T15:04")
	var browserOffset int
	p.Eval(`new Date().getTimezoneOffset()`, &browserOffset)
	t.Logf("typed %s (Asia/Shanghai); the browser's zone is %d min from UTC", typed, -browserOffset)
	p.SetValue("#milestone-by", "班组")
	p.SetValue("#milestone-time", typed)
	p.ClickOn(`#milestone-record[data-milestone="dispatched"]`)
	p.WaitFor(`document.querySelector('#job-timeline li[data-milestone="dispatched"]')?.dataset.state === 'done' || !document.querySelector('#error-banner').hidden`, 20*time.Second)
	var banner string
	p.Eval(`document.querySelector('#error-banner').hidden ? '' : document.querySelector('#error-banner').textContent`, &banner)
	if banner != "" {
		t.Fatalf("recording with a typed time: %s", banner)
	}
	var sent struct {
		At string `json:"at"`
	}
	p.Eval(`window.__waterline.lastMilestone`, &sent)
	if sent.At != want.Format("2006-01-02T15:04:05")+"+08:00" {
		t.Errorf("sent at %q, want %s+08:00", sent.At, typed)
	}
	var shown string
	p.Eval(`document.querySelector('#job-timeline li[data-milestone="dispatched"]').textContent`, &shown)
	if !strings.Contains(shown, want.Format("15:04")) {
		t.Errorf("the timeline shows %q, want the Shanghai clock %s", shown, want.Format("15:04"))
	}
	jb := getJob(t, s, id)
	state, done, _, _ := jb.step(t, "dispatched")
	if state != "done" || done == nil || !done.Equal(want) {
		t.Errorf("dispatched stored at %v (%s), want %v", done, state, want)
	} else if _, off := done.Zone(); off != 8*3600 {
		t.Errorf("the API gives the time in offset %d s, want +8 h", off)
	}
	// A time after now is refused by the server and shown in the banner;
	// nothing is recorded.
	p.SetValue("#milestone-time", time.Now().Add(3*time.Hour).In(s.loc).Format("2006-01-02T15:04"))
	p.ClickOn(`#milestone-record[data-milestone="on_site"]`)
	p.WaitFor(`!document.querySelector('#error-banner').hidden`, 10*time.Second)
	var code string
	p.Eval(`document.querySelector('#error-banner').dataset.errorCode`, &code)
	if code != "milestone.in_future" {
		t.Errorf("a future time: banner code %q", code)
	}
	if st, _, _, _ := getJob(t, s, id).step(t, "on_site"); st == "done" || st == "late" {
		t.Errorf("on_site recorded despite the error (%s)", st)
	}
	p.Screenshot("")
	noPageErrors(t, p, "400", "Bad Request")
}

// TestJobValveFailed: after the approval, the job detail reports a valve
// that would not close (POST …/failed-valves): the API has it failed and
// the detail lists it with what else to close.
func TestJobValveFailed(t *testing.T) {
	s := newSite(t)
	id := openJobAPI(t, s, tilestest.HPipe(5, 5), 20*time.Minute, "dispatched", "on_site", "approved")
	p := Open(t, s.url, Options{})
	p.WaitReady()
	openDetail(p, id)
	var valves []string
	p.Eval(`[...document.querySelectorAll('#valve-fail-select option')].map(o => o.value)`, &valves)
	if len(valves) == 0 {
		t.Fatal("no valve to report failed after the approval")
	}
	if jb := getJob(t, s, id); !slicesEqual(valves, jb.Valves) {
		t.Errorf("valves offered %v, the job's %v", valves, jb.Valves)
	}
	v := valves[len(valves)-1]
	p.SetValue("#milestone-by", "班组")
	p.SetValue("#valve-fail-select", v)
	p.ClickOn("#valve-fail-record")
	p.WaitFor(fmt.Sprintf(`!!document.querySelector('#valve-failures li[data-valve=%q]') || !document.querySelector('#error-banner').hidden`, v), 30*time.Second)
	var banner string
	p.Eval(`document.querySelector('#error-banner').hidden ? '' : document.querySelector('#error-banner').textContent`, &banner)
	if banner != "" {
		t.Fatalf("reporting valve %s failed: %s", v, banner)
	}
	jb := getJob(t, s, id)
	if !containsStr(jb.FailedValves, v) {
		t.Errorf("the API's failed valves %v lack %s", jb.FailedValves, v)
	}
	var offered []string
	p.Eval(`[...document.querySelectorAll('#valve-fail-select option')].map(o => o.value)`, &offered)
	if containsStr(offered, v) {
		t.Errorf("valve %s still offered after failing: %v", v, offered)
	}
	p.Screenshot("")
	noPageErrors(t, p)
}

// TestRecordMilestoneViewer: a signed-in viewer sees the job's timeline
// but no control to record a milestone or a failed valve.
func TestRecordMilestoneViewer(t *testing.T) {
	o := tilestest.GridOptions{NX: 12, NY: 12, Spacing: 80}
	s := serveWith(t, tilestest.Grid(o), o, siteOptions{signIn: true})
	ctx := context.Background()
	if _, err := s.users.AddUser(ctx, auth.NewUser{Name: "li", DisplayName: "查看员", Role: auth.Viewer, Password: "viewer-pass-2026"}); err != nil {
		t.Fatal(err)
	}
	id := openJobInStore(t, s, tilestest.HPipe(3, 5))
	p := signIn(t, s.url, "li", "viewer-pass-2026", Options{})
	openDetail(p, id)
	var n int
	p.Eval(`document.querySelectorAll('#milestone-form, #milestone-record, #valve-fail-record, #milestone-none').length`, &n)
	if n != 0 {
		t.Errorf("a viewer is offered %d recording controls", n)
	}
	noPageErrors(t, p)
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCrewBoard: a signed-in crew member's board lists the open jobs of
// their crews (not the others, and without an error: the list of every
// job is not theirs to read), and from it they record their milestones.
func TestCrewBoard(t *testing.T) {
	o := tilestest.GridOptions{NX: 12, NY: 12, Spacing: 80}
	s := serveWith(t, tilestest.Grid(o), o, siteOptions{signIn: true})
	ctx := context.Background()
	if _, err := s.users.AddUser(ctx, auth.NewUser{Name: "zhao", DisplayName: "抢修班 赵", Role: auth.Crew, Password: "crew-pass-2026"}); err != nil {
		t.Fatal(err)
	}
	mine, other := openJobInStore(t, s, tilestest.HPipe(3, 5)), openJobInStore(t, s, tilestest.HPipe(8, 2))
	if _, err := s.users.SetCrew(ctx, mine, []string{"zhao"}, "调度员"); err != nil {
		t.Fatal(err)
	}
	p := signIn(t, s.url, "zhao", "crew-pass-2026", Options{})
	openDetail(p, mine)
	var listed []string
	p.Eval(`[...document.querySelectorAll('#board-list [data-job-id]')].map(li => li.dataset.jobId)`, &listed)
	if !slicesEqual(listed, []string{fmt.Sprint(mine)}) {
		t.Errorf("the crew's board lists %v, want only job %d (not %d)", listed, mine, other)
	}
	var banner bool
	p.Eval(`!document.querySelector('#error-banner').hidden`, &banner)
	if banner {
		t.Error("the crew's board shows an error")
	}
	if ms := recordButtons(p); len(ms) == 0 || ms[0] != "dispatched" {
		t.Errorf("record buttons %v: want dispatched first", ms)
	}
	noPageErrors(t, p)
}

// TestMilestonePhotoAndNotApplicable: a photo taken with a milestone is
// shrunk to a JPEG, stored with it and linked from the timeline; an
// optional milestone is recorded as not applicable only with a reason in
// the note.
func TestMilestonePhotoAndNotApplicable(t *testing.T) {
	s := newSite(t)
	id := openJobAPI(t, s, tilestest.HPipe(3, 7), 2*time.Hour,
		"dispatched", "on_site", "barriers", "approved", "valves_closed")
	// A 2400×1800 camera picture: larger than the 1600 px a side the photo
	// is shrunk to.
	path := pngFile(t, "site.png", 2400, 1800)

	p := Open(t, s.url, Options{})
	p.WaitReady()
	openDetail(p, id)
	p.SetValue("#milestone-by", "班组")
	p.SetValue("#milestone-note", "DN200 铸铁管更换 1.5 m")
	p.SetFiles("#milestone-photo", path)
	p.ClickOn(`#milestone-record[data-milestone="repaired"]`)
	p.WaitFor(`document.querySelector('#job-timeline li[data-milestone="repaired"]')?.dataset.state === 'done' || !document.querySelector('#error-banner').hidden`, 30*time.Second)
	var link string
	p.Eval(`document.querySelector('#job-timeline li[data-milestone="repaired"] a.tl-photo')?.getAttribute('href') || ''`, &link)
	if link == "" {
		var banner string
		p.Eval(`document.querySelector('#error-banner').textContent`, &banner)
		t.Fatalf("no photo link on the repaired milestone (banner %q)", banner)
	}
	res, err := http.Get(s.url + "/" + strings.TrimPrefix(link, "/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the photo: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	got, err := jpeg.DecodeConfig(bytes.NewReader(body))
	if err != nil || got.Width != 1600 || got.Height != 1200 || len(body) > 600<<10 {
		t.Errorf("the stored photo: %dx%d, %d bytes, %v; want 1600x1200 within 600 KiB", got.Width, got.Height, len(body), err)
	}

	// Site restored does not apply: refused without a reason, recorded
	// with one.
	p.WaitFor(`!!document.querySelector('.milestone-na[data-milestone="site_restored"]')`, 10*time.Second)
	p.ClickOn(`.milestone-na[data-milestone="site_restored"]`)
	p.WaitFor(`!document.querySelector('#error-banner').hidden`, 10*time.Second)
	if state, _, _, _ := getJob(t, s, id).step(t, "site_restored"); state == "not_applicable" {
		t.Fatal("recorded as not applicable without a reason")
	}
	p.SetValue("#milestone-note", "路面未开挖")
	p.ClickOn(`.milestone-na[data-milestone="site_restored"]`)
	p.WaitFor(`document.querySelector('#job-timeline li[data-milestone="site_restored"]')?.dataset.state === 'not_applicable'`, 20*time.Second)
	if state, _, _, note := getJob(t, s, id).step(t, "site_restored"); state != "not_applicable" || note != "路面未开挖" {
		t.Errorf("site restored: %s, note %q", state, note)
	}
	noPageErrors(t, p)
}
