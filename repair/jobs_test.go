package repair

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// TestJobLifecycle opens a job on a real network, refuses bad input without
// changing it, and drives it through every milestone to closed.
func TestJobLifecycle(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 23:40") // the job crosses midnight
	jb := fx.open(t, emergency("2061"), t0)
	if jb.Status != "open" || jb.Kind != Emergency || jb.Leak.DN != 110 || jb.District != "dma2" ||
		strings.Join(jb.Valves, ",") != "1088,1090,1109,1111,1114" || jb.Customers != 241 || jb.Households != 241 {
		t.Fatalf("opened: %+v", jb)
	}
	if len(jb.Timeline) != len(emergencySteps) || jb.Next == nil || jb.Next.Milestone != OnSite ||
		jb.Next.Due.Format(time.RFC3339) != "2026-03-11T00:10:00+08:00" || jb.OrderedAt.Location() != fx.loc {
		t.Fatalf("timeline: next %+v", jb.Next)
	}
	if !strings.Contains(string(jb.Plan), `"valves_to_close":["1088","1090","1109","1111","1114"]`) || jb.ValveActions == nil || jb.ValveActions.Stage != "close" {
		t.Errorf("plan not stored: %.200s / %+v", jb.Plan, jb.ValveActions)
	}
	id := jb.ID
	now := t0.Add(5 * time.Minute)
	fx.record(t, id, Dispatched, t0.Add(2*time.Minute), now)

	// Bad input: each refused with its code, the job unchanged.
	before := fx.snapshot(t, id, now)
	bad := []struct {
		name string
		id   int64
		req  RecordRequest
		kind gis.ErrorKind
		code string
	}{
		{"unknown job", id + 100, RecordRequest{Milestone: OnSite, By: "x"}, gis.NotFound, "job.not_found"},
		{"out of order: valves before approval", id, RecordRequest{Milestone: ValvesClosed, By: "x"}, gis.Conflict, "milestone.out_of_order"},
		{"out of order: reopened before quality", id, RecordRequest{Milestone: ValvesReopened, By: "x"}, gis.Conflict, "milestone.out_of_order"},
		{"closed with milestones missing", id, RecordRequest{Milestone: Closed, By: "x"}, gis.Conflict, "milestone.out_of_order"},
		{"in the future", id, RecordRequest{Milestone: OnSite, By: "x", At: ptr(now.Add(3 * time.Minute))}, gis.Invalid, "milestone.in_future"},
		{"before the order", id, RecordRequest{Milestone: OnSite, By: "x", At: ptr(t0.Add(-time.Minute))}, gis.Invalid, "milestone.before_order"},
		{"before its prerequisite", id, RecordRequest{Milestone: OnSite, By: "x", At: ptr(t0.Add(time.Minute))}, gis.Conflict, "milestone.before_prerequisite"},
		{"duplicate", id, RecordRequest{Milestone: Dispatched, By: "x"}, gis.Conflict, "milestone.duplicate"},
		{"unknown milestone", id, RecordRequest{Milestone: "teatime", By: "x"}, gis.Invalid, "milestone.unknown"},
		{"not for the kind", id, RecordRequest{Milestone: NoticePosted, By: "x"}, gis.Invalid, "milestone.not_for_kind"},
		{"nobody", id, RecordRequest{Milestone: OnSite}, gis.Invalid, "milestone.by"},
		{"required as not applicable", id, RecordRequest{Milestone: OnSite, By: "x", NotApplicable: true}, gis.Invalid, "milestone.required"},
		{"bad photo", id, RecordRequest{Milestone: OnSite, By: "x", Photo: "data:text/html;base64,PGI+"}, gis.Invalid, "milestone.photo"},
	}
	for _, c := range bad {
		_, err := fx.jobs.Record(ctx, c.id, c.req, now)
		wantErr(t, c.name, err, c.kind, c.code)
	}
	if after := fx.snapshot(t, id, now); after != before {
		t.Fatalf("bad input changed the job:\n%s\n%s", before, after)
	}
	// A skew within the rules is accepted.
	res, err := fx.jobs.Record(ctx, id, RecordRequest{Milestone: OnSite, By: "crew 3", Note: "found DN110 PE split",
		Photo: "data:image/jpeg;base64,/9j/4AAQSkZJRg==", At: ptr(now.Add(time.Minute))}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s := stepNamed(res.Job.Timeline, OnSite); s.State != StateDone || s.By != "crew 3" || s.Note == "" ||
		s.Photo != "/api/repair/jobs/"+itoa(id)+"/milestones/on_site/photo" {
		t.Errorf("on site: %+v", s)
	}
	if b, ctype, err := fx.jobs.Photo(ctx, id, OnSite); err != nil || ctype != "image/jpeg" || len(b) != 10 {
		t.Errorf("photo: %d bytes %q %v", len(b), ctype, err)
	}
	now = now.Add(time.Minute)
	steps := []struct {
		m  Milestone
		at string
	}{
		{Barriers, "2026-03-11 00:10"}, {Approved, "2026-03-11 00:12"}, {ValvesClosed, "2026-03-11 01:30"},
		{Repaired, "2026-03-11 05:00"}, {QualityPassed, "2026-03-11 07:00"}, {ValvesReopened, "2026-03-11 07:20"},
		{Callback, "2026-03-11 08:30"}, {SiteRestored, "2026-03-11 12:00"}, {RoadNotice, "2026-03-16 10:00"},
	}
	for _, s := range steps {
		now = fx.at(t, s.at).Add(time.Minute)
		res = fx.record(t, id, s.m, fx.at(t, s.at), now)
		if s.m == ValvesClosed && (!res.Job.Holding || res.Valves == nil || len(res.Valves.Close) != 5) {
			t.Errorf("valves closed: holding %v, actions %+v", res.Job.Holding, res.Valves)
		}
		if s.m == ValvesReopened && (res.Job.Holding || res.Valves == nil || len(res.Valves.Open) != 5 || len(res.Valves.KeepClosed) != 0) {
			t.Errorf("valves reopened: holding %v, actions %+v", res.Job.Holding, res.Valves)
		}
	}
	res = fx.record(t, id, Closed, now, now)
	jb = res.Job
	if jb.Status != "closed" || jb.ClosedAt == nil || jb.Next != nil || len(jb.Overdue) != 0 {
		t.Fatalf("closed: %+v", jb)
	}
	want := map[Milestone]string{OnSite: StateDone, Barriers: StateDone, ValvesClosed: StateDone,
		ValvesReopened: StateLate, Callback: StateDone, RoadNotice: StateDone, Repaired: StateDone}
	for m, st := range want {
		if s := stepNamed(jb.Timeline, m); s.State != st {
			t.Errorf("%s: %+v, want %s", m, s, st)
		}
	}
	if s := stepNamed(jb.Timeline, ValvesReopened); s.LateByS != 600 {
		t.Errorf("reopened late by %d s, want 600", s.LateByS)
	}
	// A closed job takes nothing more.
	_, err = fx.jobs.Record(ctx, id, RecordRequest{Milestone: Callback, By: "x"}, now)
	wantErr(t, "closed job", err, gis.Conflict, "job.not_open")
}

func ptr[T any](v T) *T { return &v }

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// TestHeldValvesAcrossJobs: valves an open job holds closed are shut in
// every plan, and reopening one job never opens a valve another still
// holds.
func TestHeldValvesAcrossJobs(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 09:00")
	a := fx.open(t, emergency("2061"), t0)
	for i, m := range []Milestone{Dispatched, OnSite, Approved, ValvesClosed} {
		fx.record(t, a.ID, m, t0.Add(time.Duration(i+1)*time.Minute), t0.Add(10*time.Minute))
	}
	held, err := fx.jobs.HeldClosed(ctx)
	if err != nil || strings.Join(held, ",") != "1088,1090,1109,1111,1114" {
		t.Fatalf("held: %v %v", held, err)
	}
	// Every plan sees them shut: a leak on 2079 needs 1090 and 1091, but
	// 1090 is already closed by job A.
	plan, err := fx.planner.Plan(ctx, PlanRequest{Pipe: "2079"})
	if err != nil || strings.Join(plan.ValvesToClose, ",") != "1091" || !slices.Contains(plan.ValvesAlreadyClosed, "1090") {
		t.Fatalf("plan beside a held valve: close %v, already %v, %v", plan.ValvesToClose, plan.ValvesAlreadyClosed, err)
	}
	// Job B on 2079 holds 1090 too: it needs it closed.
	now := t0.Add(20 * time.Minute)
	b := fx.open(t, emergency("2079"), now)
	if strings.Join(b.Valves, ",") != "1090,1091" {
		t.Fatalf("job B holds %v", b.Valves)
	}
	for i, m := range []Milestone{Dispatched, OnSite, Approved} {
		fx.record(t, b.ID, m, now.Add(time.Duration(i+1)*time.Minute), now.Add(10*time.Minute))
	}
	res := fx.record(t, b.ID, ValvesClosed, now.Add(5*time.Minute), now.Add(10*time.Minute))
	if strings.Join(res.Valves.Close, ",") != "1091" || len(res.Valves.AlreadyClosed) != 1 || res.Valves.AlreadyClosed[0].Jobs[0] != a.ID {
		t.Errorf("B closes %+v", res.Valves)
	}
	// A finishes first: 1090 stays closed for B.
	now = now.Add(2 * time.Hour)
	for _, m := range []Milestone{Repaired, QualityPassed} {
		fx.record(t, a.ID, m, now, now)
	}
	res = fx.record(t, a.ID, ValvesReopened, now, now)
	if strings.Join(res.Valves.Open, ",") != "1088,1109,1111,1114" || len(res.Valves.KeepClosed) != 1 ||
		res.Valves.KeepClosed[0].Valve != "1090" || res.Valves.KeepClosed[0].Jobs[0] != b.ID {
		t.Errorf("A reopens %+v", res.Valves)
	}
	if held, _ := fx.jobs.HeldClosed(ctx); strings.Join(held, ",") != "1090,1091" {
		t.Errorf("held after A reopened: %v", held)
	}
	// Then B: now 1090 opens.
	for _, m := range []Milestone{Repaired, QualityPassed} {
		fx.record(t, b.ID, m, now, now)
	}
	res = fx.record(t, b.ID, ValvesReopened, now, now)
	if strings.Join(res.Valves.Open, ",") != "1090,1091" || len(res.Valves.KeepClosed) != 0 {
		t.Errorf("B reopens %+v", res.Valves)
	}
	if held, _ := fx.jobs.HeldClosed(ctx); len(held) != 0 {
		t.Errorf("held after both: %v", held)
	}
	// A job holding valves cannot be cancelled; one not holding can.
	c := fx.open(t, emergency("2076"), now)
	if _, err := fx.jobs.Cancel(ctx, c.ID, "", "", now); err == nil {
		t.Error("cancel without reason accepted")
	}
	if jb, err := fx.jobs.Cancel(ctx, c.ID, "调度员 王", "duplicate of a job", now); err != nil || jb.Status != "cancelled" {
		t.Errorf("cancel: %v", err)
	}
}

// TestValveFailure: a valve failing on site is recorded, the plan is
// redone without it, and the extra valves and customers are added.
func TestValveFailure(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 09:00")
	jb := fx.open(t, emergency("2061"), t0)
	now := t0.Add(30 * time.Minute)
	_, err := fx.jobs.FailValve(ctx, jb.ID, FailureRequest{Valve: "1090", By: "crew 3"}, now)
	wantErr(t, "before approval", err, gis.Conflict, "failure.not_approved")
	for i, m := range []Milestone{Dispatched, OnSite, Approved} {
		fx.record(t, jb.ID, m, t0.Add(time.Duration(i+1)*time.Minute), now)
	}
	before := fx.snapshot(t, jb.ID, now)
	_, err = fx.jobs.FailValve(ctx, jb.ID, FailureRequest{Valve: "9999", By: "crew 3"}, now)
	wantErr(t, "valve not of the job", err, gis.Conflict, "failure.not_in_plan")
	if fx.snapshot(t, jb.ID, now) != before {
		t.Fatal("a refused failure changed the job")
	}
	got, err := fx.jobs.FailValve(ctx, jb.ID, FailureRequest{Valve: "1090", By: "crew 3", Note: "spindle broken"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.FailedValves, ",") != "1090" || strings.Join(got.Valves, ",") != "1088,1091,1109,1111,1114" ||
		got.Customers != 241+70 || len(got.Failures) != 1 || strings.Join(got.Failures[0].ExtraValves, ",") != "1091" ||
		len(got.Failures[0].ExtraCustomers) != 70 || got.Failures[0].ExtraHouseholds != 70 {
		t.Fatalf("after failure: valves %v failed %v customers %d failures %+v", got.Valves, got.FailedValves, got.Customers, got.Failures)
	}
	if !strings.Contains(string(got.Plan), `"valves_failed":["1090"]`) {
		t.Errorf("plan not redone: %.300s", got.Plan)
	}
	_, err = fx.jobs.FailValve(ctx, jb.ID, FailureRequest{Valve: "1090", By: "crew 3"}, now)
	wantErr(t, "failed twice", err, gis.Conflict, "failure.duplicate")
	// Closing now holds the new set.
	res := fx.record(t, jb.ID, ValvesClosed, now, now)
	if strings.Join(res.Valves.Close, ",") != "1088,1091,1109,1111,1114" {
		t.Errorf("close after failure: %+v", res.Valves)
	}
	if held, _ := fx.jobs.HeldClosed(ctx); strings.Join(held, ",") != "1088,1091,1109,1111,1114" {
		t.Errorf("held: %v", held)
	}
}

// TestPlannedShutoffs: planned shutoffs get their notice deadline from
// their customers, and two overlapping ones sharing valves or customers
// conflict.
func TestPlannedShutoffs(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	now := fx.at(t, "2026-03-10 09:00")
	planned := func(pipe, start, end string) OpenRequest {
		return OpenRequest{Kind: Planned, Leak: PlanRequest{Pipe: pipe}, By: "planner 赵",
			Planned: &Window{Start: fx.at(t, start), End: fx.at(t, end), Reason: "connection of a new DN200 main"}}
	}
	a := fx.open(t, planned("2061", "2026-03-12 09:00", "2026-03-12 15:00"), now)
	if a.NoticeLeadHours != 24 || a.Notice == nil || len(a.Notice.Late) != 0 || !strings.Contains(a.Notice.ZH, "计划施工") && !strings.Contains(a.Notice.ZH, "connection") {
		t.Fatalf("planned A: lead %d, notice %+v", a.NoticeLeadHours, a.Notice)
	}
	if s := stepNamed(a.Timeline, NoticePosted); s.Due == nil || !s.Due.Equal(fx.at(t, "2026-03-11 09:00")) {
		t.Errorf("notice due %+v", s)
	}
	// Overlapping, sharing valve 1090: refused.
	_, err := fx.jobs.Open(ctx, planned("2079", "2026-03-12 14:00", "2026-03-12 18:00"), now)
	wantErr(t, "overlap", err, gis.Conflict, "planned.conflict")
	if err == nil || !strings.Contains(err.Error(), "1090") {
		t.Errorf("conflict message: %v", err)
	}
	// The same, after A ends: no conflict.
	fx.open(t, planned("2079", "2026-03-12 15:00", "2026-03-12 18:00"), now)
	// Accepted: flagged on both.
	req := planned("2079", "2026-03-12 10:00", "2026-03-12 11:00")
	req.AcceptConflict = true
	c := fx.open(t, req, now)
	if !c.ConflictAccepted || len(c.Conflicts) != 1 || c.Conflicts[0].JobID != a.ID || strings.Join(c.Conflicts[0].SharedValves, ",") != "1090" {
		t.Errorf("accepted conflict: %+v", c.Conflicts)
	}
	if a2, _ := fx.jobs.Get(ctx, a.ID, now); len(a2.Conflicts) != 1 || a2.Conflicts[0].JobID != c.ID {
		t.Errorf("conflict not flagged on A: %+v", a2.Conflicts)
	}
	// A utility making industrial customers critical gives them 3 days,
	// and a notice issued two days ahead is late for them.
	fx.planner.NoticeRules.CriticalCategories = []string{"industrial"}
	d := fx.open(t, planned("2051", "2026-03-12 16:00", "2026-03-12 18:00"), now)
	if d.NoticeLeadHours != 72 || d.Notice == nil || len(d.Notice.Late) == 0 {
		t.Errorf("critical lead: %d, late %v", d.NoticeLeadHours, d.Notice)
	}
	if s := stepNamed(d.Timeline, NoticePosted); s.State != StateOverdue {
		t.Errorf("a notice due 72 h before a start 48 h away is overdue at once: %+v", s)
	}
	// Planned order: no valves before approval and notice.
	_, err = fx.jobs.Record(ctx, d.ID, RecordRequest{Milestone: ValvesClosed, By: "x"}, now)
	wantErr(t, "planned valves first", err, gis.Conflict, "milestone.out_of_order")
	// Bad windows.
	bad := planned("2061", "2026-03-12 09:00", "2026-03-12 08:00")
	_, err = fx.jobs.Open(ctx, bad, now)
	wantErr(t, "end before start", err, gis.Invalid, "planned.window")
	bad = planned("2061", "2026-03-01 09:00", "2026-03-01 10:00")
	_, err = fx.jobs.Open(ctx, bad, now)
	wantErr(t, "in the past", err, gis.Invalid, "planned.past")
	// An emergency job's notice needs the restore time.
	e := fx.open(t, emergency("2076"), now)
	if _, err := fx.jobs.JobNotice(ctx, e.ID, time.Time{}, now); err == nil {
		t.Error("notice without restore time")
	}
	if n, err := fx.jobs.JobNotice(ctx, e.ID, now.Add(4*time.Hour), now); err != nil || n.Count != 9 || !strings.Contains(n.ZH, "2026-03-10 13:00") {
		t.Errorf("emergency notice: %+v %v", n, err)
	}
}

func TestOpenBadInput(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	now := fx.at(t, "2026-03-10 09:00")
	cases := []struct {
		name string
		mod  func(r *OpenRequest)
		kind gis.ErrorKind
		code string
	}{
		{"unknown pipe", func(r *OpenRequest) { r.Leak.Pipe = "nope" }, gis.NotFound, "pipe.not_found"},
		{"no leak", func(r *OpenRequest) { r.Leak = PlanRequest{} }, gis.Invalid, "leak.missing"},
		{"nobody", func(r *OpenRequest) { r.By = "" }, gis.Invalid, "job.by"},
		{"no content", func(r *OpenRequest) { r.Order.Content = "" }, gis.Invalid, "order.incomplete"},
		{"ordered in the future", func(r *OpenRequest) { r.OrderedAt = ptr(now.Add(time.Hour)) }, gis.Invalid, "job.ordered_in_future"},
		{"deadline before the order", func(r *OpenRequest) { r.Order.Deadline = ptr(now.Add(-time.Hour)) }, gis.Invalid, "order.deadline"},
		{"bad kind", func(r *OpenRequest) { r.Kind = "urgent" }, gis.Invalid, "job.kind"},
		{"long text", func(r *OpenRequest) { r.Order.Address = strings.Repeat("路", 1000) }, gis.Invalid, "text.too_long"},
	}
	for _, c := range cases {
		req := emergency("2061")
		c.mod(&req)
		_, err := fx.jobs.Open(ctx, req, now)
		wantErr(t, c.name, err, c.kind, c.code)
	}
	if l, err := fx.jobs.List(ctx, Filter{}, now); err != nil || l.Total != 0 {
		t.Errorf("refused opens stored jobs: %+v %v", l, err)
	}
	if _, err := fx.jobs.Get(ctx, 42, now); err == nil {
		t.Error("unknown job found")
	}
}

// TestListFilters: open jobs by next deadline, filters by status,
// district, kind and overdue.
func TestListFilters(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 09:00")
	a := fx.open(t, emergency("2061"), t0)                      // dma2, on site due 09:30
	b := fx.open(t, emergency("2079"), t0.Add(-20*time.Minute)) // on site due 09:10
	c := fx.open(t, emergency("2076"), t0)
	fx.jobs.Cancel(ctx, c.ID, "x", "test", t0) //nolint:errcheck
	now := t0.Add(15 * time.Minute)
	l, err := fx.jobs.List(ctx, Filter{Status: "open"}, now)
	if err != nil || l.Total != 2 || l.Jobs[0].ID != b.ID || l.Jobs[1].ID != a.ID || l.Jobs[0].Next == nil || l.Jobs[0].Timeline != nil {
		t.Fatalf("open: %+v %v", l, err)
	}
	if l, _ := fx.jobs.List(ctx, Filter{Overdue: true}, now); l.Total != 1 || l.Jobs[0].ID != b.ID || l.Jobs[0].Overdue[0] != OnSite {
		t.Errorf("overdue: %+v", l)
	}
	if l, _ := fx.jobs.List(ctx, Filter{Status: "cancelled"}, now); l.Total != 1 || l.Jobs[0].ID != c.ID {
		t.Errorf("cancelled: %+v", l)
	}
	if l, _ := fx.jobs.List(ctx, Filter{District: "nowhere"}, now); l.Total != 0 {
		t.Errorf("district: %+v", l)
	}
	if l, _ := fx.jobs.List(ctx, Filter{District: a.District, Limit: 1}, now); l.Total != 3 || len(l.Jobs) != 1 {
		t.Errorf("district %s page: %d of %d", a.District, len(l.Jobs), l.Total)
	}
	if l, _ := fx.jobs.List(ctx, Filter{Kind: Planned}, now); l.Total != 0 {
		t.Errorf("kind: %+v", l)
	}
	for _, f := range []Filter{{Status: "bogus"}, {Limit: 5000}, {Overdue: true, Status: "closed"}, {Kind: "x"}} {
		if _, err := fx.jobs.List(ctx, f, now); err == nil {
			t.Errorf("filter %+v accepted", f)
		}
	}
}

// TestCalendarLoad: a calendar year loaded by the utility replaces the
// shipped one and reaches the deadlines at once.
func TestCalendarLoad(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	cy := CalendarYear{Calendar: "CN", Year: 2026, Source: "test: 11 March off",
		Holidays: []DayRange{{From: "2026-03-11", To: "2026-03-11", Name: "test day"}}}
	if err := fx.jobs.LoadCalendarYear(ctx, CalendarYear{Calendar: "CN", Year: 2026, Workdays: []NamedDay{{Date: "2026-03-11", Name: "x"}}}, "admin"); err == nil {
		t.Error("a weekday swapped to a working day accepted")
	}
	if err := fx.jobs.LoadCalendarYear(ctx, cy, "admin"); err != nil {
		t.Fatal(err)
	}
	cal, err := fx.jobs.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := cal.WorkingDay(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)); w {
		t.Error("loaded holiday is a working day")
	}
	// The shipped 2027 stays.
	if w, known := cal.WorkingDay(time.Date(2027, 2, 8, 0, 0, 0, 0, time.UTC)); w || !known {
		t.Error("shipped 2027 lost")
	}
	// A restart (a new Jobs on the same database) sees it too.
	j2, err := NewJobs(JobsConfig{Store: fx.st, Planner: fx.planner, Rules: DefaultRules(), TZ: fx.loc})
	if err != nil {
		t.Fatal(err)
	}
	cal2, _ := j2.Calendar(ctx)
	if got := cal2.Years()[0].Source; got != "test: 11 March off" {
		t.Errorf("after restart: %q", got)
	}
}

// TestConcurrentReopen: two jobs holding the same valve reopen at the same
// moment; the valve is opened by exactly one of them (the last to release
// it), never by both and never by neither.
func TestConcurrentReopen(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	t0 := fx.at(t, "2026-03-10 09:00")
	a := fx.open(t, emergency("2061"), t0)
	b := fx.open(t, emergency("2079"), t0) // both need 1090
	now := t0.Add(time.Hour)
	for _, id := range []int64{a.ID, b.ID} {
		for i, m := range []Milestone{Dispatched, OnSite, Approved, ValvesClosed, Repaired, QualityPassed} {
			fx.record(t, id, m, t0.Add(time.Duration(i+1)*time.Minute), now)
		}
	}
	var wg sync.WaitGroup
	opened := make([][]string, 2)
	for i, id := range []int64{a.ID, b.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := fx.jobs.Record(context.Background(), id, RecordRequest{Milestone: ValvesReopened, By: "crew"}, now)
			if err != nil {
				t.Error(err)
				return
			}
			opened[i] = res.Valves.Open
		}()
	}
	wg.Wait()
	n := 0
	for _, o := range opened {
		if slices.Contains(o, "1090") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("1090 opened by %d jobs: %v", n, opened)
	}
	if held, _ := fx.jobs.HeldClosed(context.Background()); len(held) != 0 {
		t.Errorf("still held: %v", held)
	}
}
