package repair

import (
	"strings"
	"testing"
	"time"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func shippedCalendar(t testing.TB) *Calendar {
	t.Helper()
	years, err := ShippedCalendarYears()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := NewCalendar("CN", years)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func stepNamed(tl []Step, m Milestone) Step {
	for _, s := range tl {
		if s.Milestone == m {
			return s
		}
	}
	return Step{}
}

// TestDeadlineEdges checks each deadline rule at its edges, with times
// given in the utility's zone and stored (compared) as instants.
func TestDeadlineEdges(t *testing.T) {
	loc := shanghai(t)
	cal := shippedCalendar(t)
	r := DefaultRules()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	order := at("2026-03-10 09:00")
	cases := []struct {
		name string
		f    Facts
		m    Milestone
		want string // due, in loc; "" = no due
	}{
		// §3.4 water stopped: by the leaking pipe's DN.
		{"DN299: 2 h", Facts{Kind: Emergency, OrderedAt: order, LeakDN: 299}, ValvesClosed, "2026-03-10 11:00"},
		{"DN300: 4 h", Facts{Kind: Emergency, OrderedAt: order, LeakDN: 300}, ValvesClosed, "2026-03-10 13:00"},
		{"DN unknown: the stricter 2 h", Facts{Kind: Emergency, OrderedAt: order, LeakDN: 0}, ValvesClosed, "2026-03-10 11:00"},
		// §3.1 on site, §3.3 barriers after arrival.
		{"on site 30 min", Facts{Kind: Emergency, OrderedAt: order}, OnSite, "2026-03-10 09:30"},
		{"barriers wait for arrival", Facts{Kind: Emergency, OrderedAt: order}, Barriers, ""},
		{"barriers 30 min after arrival", Facts{Kind: Emergency, OrderedAt: order, Done: map[Milestone]Mark{OnSite: {At: at("2026-03-10 09:41")}}}, Barriers, "2026-03-10 10:11"},
		// A job crossing midnight.
		{"on site after midnight", Facts{Kind: Emergency, OrderedAt: at("2026-03-10 23:45")}, OnSite, "2026-03-11 00:15"},
		{"water stopped after midnight", Facts{Kind: Emergency, OrderedAt: at("2026-03-10 23:45"), LeakDN: 400}, ValvesClosed, "2026-03-11 03:45"},
		{"reopen after midnight", Facts{Kind: Emergency, Done: map[Milestone]Mark{QualityPassed: {At: at("2026-03-10 23:55")}}}, ValvesReopened, "2026-03-11 00:05"},
		// §3.7 callback and its quiet hours 22:00–08:30.
		{"callback due 21:59", Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-10 20:59")}}}, Callback, "2026-03-10 21:59"},
		{"callback due 22:00 exactly", Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-10 21:00")}}}, Callback, "2026-03-10 22:00"},
		{"callback due 22:01 → 08:30", Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-10 21:01")}}}, Callback, "2026-03-11 08:30"},
		{"callback due 00:30 → same morning", Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-10 23:30")}}}, Callback, "2026-03-11 08:30"},
		{"callback due 08:30 exactly", Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-11 07:30")}}}, Callback, "2026-03-11 08:30"},
		{"callback at night: the customer asked", Facts{Kind: Emergency, CallbackAtNight: true, Done: map[Milestone]Mark{ValvesReopened: {At: at("2026-03-10 21:01")}}}, Callback, "2026-03-10 22:01"},
		// §3.8 road notice: 3 working days after the day the site is restored.
		{"road notice over a weekend", Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: at("2026-03-05 16:00")}}}, RoadNotice, "2026-03-11 00:00"},                          // Thu → Fri, Mon, Tue
		{"road notice over the Labour Day holiday", Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: at("2026-04-30 10:00")}}}, RoadNotice, "2026-05-09 00:00"},             // Thu → (1–5 May off) Wed 6, Thu 7, Fri 8
		{"road notice counting a swapped working Saturday", Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: at("2026-05-07 10:00")}}}, RoadNotice, "2026-05-12 00:00"},     // Thu → Fri 8, Sat 9 (调休), Mon 11
		{"road notice over Spring Festival", Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: at("2026-02-13 10:00")}}}, RoadNotice, "2026-02-26 00:00"},                    // Fri → Sat 14 (调休), 15–23 off, Tue 24, Wed 25
		{"road notice restored after midnight counts that day", Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: at("2026-03-06 00:30")}}}, RoadNotice, "2026-03-12 00:00"}, // Fri 00:30 (Thu 16:30 UTC) → Mon, Tue, Wed
		// Planned shutoffs.
		{"planned notice 24 h", Facts{Kind: Planned, PlannedStart: at("2026-03-12 09:00"), NoticeLeadHours: 24}, NoticePosted, "2026-03-11 09:00"},
		{"planned notice 72 h", Facts{Kind: Planned, PlannedStart: at("2026-03-12 09:00"), NoticeLeadHours: 72}, NoticePosted, "2026-03-09 09:00"},
		{"planned reopen: the announced end", Facts{Kind: Planned, PlannedEnd: at("2026-03-12 15:00")}, ValvesReopened, "2026-03-12 15:00"},
		{"planned reopen: 10 min after quality", Facts{Kind: Planned, PlannedEnd: at("2026-03-12 15:00"), Done: map[Milestone]Mark{QualityPassed: {At: at("2026-03-12 13:00")}}}, ValvesReopened, "2026-03-12 13:10"},
		// The work order's deadline is the due time of closing.
		{"closed: no deadline", Facts{Kind: Emergency, OrderedAt: order}, Closed, ""},
		{"closed: the order's deadline", Facts{Kind: Emergency, OrderedAt: order, Deadline: at("2026-03-11 18:00")}, Closed, "2026-03-11 18:00"},
	}
	for _, c := range cases {
		tl := r.Timeline(c.f, cal, loc, order)
		s := stepNamed(tl, c.m)
		got := ""
		if s.Due != nil {
			got = s.Due.Format("2006-01-02 15:04")
			if s.Due.Location() != loc {
				t.Errorf("%s: due shown in %v, want the utility zone", c.name, s.Due.Location())
			}
		}
		if got != c.want {
			t.Errorf("%s: due %q, want %q (rule %q)", c.name, got, c.want, s.Rule)
		}
	}
}

