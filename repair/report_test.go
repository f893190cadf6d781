package repair

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// TestReport: on-time rates per milestone and month, the month being the
// due time's in the utility's zone (a job ordered on 31 January at 23:45
// is due on site in February).
func TestReport(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx := context.Background()
	open := func(at string, onSiteAfter time.Duration) *Job {
		t0 := fx.at(t, at)
		req := emergency("2061")
		req.OrderedAt = &t0
		jb := fx.open(t, req, t0)
		fx.record(t, jb.ID, Dispatched, t0.Add(time.Minute), t0.Add(onSiteAfter))
		if onSiteAfter > 0 {
			fx.record(t, jb.ID, OnSite, t0.Add(onSiteAfter), t0.Add(onSiteAfter))
		}
		return jb
	}
	open("2026-01-10 10:00", 20*time.Minute) // on time
	open("2026-01-12 10:00", 45*time.Minute) // late
	open("2026-01-31 23:45", 0)              // on site due 1 Feb 00:15: overdue, in February
	c := open("2026-01-20 10:00", 10*time.Minute)
	fx.jobs.Cancel(ctx, c.ID, "x", "opened twice", fx.at(t, "2026-01-20 10:20")) //nolint:errcheck // cancelled: not counted

	now := fx.at(t, "2026-02-05 12:00")
	rep, err := fx.jobs.Report(ctx, "2026-01", "2026-02", now)
	if err != nil {
		t.Fatal(err)
	}
	row := func(month string, m Milestone) ReportRow {
		for _, r := range rep.Rows {
			if r.Month == month && r.Milestone == m && r.Kind == Emergency {
				return r
			}
		}
		return ReportRow{}
	}
	if r := row("2026-01", OnSite); r.Due != 2 || r.OnTime != 1 || r.Late != 1 || r.Overdue != 0 || r.OnTimeRate == nil || *r.OnTimeRate != 0.5 {
		t.Errorf("January on site: %+v", r)
	}
	if r := row("2026-02", OnSite); r.Due != 1 || r.Overdue != 1 || *r.OnTimeRate != 0 {
		t.Errorf("February on site: %+v", r)
	}
	// Barriers: due 30 min after arrival; neither recorded, both overdue.
	if r := row("2026-01", Barriers); r.Due != 2 || r.Overdue != 2 {
		t.Errorf("January barriers: %+v", r)
	}
	if len(rep.Months) != 2 || rep.From != "2026-01" || rep.To != "2026-02" {
		t.Errorf("months: %+v", rep)
	}
	for _, bad := range [][2]string{{"2026-13", ""}, {"2026-03", "2026-01"}, {"2020-01", "2026-01"}} {
		_, err := fx.jobs.Report(ctx, bad[0], bad[1], now)
		var ge *gis.Error
		if !errors.As(err, &ge) || ge.Kind != gis.Invalid {
			t.Errorf("report %v: %v", bad, err)
		}
	}
}
