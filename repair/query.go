package repair

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// jobSelect reads a job; its recorded milestones are read by addMarks,
// the plan only where asked.
const jobSelect = `SELECT j.id, j.kind, j.status, j.ordered_at, j.created_at, j.created_by,
	j.source, j.address, j.contact, j.reporter, j.content, j.fault_category, j.responsible_unit, j.deadline,
	j.customer_contact_time, j.callback_at_night, j.pipe_id, j.leak_at, j.leak_dn, j.district, j.lon, j.lat,
	j.planned_start, j.planned_end, j.reason, j.notice_lead_hours, j.conflict_accepted, j.network_version,
	j.valves, j.n_customers, j.households, j.failed_valves, j.holding, j.closed_at, j.cancel_reason`

const jobFrom = ` FROM repair_jobs j`

// scanJob reads a row of jobSelect (plus extra destinations) into a Job
// with its Facts but no milestones yet; times are left as read.
func scanJob(row pgx.Row, extra ...any) (*Job, error) {
	var (
		jb                       Job
		kind                     string
		plannedStart, plannedEnd *time.Time
		reason                   string
	)
	dest := []any{&jb.ID, &kind, &jb.Status, &jb.OrderedAt, &jb.CreatedAt, &jb.CreatedBy,
		&jb.Order.Source, &jb.Order.Address, &jb.Order.Contact, &jb.Order.Reporter, &jb.Order.Content, &jb.Order.FaultCategory,
		&jb.Order.ResponsibleUnit, &jb.Order.Deadline, &jb.Order.CustomerContactTime, &jb.CallbackAtNight,
		&jb.Leak.Pipe, &jb.Leak.At, &jb.Leak.DN, &jb.District, &jb.Leak.Lon, &jb.Leak.Lat,
		&plannedStart, &plannedEnd, &reason, &jb.NoticeLeadHours, &jb.ConflictAccepted, &jb.NetworkVersion,
		&jb.Valves, &jb.Customers, &jb.Households, &jb.FailedValves, &jb.Holding, &jb.ClosedAt, &jb.CancelReason}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	jb.Kind = Kind(kind)
	if plannedStart != nil && plannedEnd != nil {
		jb.Planned = &Window{Start: *plannedStart, End: *plannedEnd, Reason: reason}
	}
	f := Facts{Kind: jb.Kind, OrderedAt: jb.OrderedAt, LeakDN: jb.Leak.DN, CallbackAtNight: jb.CallbackAtNight,
		NoticeLeadHours: jb.NoticeLeadHours, Done: map[Milestone]Mark{}}
	if jb.Planned != nil {
		f.PlannedStart, f.PlannedEnd = jb.Planned.Start, jb.Planned.End
	}
	if jb.Order.Deadline != nil {
		f.Deadline = *jb.Order.Deadline
	}
	jb.facts = f
	return &jb, nil
}

// addMarks reads the recorded milestones of jobs into their facts.
func addMarks(ctx context.Context, q querier, jobs []*Job) error {
	if len(jobs) == 0 {
		return nil
	}
	byID := make(map[int64]*Job, len(jobs))
	ids := make([]int64, len(jobs))
	for i, jb := range jobs {
		byID[jb.ID], ids[i] = jb, jb.ID
	}
	rows, err := q.Query(ctx, "SELECT job_id, milestone, at, not_applicable FROM repair_milestones WHERE job_id = ANY($1)", ids)
	if err != nil {
		return fmt.Errorf("repair: read milestones: %w", err)
	}
	defer rows.Close()
	var id int64
	var m string
	var mk Mark
	for rows.Next() {
		if err := rows.Scan(&id, &m, &mk.At, &mk.NA); err != nil {
			return fmt.Errorf("repair: read milestones: %w", err)
		}
		byID[id].facts.Done[Milestone(m)] = mk
	}
	return rows.Err()
}

