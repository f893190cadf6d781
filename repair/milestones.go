package repair

import (
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// Kind is what a job is: an emergency repair or a planned shutoff.
type Kind string

const (
	Emergency Kind = "emergency" // a leak: §3 emergency repair
	Planned   Kind = "planned"   // maintenance, connection of a new main: §2 planned shutoff
)

// Milestone is one step of a job.
type Milestone string

// The milestones of §3 (emergency) and of a planned shutoff.
const (
	Dispatched     Milestone = "dispatched"      // crew dispatched
	OnSite         Milestone = "on_site"         // crew on site
	Barriers       Milestone = "barriers"        // barriers, warning signs, lighting in place
	Approved       Milestone = "approved"        // shutoff approved by the dispatch centre
	NoticePosted   Milestone = "notice_posted"   // planned: shutoff notice given to customers
	ValvesClosed   Milestone = "valves_closed"   // valves closed, water stopped
	Repaired       Milestone = "repaired"        // repaired (planned: work done)
	QualityPassed  Milestone = "quality_passed"  // flushed, disinfected, water quality passed
	ValvesReopened Milestone = "valves_reopened" // valves reopened
	Callback       Milestone = "callback"        // customers called back
	SiteRestored   Milestone = "site_restored"   // backfilled, spoil cleared, road cleaned
	RoadNotice     Milestone = "road_notice"     // written road-surface notice to the municipal authority
	Closed         Milestone = "closed"          // job closed
)

// step describes a milestone of a job kind: what must be recorded before
// it (and why), and whether it may be recorded as not applicable.
type step struct {
	m        Milestone
	label    string
	labelZH  string
	requires []Milestone
	why      string // the reason shown when a requirement is missing
	optional bool   // may be recorded as not applicable
}

var emergencySteps = []step{
	{m: Dispatched, label: "crew dispatched", labelZH: "派单出发"},
	{m: OnSite, label: "crew on site", labelZH: "到达现场", requires: []Milestone{Dispatched}, why: "the crew must be dispatched before it arrives"},
	{m: Barriers, label: "barriers and warning signs in place", labelZH: "围挡警示到位", requires: []Milestone{OnSite}, why: "barriers are put up by the crew on site"},
	{m: Approved, label: "shutoff approved by the dispatch centre", labelZH: "调度中心批准关阀", requires: []Milestone{Dispatched}, why: "a shutoff is approved for a dispatched job"},
	{m: ValvesClosed, label: "valves closed, water stopped", labelZH: "关阀停水", requires: []Milestone{Approved, OnSite}, why: "no valve may be operated before the dispatch centre approves the shutoff (§3.4), and by a crew on site"},
	{m: Repaired, label: "repaired", labelZH: "抢修完成", requires: []Milestone{ValvesClosed}, why: "the repair follows the shutoff"},
	{m: QualityPassed, label: "flushed, water quality passed", labelZH: "冲洗消毒水质合格", requires: []Milestone{Repaired}, why: "the pipe is flushed and tested after the repair"},
	{m: ValvesReopened, label: "valves reopened", labelZH: "开阀通水", requires: []Milestone{QualityPassed}, why: "valves are reopened only after the water quality passes (§3.6)"},
	{m: Callback, label: "customers called back", labelZH: "用户回访", requires: []Milestone{ValvesReopened}, why: "customers are called once the water is back", optional: true},
	{m: SiteRestored, label: "site restored", labelZH: "现场恢复", requires: []Milestone{Repaired}, why: "the site is restored after the repair", optional: true},
	{m: RoadNotice, label: "road-surface notice to the municipal authority", labelZH: "书面通知市政恢复路面", requires: []Milestone{SiteRestored}, why: "the road notice follows the restoration of the site", optional: true},
	{m: Closed, label: "closed", labelZH: "结单"},
}

var plannedSteps = []step{
	{m: Approved, label: "shutoff approved by the dispatch centre", labelZH: "调度中心批准关阀"},
	{m: NoticePosted, label: "shutoff notice given", labelZH: "停水通知到位", requires: []Milestone{Approved}, why: "the notice announces an approved shutoff"},
	{m: ValvesClosed, label: "valves closed, water stopped", labelZH: "关阀停水", requires: []Milestone{Approved, NoticePosted}, why: "no valve may be operated before the shutoff is approved and announced"},
	{m: Repaired, label: "work done", labelZH: "施工完成", requires: []Milestone{ValvesClosed}, why: "the work follows the shutoff"},
	{m: QualityPassed, label: "flushed, water quality passed", labelZH: "冲洗消毒水质合格", requires: []Milestone{Repaired}, why: "the pipe is flushed and tested after the work"},
	{m: ValvesReopened, label: "valves reopened", labelZH: "开阀通水", requires: []Milestone{QualityPassed}, why: "valves are reopened only after the water quality passes (§3.6)"},
	{m: Callback, label: "customers called back", labelZH: "用户回访", requires: []Milestone{ValvesReopened}, why: "customers are called once the water is back", optional: true},
	{m: Closed, label: "closed", labelZH: "结单"},
}

// steps returns the milestones of a job kind, in order.
func steps(k Kind) []step {
	if k == Planned {
		return plannedSteps
	}
	return emergencySteps
}

// stepOf returns the description of m for kind k.
func stepOf(k Kind, m Milestone) (step, bool) {
	for _, s := range steps(k) {
		if s.m == m {
			return s, true
		}
	}
	return step{}, false
}

// Milestones lists the milestones of a job kind, in order.
func Milestones(k Kind) []Milestone {
	ss := steps(k)
	out := make([]Milestone, len(ss))
	for i, s := range ss {
		out[i] = s.m
	}
	return out
}

// Mark is a recorded milestone as the deadline rules see it.
type Mark struct {
	At time.Time
	NA bool // recorded as not applicable
}

// checkOrder says whether m may be recorded at at, given what is recorded:
// every requirement present (done or not applicable), m not yet recorded,
// and, for Closed, every other milestone recorded. at must not be before
// the time of a requirement done (for Closed: of any milestone). Errors are
// *gis.Error: Invalid for a milestone the kind has not, else Conflict.
func checkOrder(k Kind, m Milestone, done map[Milestone]Mark, at time.Time) error {
	s, ok := stepOf(k, m)
	if !ok {
		return gis.Errorf(gis.Invalid, "milestone.not_for_kind", "a %s job has no milestone %q; it has %v", k, m, Milestones(k))
	}
	if _, dup := done[m]; dup {
		return gis.Errorf(gis.Conflict, "milestone.duplicate", "%s is already recorded on this job", m)
	}
	if m == Closed {
		var missing []Milestone
		for _, o := range steps(k) {
			if _, ok := done[o.m]; !ok && o.m != Closed {
				missing = append(missing, o.m)
			}
		}
		if len(missing) > 0 {
			return gis.Errorf(gis.Conflict, "milestone.out_of_order", "the job cannot be closed before %v are recorded", missing)
		}
		for o, mk := range done {
			if !mk.NA && at.Before(mk.At) {
				return gis.Errorf(gis.Conflict, "milestone.before_prerequisite", "closed at %s is before %s at %s", fmtTime(at), o, fmtTime(mk.At))
			}
		}
		return nil
	}
	for _, r := range s.requires {
		mk, ok := done[r]
		if !ok {
			return gis.Errorf(gis.Conflict, "milestone.out_of_order", "%s needs %s first: %s", m, r, s.why)
		}
		if !mk.NA && at.Before(mk.At) {
			return gis.Errorf(gis.Conflict, "milestone.before_prerequisite", "%s at %s is before %s at %s", m, fmtTime(at), r, fmtTime(mk.At))
		}
	}
	return nil
}

func fmtTime(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }
