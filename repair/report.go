package repair

import (
	"context"
	"encoding/csv"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// ReportRow is the on-time figure of one milestone of one job kind in one
// month (the month its due time falls in, in the utility's zone).
type ReportRow struct {
	Month     string    `json:"month"` // YYYY-MM
	Kind      Kind      `json:"kind"`
	Milestone Milestone `json:"milestone"`
	Label     string    `json:"label"`
	// Due counts the deadlines that fell due by now: met (OnTime), missed
	// and recorded later (Late), or missed and still not recorded
	// (Overdue). Milestones recorded as not applicable do not count.
	Due     int `json:"due"`
	OnTime  int `json:"on_time"`
	Late    int `json:"late"`
	Overdue int `json:"overdue"`
	// OnTimeRate is OnTime/Due, rounded to 0.001; nil when nothing fell due.
	OnTimeRate *float64 `json:"on_time_rate"`
}

// Report is the on-time rates per milestone and month: the figure a
// utility's management is judged by.
type Report struct {
	From        string      `json:"from"` // YYYY-MM, inclusive
	To          string      `json:"to"`   // YYYY-MM, inclusive
	GeneratedAt time.Time   `json:"generated_at"`
	Months      []string    `json:"months"`
	Rows        []ReportRow `json:"rows"`
}

// maxReportMonths bounds a report.
const maxReportMonths = 36

// Report computes the on-time report for the months from..to (YYYY-MM,
// inclusive, in the utility's zone; empty: the last 12 months up to now's)
// at now, from every job not cancelled. Rows come by month, kind, then the
// milestones' order. Errors: Invalid months.
func (j *Jobs) Report(ctx context.Context, from, to string, now time.Time) (*Report, error) {
	lnow := now.In(j.tz)
	cur := time.Date(lnow.Year(), lnow.Month(), 1, 0, 0, 0, 0, j.tz)
	parse := func(s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		t, err := time.ParseInLocation("2006-01", s, j.tz)
		if err != nil {
			return t, gis.Errorf(gis.Invalid, "report.month", "%q is not a month YYYY-MM", s)
		}
		return t, nil
	}
	start, err := parse(from, cur.AddDate(0, -11, 0))
	if err != nil {
		return nil, err
	}
	last, err := parse(to, cur)
	if err != nil {
		return nil, err
	}
	end := last.AddDate(0, 1, 0)
	if !end.After(start) || end.After(start.AddDate(0, maxReportMonths, 0)) {
		return nil, gis.Errorf(gis.Invalid, "report.months", "from must not be after to, and a report spans at most %d months", maxReportMonths)
	}
	cal, err := j.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	// A deadline falls due at most a couple of months after its order (the
	// road notice of a long job); a planned notice may fall due before it.
	jobs, err := j.query(ctx, jobSelect+jobFrom+` WHERE j.status <> 'cancelled' AND j.ordered_at >= $1 AND j.ordered_at < $2`,
		start.AddDate(0, -2, 0), end.AddDate(0, 1, 0))
	if err != nil {
		return nil, err
	}
	rep := &Report{From: start.Format("2006-01"), To: last.Format("2006-01"), GeneratedAt: lnow, Rows: []ReportRow{}}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		rep.Months = append(rep.Months, m.Format("2006-01"))
	}
	type key struct {
		month string
		kind  Kind
		m     Milestone
	}
	rows := map[key]*ReportRow{}
	order := map[Milestone]int{}
	for _, k := range []Kind{Emergency, Planned} {
		for i, m := range Milestones(k) {
			if _, ok := order[m]; !ok {
				order[m] = i
			}
		}
	}
	for _, jb := range jobs {
		for _, s := range j.rules.Timeline(jb.facts, cal, j.tz, now) {
			if s.Due == nil || s.Due.Before(start) || !s.Due.Before(end) {
				continue
			}
			if s.State != StateDone && s.State != StateLate && s.State != StateOverdue {
				continue
			}
			k := key{s.Due.Format("2006-01"), jb.Kind, s.Milestone}
			r := rows[k]
			if r == nil {
				r = &ReportRow{Month: k.month, Kind: k.kind, Milestone: k.m, Label: s.Label}
				rows[k] = r
			}
			r.Due++
			switch s.State {
			case StateDone:
				r.OnTime++
			case StateLate:
				r.Late++
			case StateOverdue:
				r.Overdue++
			}
		}
	}
	for _, r := range rows {
		v := math.Round(float64(r.OnTime)/float64(r.Due)*1000) / 1000
		r.OnTimeRate = &v
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(a, b int) bool {
		ra, rb := rep.Rows[a], rep.Rows[b]
		if ra.Month != rb.Month {
			return ra.Month < rb.Month
		}
		if ra.Kind != rb.Kind {
			return ra.Kind < rb.Kind
		}
		return order[ra.Milestone] < order[rb.Milestone]
	})
	return rep, nil
}

// WriteCSV writes the report for Excel: UTF-8 with a byte-order mark, a
// bilingual header, one row per month, kind and milestone, the on-time
// rate as a percentage. Every cell is the report's own text or a number.
func (rep *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"月份 month", "类型 kind", "节点 milestone", "说明 label", "应完成 due", "按时 on time",
		"超时完成 late", "逾期未完成 overdue", "按时率 on-time rate"}); err != nil {
		return err
	}
	for _, row := range rep.Rows {
		rate := ""
		if row.OnTimeRate != nil {
			rate = strconv.FormatFloat(*row.OnTimeRate*100, 'f', 1, 64) + "%"
		}
		if err := cw.Write([]string{row.Month, string(row.Kind), string(row.Milestone), row.Label, strconv.Itoa(row.Due),
			strconv.Itoa(row.OnTime), strconv.Itoa(row.Late), strconv.Itoa(row.Overdue), rate}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
