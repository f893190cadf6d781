package repair

import (
	"fmt"
	"time"
)

// Facts are everything a job's deadlines are computed from: stored times
// and attributes only, so that deadlines recomputed after a restart are the
// same as before it.
type Facts struct {
	Kind      Kind
	OrderedAt time.Time // the repair order; a planned job's creation
	LeakDN    int       // DN of the leaking pipe, mm; 0 = unknown
	// CallbackAtNight: the customer asked to be called back even in the
	// quiet hours.
	CallbackAtNight bool
	// PlannedStart and PlannedEnd bound a planned shutoff; NoticeLeadHours
	// is the notice it needs (the longest any affected customer needs).
	PlannedStart, PlannedEnd time.Time
	NoticeLeadHours          int
	// Deadline is the work order's own deadline (§4); zero = none. It is
	// the due time of Closed.
	Deadline time.Time
	Done     map[Milestone]Mark
}

// Step states.
const (
	StateDone          = "done"           // recorded, on time or without a deadline
	StateLate          = "late"           // recorded after its due time
	StateOverdue       = "overdue"        // not recorded, past its due time
	StateDue           = "due"            // not recorded, due in the future
	StatePending       = "pending"        // not recorded, no due time (yet)
	StateNotApplicable = "not_applicable" // recorded as not applicable
)

// Step is one milestone of a job's timeline: its due time, when it was
// done, and how late. Times are in the utility's zone.
type Step struct {
	Milestone Milestone   `json:"milestone"`
	Label     string      `json:"label"`
	LabelZH   string      `json:"label_zh"`
	Requires  []Milestone `json:"requires,omitempty"`
	Optional  bool        `json:"optional,omitempty"` // may be recorded as not applicable
	Rule      string      `json:"rule,omitempty"`     // how the due time was found
	Due       *time.Time  `json:"due,omitempty"`
	Done      *time.Time  `json:"done,omitempty"`
	State     string      `json:"state"`
	LateBy    string      `json:"late_by,omitempty"`   // done − due, or now − due when overdue
	LateByS   int64       `json:"late_by_s,omitempty"` // the same in seconds
	Warning   string      `json:"warning,omitempty"`
	// The record, when there is one: who, note, photo (an external URL or
	// the API path of the uploaded photo), when it was recorded.
	By         string     `json:"by,omitempty"`
	Note       string     `json:"note,omitempty"`
	Photo      string     `json:"photo,omitempty"`
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
}

// Timeline computes the steps of a job at now: each milestone of its kind
// in order, with its due time by the rules, cal (working days) and loc (the
// utility's zone, in which clock times and days are read). It is a pure
// function of its arguments.
func (r Rules) Timeline(f Facts, cal *Calendar, loc *time.Location, now time.Time) []Step {
	ss := steps(f.Kind)
	out := make([]Step, 0, len(ss))
	for _, s := range ss {
		out = append(out, r.step(f, s, cal, loc, now))
	}
	return out
}

// step computes one step of the timeline.
func (r Rules) step(f Facts, s step, cal *Calendar, loc *time.Location, now time.Time) Step {
	st := Step{Milestone: s.m, Label: s.label, LabelZH: s.labelZH, Requires: s.requires, Optional: s.optional, State: StatePending}
	due, rule, warn, hasDue := r.due(f, s.m, cal, loc, true)
	st.Rule = rule
	if hasDue {
		d := due.In(loc)
		st.Due, st.Warning = &d, warn
	}
	mk, done := f.Done[s.m]
	switch {
	case done && mk.NA:
		st.State, st.Due, st.Warning = StateNotApplicable, nil, ""
	case done:
		at := mk.At.In(loc)
		st.Done, st.State = &at, StateDone
		if hasDue && at.After(due) {
			st.State = StateLate
			st.setLate(at.Sub(due))
		}
	case hasDue && now.After(due):
		st.State = StateOverdue
		st.setLate(now.Sub(due))
	case hasDue:
		st.State = StateDue
	}
	return st
}

// Deadline is a milestone's due time.
type Deadline struct {
	Milestone Milestone
	Due       time.Time
}

// Status is what Timeline says about the milestones not yet recorded, for
// lists and scans of many jobs: the next deadline (as Next(Timeline)
// would give it) and the overdue milestones with their due times, in the
// timeline's order. It gives the same answers as Timeline, faster.
func (r Rules) Status(f Facts, cal *Calendar, loc *time.Location, now time.Time) (next *Step, overdue []Deadline) {
	var best step
	var bestDue time.Time
	for _, s := range steps(f.Kind) {
		if _, done := f.Done[s.m]; done {
			continue
		}
		due, _, _, ok := r.due(f, s.m, cal, loc, false)
		if !ok {
			continue
		}
		if now.After(due) {
			overdue = append(overdue, Deadline{s.m, due})
		}
		if bestDue.IsZero() || due.Before(bestDue) {
			best, bestDue = s, due
		}
	}
	if !bestDue.IsZero() {
		st := r.step(f, best, cal, loc, now)
		next = &st
	}
	return next, overdue
}

func (s *Step) setLate(d time.Duration) {
	d = d.Truncate(time.Second)
	s.LateBy, s.LateByS = d.String(), int64(d/time.Second)
}

