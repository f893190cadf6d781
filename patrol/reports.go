package patrol

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// PipeStatus is a pipe's patrol status on a day, for colouring the map.
type PipeStatus struct {
	Pipe        string `json:"pipe"`
	District    string `json:"district"`
	Grade       string `json:"grade"`
	EveryDays   int    `json:"every_days"`
	Crossing    bool   `json:"crossing,omitempty"`
	UnknownDN   bool   `json:"unknown_dn,omitempty"`
	Status      string `json:"status"` // overdue | due | planned | ok
	Due         string `json:"due"`
	Last        string `json:"last,omitempty"`
	DaysOverdue int    `json:"days_overdue,omitempty"`
	Never       bool   `json:"never,omitempty"` // never patrolled
}

// StatusReport is every pipe's status on a day.
type StatusReport struct {
	Date     string         `json:"date"`
	District string         `json:"district,omitempty"`
	Counts   map[string]int `json:"counts"`
	Pipes    []PipeStatus   `json:"pipes"`
}

// Status values.
const (
	StatusOverdue = "overdue" // its due day has passed
	StatusDue     = "due"     // due today
	StatusPlanned = "planned" // not yet due, but today is a day of its cycle
	StatusOK      = "ok"      // not due
)

func statusName(st schedule.Status, day schedule.Day) string {
	switch {
	case st.Overdue:
		return StatusOverdue
	case st.Due == day:
		return StatusDue
	case st.Planned:
		return StatusPlanned
	}
	return StatusOK
}