// finish computes the job's deadlines at now and shows its times in the
// utility's zone; withTimeline keeps the whole timeline.
func (j *Jobs) finish(jb *Job, cal *Calendar, now time.Time, withTimeline bool) {
	jb.Overdue = []Milestone{}
	if withTimeline {
		jb.Timeline = j.rules.Timeline(jb.facts, cal, j.tz, now)
	}
	if jb.Status == "open" {
		next, overdue := j.rules.Status(jb.facts, cal, j.tz, now)
		jb.Next = next
		for _, d := range overdue {
			jb.Overdue = append(jb.Overdue, d.Milestone)
		}
	}
	loc := func(t *time.Time) {
		if t != nil {
			*t = t.In(j.tz)
		}
	}
	loc(&jb.OrderedAt)
	loc(&jb.CreatedAt)
	loc(jb.Order.Deadline)
	loc(jb.ClosedAt)
	if jb.Planned != nil {
		loc(&jb.Planned.Start)
		loc(&jb.Planned.End)
	}
}

func notFound(id int64) error {
	return gis.Errorf(gis.NotFound, "job.not_found", "repair job %d does not exist", id)
}

// Get returns job id at now with its whole record: timeline (with who,
// note, photo of each milestone), plan, valve failures, escalations,
// conflicts (planned shutoffs) and what to do with its valves now.
// Errors: NotFound.
func (j *Jobs) Get(ctx context.Context, id int64, now time.Time) (*Job, error) {
	var plan []byte
	jb, err := scanJob(j.pool.QueryRow(ctx, jobSelect+", j.plan"+jobFrom+" WHERE j.id = $1", id), &plan)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("repair: get job %d: %w", id, err)
	}
	jb.Plan = plan
	if err := addMarks(ctx, j.pool, []*Job{jb}); err != nil {
		return nil, err
	}
	cal, err := j.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	j.finish(jb, cal, now, true)
	if err := j.fillRecords(ctx, jb); err != nil {
		return nil, err
	}
	if jb.Failures, err = j.failures(ctx, id); err != nil {
		return nil, err
	}
	if jb.Escalations, err = j.Escalations(ctx, EscalationFilter{JobID: id}); err != nil {
		return nil, err
	}
	if jb.Kind == Planned && jb.Status == "open" {
		if jb.Conflicts, err = j.conflicts(ctx, j.pool, id, jb.facts.PlannedStart, jb.facts.PlannedEnd, jb.Valves, nil); err != nil {
			return nil, err
		}
	}
	if jb.Status == "open" {
		if jb.ValveActions, err = j.valveActions(ctx, j.pool, jb); err != nil {
			return nil, err
		}
	}
	return jb, nil
}

// fillRecords adds who, note, photo and the recording time to the
// timeline's recorded steps.
func (j *Jobs) fillRecords(ctx context.Context, jb *Job) error {
	rows, err := j.pool.Query(ctx, `SELECT milestone, recorded_at, recorded_by, note, photo_url, photo IS NOT NULL
		FROM repair_milestones WHERE job_id = $1`, jb.ID)
	if err != nil {
		return fmt.Errorf("repair: job %d milestones: %w", jb.ID, err)
	}
	defer rows.Close()
	byM := map[Milestone]int{}
	for i, s := range jb.Timeline {
		byM[s.Milestone] = i
	}
	for rows.Next() {
		var m, by, note, url string
		var rec time.Time
		var stored bool
		if err := rows.Scan(&m, &rec, &by, &note, &url, &stored); err != nil {
			return fmt.Errorf("repair: job %d milestones: %w", jb.ID, err)
		}
		i, ok := byM[Milestone(m)]
		if !ok {
			continue
		}
		s := &jb.Timeline[i]
		r := rec.In(j.tz)
		s.By, s.Note, s.RecordedAt, s.Photo = by, note, &r, url
		if stored {
			s.Photo = fmt.Sprintf("/api/repair/jobs/%d/milestones/%s/photo", jb.ID, m)
		}
	}
	return rows.Err()
}