// Next returns the earliest due step not yet recorded, or nil.
func Next(tl []Step) *Step {
	var best *Step
	for i := range tl {
		s := &tl[i]
		if s.Due == nil || s.Done != nil || s.State == StateNotApplicable {
			continue
		}
		if best == nil || s.Due.Before(*best.Due) {
			best = s
		}
	}
	return best
}

// due returns the due time of m, the rule that gave it (when text) and a
// warning; ok is false when m has no deadline, or its deadline waits for a
// milestone not yet done (rule then says what it waits for).
func (r Rules) due(f Facts, m Milestone, cal *Calendar, loc *time.Location, text bool) (due time.Time, rule, warning string, ok bool) {
	say := func(format string, args ...any) string {
		if !text {
			return ""
		}
		return fmt.Sprintf(format, args...)
	}
	after := func(prev Milestone) (time.Time, bool) {
		mk, done := f.Done[prev]
		if !done || mk.NA {
			return time.Time{}, false
		}
		return mk.At, true
	}
	minutes := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	switch {
	case m == OnSite:
		return f.OrderedAt.Add(minutes(r.OnSiteMinutes)), say("%d min after the order", r.OnSiteMinutes), "", true
	case m == Barriers:
		t, ok := after(OnSite)
		return t.Add(minutes(r.BarriersMinutes)), say("%d min after arrival on site", r.BarriersMinutes), "", ok
	case m == ValvesClosed && f.Kind == Emergency:
		h := r.StopSmallHours
		if f.LeakDN >= r.StopLargeDN {
			h = r.StopLargeHours
		}
		if text {
			why := fmt.Sprintf("DN%d < %d", f.LeakDN, r.StopLargeDN)
			if f.LeakDN >= r.StopLargeDN {
				why = fmt.Sprintf("DN%d ≥ %d", f.LeakDN, r.StopLargeDN)
			} else if f.LeakDN <= 0 {
				why = fmt.Sprintf("DN unknown, counted as below %d", r.StopLargeDN)
			}
			rule = fmt.Sprintf("%d h after the order (leaking pipe %s)", h, why)
		}
		return f.OrderedAt.Add(time.Duration(h) * time.Hour), rule, "", true
	case m == ValvesReopened && f.Kind == Planned:
		t, ok := after(QualityPassed)
		if ok && t.Add(minutes(r.ReopenMinutes)).Before(f.PlannedEnd) {
			return t.Add(minutes(r.ReopenMinutes)), say("%d min after the quality pass", r.ReopenMinutes), "", true
		}
		return f.PlannedEnd, say("the announced restore time"), "", true
	case m == ValvesReopened:
		t, ok := after(QualityPassed)
		return t.Add(minutes(r.ReopenMinutes)), say("%d min after the quality pass", r.ReopenMinutes), "", ok
	case m == Callback:
		t, ok := after(ValvesReopened)
		rule = say("%d min after the valves are reopened", r.CallbackMinutes)
		if !ok {
			return t, rule, "", false
		}
		d := t.Add(minutes(r.CallbackMinutes))
		if f.CallbackAtNight {
			return d, rule + say("; the customer asked to be called at night"), "", true
		}
		if q, moved := r.outOfQuietHours(d, loc); moved {
			return q, rule + say(", moved out of the quiet hours %s–%s", r.QuietFrom, r.QuietUntil), "", true
		}
		return d, rule, "", true
	case m == RoadNotice:
		t, ok := after(SiteRestored)
		rule = say("end of the %d%s working day after the site is restored (%s calendar)", r.RoadNoticeWorkingDays, ordinal(r.RoadNoticeWorkingDays), r.Calendar)
		if !ok {
			return t, rule, "", false
		}
		d, w := cal.AddWorkingDays(t, r.RoadNoticeWorkingDays, loc)
		return d, rule, w, true
	case m == NoticePosted:
		return f.PlannedStart.Add(-time.Duration(f.NoticeLeadHours) * time.Hour), say("%d h before the shutoff starts", f.NoticeLeadHours), "", true
	case m == Closed && !f.Deadline.IsZero():
		return f.Deadline, say("the work order's deadline"), "", true
	}
	return time.Time{}, "", "", false
}

// outOfQuietHours moves t, read in loc, out of the quiet hours: a time
// strictly after QuietFrom and strictly before QuietUntil becomes the next
// QuietUntil. It reports whether t moved.
func (r Rules) outOfQuietHours(t time.Time, loc *time.Location) (time.Time, bool) {
	from, err1 := clockMinutes(r.QuietFrom)
	until, err2 := clockMinutes(r.QuietUntil)
	if err1 != nil || err2 != nil || from == until {
		return t, false
	}
	lt := t.In(loc)
	at := func(dayOffset, min int) time.Time {
		return time.Date(lt.Year(), lt.Month(), lt.Day()+dayOffset, min/60, min%60, 0, 0, loc)
	}
	fromT, untilT := at(0, from), at(0, until)
	if from > until { // across midnight: 22:00–08:30
		if lt.After(fromT) {
			return at(1, until), true
		}
		if lt.Before(untilT) {
			return untilT, true
		}
		return t, false
	}
	if lt.After(fromT) && lt.Before(untilT) {
		return untilT, true
	}
	return t, false
}

func ordinal(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}