// TestZoneVersusUTC: the same instants, handed over in UTC (as the
// database returns them), give the same deadlines as in the utility zone:
// clock times and days are read in the utility zone, never in UTC.
func TestZoneVersusUTC(t *testing.T) {
	loc := shanghai(t)
	cal := shippedCalendar(t)
	r := DefaultRules()
	// 21:01 in Shanghai is 13:01 UTC: a callback due 22:01 local (quiet)
	// would be 14:01 UTC (not quiet) if read in UTC.
	reopened := time.Date(2026, 3, 10, 13, 1, 0, 0, time.UTC)
	f := Facts{Kind: Emergency, Done: map[Milestone]Mark{ValvesReopened: {At: reopened}}}
	s := stepNamed(r.Timeline(f, cal, loc, reopened), Callback)
	if s.Due == nil || !s.Due.Equal(time.Date(2026, 3, 11, 8, 30, 0, 0, loc)) || s.Due.Format(time.RFC3339) != "2026-03-11T08:30:00+08:00" {
		t.Errorf("callback from a UTC time: due %v", s.Due)
	}
	// Restored Friday 00:30 local = Thursday 16:30 UTC: the day counted
	// from is Friday.
	restored := time.Date(2026, 3, 5, 16, 30, 0, 0, time.UTC)
	f = Facts{Kind: Emergency, Done: map[Milestone]Mark{SiteRestored: {At: restored}}}
	s = stepNamed(r.Timeline(f, cal, loc, restored), RoadNotice)
	if s.Due == nil || s.Due.Format(time.RFC3339) != "2026-03-12T00:00:00+08:00" {
		t.Errorf("road notice from a UTC time: due %v", s.Due)
	}
	// Done times come back in the utility zone too.
	if s2 := stepNamed(r.Timeline(f, cal, loc, restored), SiteRestored); s2.Done == nil || s2.Done.Format(time.RFC3339) != "2026-03-06T00:30:00+08:00" {
		t.Errorf("done time: %v", s2.Done)
	}
}

func TestTimelineStates(t *testing.T) {
	loc := shanghai(t)
	cal := shippedCalendar(t)
	r := DefaultRules()
	order := time.Date(2026, 3, 10, 9, 0, 0, 0, loc)
	f := Facts{Kind: Emergency, OrderedAt: order, LeakDN: 200, Done: map[Milestone]Mark{
		Dispatched: {At: order.Add(3 * time.Minute)},
		OnSite:     {At: order.Add(35 * time.Minute)},
	}}
	now := order.Add(70 * time.Minute)
	tl := r.Timeline(f, cal, loc, now)
	if s := stepNamed(tl, Dispatched); s.State != StateDone || s.Due != nil {
		t.Errorf("dispatched: %+v", s)
	}
	if s := stepNamed(tl, OnSite); s.State != StateLate || s.LateByS != 300 || s.LateBy != "5m0s" {
		t.Errorf("on site: %+v", s)
	}
	if s := stepNamed(tl, Barriers); s.State != StateOverdue || s.LateByS != 5*60 {
		t.Errorf("barriers (due 10:05, now 10:10): %+v", s)
	}
	if s := stepNamed(tl, ValvesClosed); s.State != StateDue {
		t.Errorf("valves closed: %+v", s)
	}
	if s := stepNamed(tl, Repaired); s.State != StatePending {
		t.Errorf("repaired: %+v", s)
	}
	if n := Next(tl); n == nil || n.Milestone != Barriers {
		t.Errorf("next: %+v", n)
	}
	f.Done[RoadNotice] = Mark{NA: true}
	if s := stepNamed(r.Timeline(f, cal, loc, now), RoadNotice); s.State != StateNotApplicable || s.Due != nil {
		t.Errorf("not applicable: %+v", s)
	}
}