// Status returns the status of every walkable pipe (of a district, or all)
// on a day. Errors: NotFound for an unknown district.
func (s *Service) Status(ctx context.Context, day schedule.Day, district string) (*StatusReport, error) {
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	var pipes []int32
	if district != "" {
		var ok bool
		if pipes, ok = c.districtPipes(district); !ok {
			return nil, gis.Errorf(gis.NotFound, "district.not_found", "district %q has no in-service pipes", district)
		}
	} else {
		for _, ps := range c.pipesOf {
			pipes = append(pipes, ps...)
		}
	}
	scope := pipes
	if district == "" {
		scope = nil
	}
	st, err := s.loadState(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	t := c.net.Topo
	rep := &StatusReport{Date: day.String(), District: district, Counts: map[string]int{StatusOverdue: 0, StatusDue: 0, StatusPlanned: 0, StatusOK: 0},
		Pipes: make([]PipeStatus, 0, len(pipes))}
	for _, p := range pipes {
		ss := c.status(st, p, day)
		cl := c.class[p]
		ps := PipeStatus{Pipe: t.PipeID.At(int(p)), District: c.dists[c.district[p]], Grade: cl.Grade, EveryDays: cl.EveryDays,
			Crossing: cl.Crossing, UnknownDN: cl.UnknownDN, Status: statusName(ss, day), Due: ss.Due.String(),
			DaysOverdue: ss.DaysOverdue, Never: ss.Never}
		if st.last[p] != schedule.NoDay {
			ps.Last = st.last[p].String()
		}
		rep.Counts[ps.Status]++
		rep.Pipes = append(rep.Pipes, ps)
	}
	return rep, nil
}

// Report is a table: Columns name the keys of every row, in order.
type Report struct {
	Kind    string           `json:"kind"`
	From    string           `json:"from,omitempty"`
	To      string           `json:"to,omitempty"`
	By      string           `json:"by,omitempty"`
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// ReportQuery selects a reporting period [From, To] (calendar days),
// grouped by day, week (ISO, from Monday) or month, per district or per
// manager.
type ReportQuery struct {
	From, To schedule.Day
	By       string // day | week | month
	Group    string // district | manager
	District string
}

func (q *ReportQuery) check() error {
	if q.By == "" {
		q.By = "day"
	}
	if q.Group == "" {
		q.Group = "district"
	}
	switch {
	case q.By != "day" && q.By != "week" && q.By != "month":
		return gis.Errorf(gis.Invalid, "report.bad_by", "by must be day, week or month, not %q", q.By)
	case q.Group != "district" && q.Group != "manager":
		return gis.Errorf(gis.Invalid, "report.bad_group", "group must be district or manager, not %q", q.Group)
	case q.To < q.From:
		return gis.Errorf(gis.Invalid, "report.bad_period", "the period ends (%s) before it starts (%s)", q.To, q.From)
	case q.To-q.From > 3660:
		return gis.Errorf(gis.Invalid, "report.bad_period", "the period is longer than ten years")
	}
	return nil
}

// CoverageReport is the coverage rate (巡檢覆蓋率: length of planned pipes
// patrolled on their plan day / length planned) and the on-time rate
// (patrol obligations — a pipe and its due day — met by a patrol within
// the interval ending on the due day / obligations falling due) per
// period and district or manager. Obligations count in the period of their
// due day, and only once that day has passed (today's are still open).
func (s *Service) CoverageReport(ctx context.Context, q ReportQuery) (*Report, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	pool := s.cfg.Store.Pool()
	type key struct {
		period   time.Time
		district string
		manager  string
	}
	type acc struct {
		planned, patrolled, due, onTime int
		plannedM, patrolledM            float64
	}
	agg := map[key]*acc{}
	get := func(k key) *acc {
		a, ok := agg[k]
		if !ok {
			a = &acc{}
			agg[k] = a
		}
		return a
	}
	rows, err := pool.Query(ctx, `SELECT date_trunc($3, pp.plan_date::timestamp)::date, pp.district,
			CASE WHEN $4 = 'manager' THEN r.manager ELSE '' END,
			count(*), sum(pp.length_m), count(d.pipe_id), coalesce(sum(pp.length_m) FILTER (WHERE d.pipe_id IS NOT NULL), 0)
		FROM patrol_plan_pipes pp JOIN patrol_routes r ON r.id = pp.route_id
		LEFT JOIN patrol_pipe_days d ON d.pipe_id = pp.pipe_id AND d.day = pp.plan_date
		WHERE pp.plan_date >= $1 AND pp.plan_date <= $2 AND ($5 = '' OR pp.district = $5)
		GROUP BY 1, 2, 3`, q.From.Time(), q.To.Time(), q.By, q.Group, q.District)
	if err != nil {
		return nil, fmt.Errorf("patrol: coverage report: %w", err)
	}
	var k key
	var n1, n2 int
	var m1, m2 float64
	if _, err := pgx.ForEachRow(rows, []any{&k.period, &k.district, &k.manager, &n1, &m1, &n2, &m2}, func() error {
		a := get(k)
		a.planned, a.plannedM, a.patrolled, a.patrolledM = n1, m1, n2, m2
		return nil
	}); err != nil {
		return nil, fmt.Errorf("patrol: coverage report: %w", err)
	}
	rows, err = pool.Query(ctx, `WITH ob AS (
			SELECT pp.pipe_id, pp.due, min(pp.every_days) AS every, min(pp.district) AS district,
				(array_agg(r.manager ORDER BY pp.plan_date))[1] AS manager
			FROM patrol_plan_pipes pp JOIN patrol_routes r ON r.id = pp.route_id
			WHERE pp.due >= $1 AND pp.due <= $2 AND pp.due < $6 AND ($5 = '' OR pp.district = $5)
			GROUP BY pp.pipe_id, pp.due)
		SELECT date_trunc($3, ob.due::timestamp)::date, ob.district, CASE WHEN $4 = 'manager' THEN ob.manager ELSE '' END,
			count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM patrol_pipe_days d
				WHERE d.pipe_id = ob.pipe_id AND d.day > ob.due - ob.every AND d.day <= ob.due))
		FROM ob GROUP BY 1, 2, 3`, q.From.Time(), q.To.Time(), q.By, q.Group, q.District, s.Today().Time())
	if err != nil {
		return nil, fmt.Errorf("patrol: on-time report: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&k.period, &k.district, &k.manager, &n1, &n2}, func() error {
		a := get(k)
		a.due, a.onTime = n1, n2
		return nil
	}); err != nil {
		return nil, fmt.Errorf("patrol: on-time report: %w", err)
	}
	keys := make([]key, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if !keys[a].period.Equal(keys[b].period) {
			return keys[a].period.Before(keys[b].period)
		}
		if keys[a].district != keys[b].district {
			return keys[a].district < keys[b].district
		}
		return keys[a].manager < keys[b].manager
	})
	rep := &Report{Kind: "coverage", From: q.From.String(), To: q.To.String(), By: q.By,
		Columns: []string{"period", "district", "manager", "planned_pipes", "planned_m", "patrolled_pipes", "patrolled_m", "coverage_rate",
			"due_pipes", "on_time_pipes", "on_time_rate"}, Rows: []map[string]any{}}
	if q.Group == "district" {
		rep.Columns = append(rep.Columns[:2], rep.Columns[3:]...)
	}
	for _, k := range keys {
		a := agg[k]
		row := map[string]any{"period": schedule.FromTime(k.period).String(), "district": k.district,
			"planned_pipes": a.planned, "planned_m": round1(a.plannedM), "patrolled_pipes": a.patrolled, "patrolled_m": round1(a.patrolledM),
			"coverage_rate": rate(a.patrolledM, a.plannedM), "due_pipes": a.due, "on_time_pipes": a.onTime,
			"on_time_rate": rate(float64(a.onTime), float64(a.due))}
		if q.Group == "manager" {
			row["manager"] = k.manager
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// OverdueReport counts the pipes overdue on a day by district and grade.
func (s *Service) OverdueReport(ctx context.Context, day schedule.Day, district string) (*Report, error) {
	st, err := s.Status(ctx, day, district)
	if err != nil {
		return nil, err
	}
	type key struct{ district, grade string }
	type acc struct {
		n, never, maxDays int
		m                 float64
	}
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	agg := map[key]*acc{}
	for _, p := range st.Pipes {
		if p.Status != StatusOverdue {
			continue
		}
		k := key{p.District, p.Grade}
		a, ok := agg[k]
		if !ok {
			a = &acc{}
			agg[k] = a
		}
		a.n++
		if q, ok := c.net.PipeIndex(p.Pipe); ok {
			a.m += c.net.Topo.PipeLen[q]
		}
		if p.Never {
			a.never++
		}
		a.maxDays = max(a.maxDays, p.DaysOverdue)
	}
	keys := make([]key, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].district != keys[b].district {
			return keys[a].district < keys[b].district
		}
		return keys[a].grade < keys[b].grade
	})
	rep := &Report{Kind: "overdue", From: day.String(), To: day.String(),
		Columns: []string{"district", "grade", "overdue_pipes", "overdue_m", "never_patrolled", "max_days_overdue"}, Rows: []map[string]any{}}
	for _, k := range keys {
		a := agg[k]
		rep.Rows = append(rep.Rows, map[string]any{"district": k.district, "grade": k.grade, "overdue_pipes": a.n,
			"overdue_m": round1(a.m), "never_patrolled": a.never, "max_days_overdue": a.maxDays})
	}
	return rep, nil
}

// AnomalyReport counts anomaly reports by period (of the day found, in the
// utility's zone), district and type, with how many were reported late.
func (s *Service) AnomalyReport(ctx context.Context, q ReportQuery) (*Report, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT date_trunc($3, found_at AT TIME ZONE $5)::date, district, type, count(*),
			count(*) FILTER (WHERE late)
		FROM patrol_anomalies WHERE found_at >= $1 AND found_at < $2 AND ($4 = '' OR district = $4)
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		q.From.Start(s.cfg.TZ), (q.To + 1).Start(s.cfg.TZ), q.By, q.District, s.cfg.TZ.String())
	if err != nil {
		return nil, fmt.Errorf("patrol: anomaly report: %w", err)
	}
	rep := &Report{Kind: "anomalies", From: q.From.String(), To: q.To.String(), By: q.By,
		Columns: []string{"period", "district", "type", "reports", "late", "late_rate"}, Rows: []map[string]any{}}
	var period time.Time
	var dist, typ string
	var n, late int
	if _, err := pgx.ForEachRow(rows, []any{&period, &dist, &typ, &n, &late}, func() error {
		rep.Rows = append(rep.Rows, map[string]any{"period": schedule.FromTime(period).String(), "district": dist, "type": typ,
			"reports": n, "late": late, "late_rate": rate(float64(late), float64(n))})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("patrol: anomaly report: %w", err)
	}
	return rep, nil
}