func (j *Jobs) failures(ctx context.Context, id int64) ([]ValveFailure, error) {
	rows, err := j.pool.Query(ctx, `SELECT valve, at, recorded_at, recorded_by, note, extra_valves, extra_customers, extra_households
		FROM repair_valve_failures WHERE job_id = $1 ORDER BY at, valve`, id)
	if err != nil {
		return nil, fmt.Errorf("repair: job %d failures: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ValveFailure, error) {
		var f ValveFailure
		err := r.Scan(&f.Valve, &f.At, &f.RecordedAt, &f.By, &f.Note, &f.ExtraValves, &f.ExtraCustomers, &f.ExtraHouseholds)
		f.At, f.RecordedAt = f.At.In(j.tz), f.RecordedAt.In(j.tz)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("repair: job %d failures: %w", id, err)
	}
	return out, nil
}

// Filter selects jobs for List. Empty fields match everything.
type Filter struct {
	Status   string // open, closed, cancelled
	District string
	Kind     Kind
	Overdue  bool // only open jobs with a milestone past due
	Limit    int  // default 100, at most 1000
	Offset   int
}

// JobList is a page of jobs and how many matched.
type JobList struct {
	Jobs  []*Job `json:"jobs"`
	Total int    `json:"total"`
}

// List returns jobs matching f at now, each with its next deadline and
// overdue milestones. Open jobs (status open, or overdue) come soonest
// deadline first; others newest order first. Errors: Invalid filter.
func (j *Jobs) List(ctx context.Context, f Filter, now time.Time) (*JobList, error) {
	switch f.Status {
	case "", "open", "closed", "cancelled":
	default:
		return nil, gis.Errorf(gis.Invalid, "filter.status", "status %q: use open, closed or cancelled", f.Status)
	}
	switch f.Kind {
	case "", Emergency, Planned:
	default:
		return nil, gis.Errorf(gis.Invalid, "filter.kind", "kind %q: use emergency or planned", f.Kind)
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > 1000 || f.Offset < 0 {
		return nil, gis.Errorf(gis.Invalid, "filter.page", "limit must be within [1, 1000] and offset not negative")
	}
	if f.Overdue {
		if f.Status != "" && f.Status != "open" {
			return nil, gis.Errorf(gis.Invalid, "filter.overdue", "only open jobs are overdue")
		}
		f.Status = "open"
	}
	cal, err := j.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	where := ` WHERE ($1 = '' OR j.status = $1) AND ($2 = '' OR j.district = $2) AND ($3 = '' OR j.kind = $3)`
	args := []any{f.Status, f.District, string(f.Kind)}
	if f.Status != "open" {
		var total int
		if err := j.pool.QueryRow(ctx, "SELECT count(*) FROM repair_jobs j"+where, args...).Scan(&total); err != nil {
			return nil, fmt.Errorf("repair: list jobs: %w", err)
		}
		jobs, err := j.query(ctx, jobSelect+jobFrom+where+" ORDER BY j.ordered_at DESC, j.id DESC LIMIT $4 OFFSET $5", append(args, f.Limit, f.Offset)...)
		if err != nil {
			return nil, err
		}
		for _, jb := range jobs {
			j.finish(jb, cal, now, false)
		}
		return &JobList{Jobs: jobs, Total: total}, nil
	}
	// Open jobs are few (hundreds): compute every deadline, then page.
	jobs, err := j.query(ctx, jobSelect+jobFrom+where, args...)
	if err != nil {
		return nil, err
	}
	kept := jobs[:0]
	for _, jb := range jobs {
		j.finish(jb, cal, now, false)
		if !f.Overdue || len(jb.Overdue) > 0 {
			kept = append(kept, jb)
		}
	}
	sort.SliceStable(kept, func(a, b int) bool {
		na, nb := kept[a].Next, kept[b].Next
		switch {
		case na != nil && nb != nil && !na.Due.Equal(*nb.Due):
			return na.Due.Before(*nb.Due)
		case (na == nil) != (nb == nil):
			return na != nil
		}
		return kept[a].ID < kept[b].ID
	})
	out := &JobList{Total: len(kept), Jobs: []*Job{}}
	if f.Offset < len(kept) {
		out.Jobs = kept[f.Offset:min(len(kept), f.Offset+f.Limit)]
	}
	return out, nil
}

// query reads the jobs of a jobSelect+jobFrom query.
func (j *Jobs) query(ctx context.Context, sql string, args ...any) ([]*Job, error) {
	rows, err := j.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("repair: list jobs: %w", err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		jb, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("repair: list jobs: %w", err)
		}
		out = append(out, jb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repair: list jobs: %w", err)
	}
	rows.Close()
	if err := addMarks(ctx, j.pool, out); err != nil {
		return nil, err
	}
	return out, nil
}