func TestCalendarYears(t *testing.T) {
	cal := shippedCalendar(t)
	loc := shanghai(t)
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	for _, c := range []struct {
		day     string
		working bool
	}{
		{"2026-01-01", false}, {"2026-01-04", true}, // New Year, and its swapped Sunday
		{"2026-02-14", true}, {"2026-02-23", false}, {"2026-02-28", true},
		{"2026-10-07", false}, {"2026-10-10", true}, {"2026-10-12", true}, {"2026-10-11", false},
		{"2027-02-08", false}, {"2027-02-11", true},
	} {
		if w, known := cal.WorkingDay(day(c.day)); w != c.working || !known {
			t.Errorf("%s: working %v known %v, want %v", c.day, w, known, c.working)
		}
	}
	// A provisional year and an unknown one say so.
	if _, w := cal.AddWorkingDays(time.Date(2027, 3, 1, 10, 0, 0, 0, loc), 3, loc); !strings.Contains(w, "provisional") {
		t.Errorf("2027 warning: %q", w)
	}
	due, w := cal.AddWorkingDays(time.Date(2030, 3, 1, 10, 0, 0, 0, loc), 3, loc) // Fri
	if !strings.Contains(w, "no year [2030]") || due.Format("2006-01-02") != "2030-03-07" {
		t.Errorf("2030: %v %q", due, w)
	}
	// Bad calendars are refused with the entry named.
	for _, bad := range []string{
		`{"calendar":"CN","year":2028,"holidays":[{"from":"2028-01-01","to":"2027-12-31","name":"x"}],"workdays":[]}`,
		`{"calendar":"CN","year":2028,"holidays":[],"workdays":[{"date":"2028-01-05","name":"a Wednesday"}]}`,
		`{"calendar":"CN","year":2028,"holidays":[{"from":"2028-01-01","to":"2028-01-02","name":"x"}],"workdays":[{"date":"2028-01-01","name":"x"}]}`,
		`{"calendar":"CN","year":2028,"holidays":[{"from":"2029-01-01","to":"2029-01-01","name":"x"}]}`,
		`{"calendar":"CN","year":2028,"bogus":1}`,
		`{"year":2028}`,
	} {
		if _, err := ParseCalendarYear([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	r := DefaultRules()
	r.QuietFrom = "25:00"
	if err := r.Validate(); err == nil {
		t.Error("quiet_from 25:00 accepted")
	}
	r = DefaultRules()
	r.StopLargeHours = 0
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "stop_large_hours") {
		t.Errorf("zero hours: %v", err)
	}
}

// TestStatusMatchesTimeline: the fast path gives what the timeline gives,
// over many generated jobs.
func TestStatusMatchesTimeline(t *testing.T) {
	loc := shanghai(t)
	cal := shippedCalendar(t)
	r := DefaultRules()
	base := time.Date(2026, 4, 28, 18, 0, 0, 0, loc)
	for i := 0; i < 2000; i++ {
		kind := Emergency
		if i%5 == 0 {
			kind = Planned
		}
		f := Facts{Kind: kind, OrderedAt: base.Add(time.Duration(i*37) * time.Minute), LeakDN: []int{0, 110, 299, 300, 600}[i%5],
			CallbackAtNight: i%7 == 0, NoticeLeadHours: 24, Done: map[Milestone]Mark{}}
		f.PlannedStart, f.PlannedEnd = f.OrderedAt.Add(30*time.Hour), f.OrderedAt.Add(36*time.Hour)
		if i%3 == 0 {
			f.Deadline = f.OrderedAt.Add(48 * time.Hour)
		}
		at := f.OrderedAt
		for k, m := range Milestones(kind) {
			if k >= i%13 {
				break
			}
			at = at.Add(time.Duration(7+(i*k)%90) * time.Minute)
			f.Done[m] = Mark{At: at, NA: m == RoadNotice && i%2 == 0}
		}
		now := f.OrderedAt.Add(time.Duration(i%50) * time.Hour)
		tl := r.Timeline(f, cal, loc, now)
		next, overdue := r.Status(f, cal, loc, now)
		want := Next(tl)
		if (want == nil) != (next == nil) || want != nil && (want.Milestone != next.Milestone || !want.Due.Equal(*next.Due) || want.State != next.State || want.Rule != next.Rule) {
			t.Fatalf("job %d: next %+v, timeline says %+v", i, next, want)
		}
		var wantOver []Deadline
		for _, s := range tl {
			if s.State == StateOverdue {
				wantOver = append(wantOver, Deadline{s.Milestone, *s.Due})
			}
		}
		if len(wantOver) != len(overdue) {
			t.Fatalf("job %d: overdue %v, timeline says %v", i, overdue, wantOver)
		}
		for k := range overdue {
			if overdue[k].Milestone != wantOver[k].Milestone || !overdue[k].Due.Equal(wantOver[k].Due) {
				t.Fatalf("job %d: overdue %v, timeline says %v", i, overdue, wantOver)
			}
		}
	}
}
