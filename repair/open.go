package repair

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
)

// OpenRequest opens a repair job (kind emergency: a leak) or a planned
// shutoff (kind planned: maintenance, the connection of a new main).
type OpenRequest struct {
	Kind Kind `json:"kind"` // default emergency
	// Leak is where to isolate: a pipe (map click, pipe id) or a point
	// (an address with coordinates), with any valves known to be broken.
	Leak  PlanRequest `json:"leak"`
	Order WorkOrder   `json:"order"`
	// OrderedAt is when the repair order came in (default: now); the
	// deadlines count from it. Planned shutoffs count from now.
	OrderedAt *time.Time `json:"ordered_at,omitempty"`
	By        string     `json:"by"`
	// CallbackAtNight: the customer asked to be called back even at night.
	CallbackAtNight bool `json:"callback_at_night,omitempty"`
	// Planned is the window and reason of a planned shutoff.
	Planned *Window `json:"planned,omitempty"`
	// AcceptConflict opens a planned shutoff that conflicts with another
	// (the conflict stays flagged on both).
	AcceptConflict bool `json:"accept_conflict,omitempty"`
}

// maxText bounds every free-text field.
const maxText = 2000

func checkText(fields map[string]string) error {
	for name, v := range fields {
		if len(v) > maxText {
			return gis.Errorf(gis.Invalid, "text.too_long", "%s is longer than %d bytes", name, maxText)
		}
	}
	return nil
}

// validate checks req at now and fills its defaults.
func (j *Jobs) validate(req *OpenRequest, now time.Time) error {
	if req.Kind == "" {
		req.Kind = Emergency
	}
	o := &req.Order
	if err := checkText(map[string]string{"by": req.By, "source": o.Source, "address": o.Address, "contact": o.Contact,
		"reporter": o.Reporter, "content": o.Content, "fault_category": o.FaultCategory, "responsible_unit": o.ResponsibleUnit,
		"customer_contact_time": o.CustomerContactTime}); err != nil {
		return err
	}
	if strings.TrimSpace(req.By) == "" {
		return gis.Errorf(gis.Invalid, "job.by", "say who opens the job (by)")
	}
	switch req.Kind {
	case Emergency:
		if req.Planned != nil {
			return gis.Errorf(gis.Invalid, "job.planned_window", "an emergency job has no planned window; use kind planned")
		}
		if strings.TrimSpace(o.Source) == "" || strings.TrimSpace(o.Content) == "" {
			return gis.Errorf(gis.Invalid, "order.incomplete", "a work order needs at least its information source and content (§4)")
		}
		if req.OrderedAt == nil {
			req.OrderedAt = &now
		}
		if req.OrderedAt.After(now.Add(j.rules.skew())) {
			return gis.Errorf(gis.Invalid, "job.ordered_in_future", "ordered_at %s is in the future", fmtTime(req.OrderedAt.In(j.tz)))
		}
	case Planned:
		w := req.Planned
		if w == nil || w.Start.IsZero() || w.End.IsZero() {
			return gis.Errorf(gis.Invalid, "planned.window", "a planned shutoff needs planned.start and planned.end (RFC 3339)")
		}
		if !w.End.After(w.Start) {
			return gis.Errorf(gis.Invalid, "planned.window", "the planned end must be after its start")
		}
		if w.Start.Before(now.Add(-j.rules.skew())) {
			return gis.Errorf(gis.Invalid, "planned.past", "the planned start %s is in the past", fmtTime(w.Start.In(j.tz)))
		}
		if strings.TrimSpace(w.Reason) == "" || len(w.Reason) > maxText {
			return gis.Errorf(gis.Invalid, "planned.reason", "a planned shutoff needs a reason (at most %d bytes)", maxText)
		}
		if req.OrderedAt != nil {
			return gis.Errorf(gis.Invalid, "planned.ordered_at", "a planned shutoff counts from its creation; leave ordered_at out")
		}
		req.OrderedAt = &now
	default:
		return gis.Errorf(gis.Invalid, "job.kind", "kind %q: use emergency or planned", req.Kind)
	}
	if o.Deadline != nil && !o.Deadline.After(*req.OrderedAt) {
		return gis.Errorf(gis.Invalid, "order.deadline", "the work order's deadline must be after the order")
	}
	return nil
}

// Open validates req, plans the shutoff on the live network (seeing the
// valves other jobs hold closed), and stores the job with its plan. A
// planned shutoff overlapping another open one in time and sharing valves
// or customers is refused unless AcceptConflict; it gets its notice, with
// the customers who would get too little of it. Errors: Invalid (request,
// leak), NotFound (pipe, valve), Conflict (planned overlap),
// Unavailable (no network).
func (j *Jobs) Open(ctx context.Context, req OpenRequest, now time.Time) (*Job, error) {
	if err := j.validate(&req, now); err != nil {
		return nil, err
	}
	plan, valves, err := j.plan(ctx, req.Leak, 0)
	if err != nil {
		return nil, err
	}
	var custs []store.CustomerInfo
	lead := 0
	if req.Kind == Planned {
		if custs, err = j.st.Customers(ctx, plan.Customers); err != nil {
			return nil, err
		}
		lead = noticeLead(j.planner.NoticeRules, custs)
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, fmt.Errorf("repair: encode plan: %w", err)
	}
	var id int64
	err = j.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(valveLock)); err != nil {
			return err
		}
		var district string
		if err := tx.QueryRow(ctx, "SELECT district FROM pipes WHERE id = $1", plan.Leak.Pipe).Scan(&district); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var start, end *time.Time
		reason, accepted := "", false
		if w := req.Planned; w != nil {
			start, end, reason = &w.Start, &w.End, w.Reason
			cs, err := j.conflicts(ctx, tx, 0, w.Start, w.End, valves, nonNil(plan.Customers))
			if err != nil {
				return err
			}
			if len(cs) > 0 && !req.AcceptConflict {
				return conflictError(cs)
			}
			accepted = len(cs) > 0
		}
		o := req.Order
		return tx.QueryRow(ctx, `INSERT INTO repair_jobs (kind, ordered_at, created_at, created_by, source, address, contact, reporter,
			content, fault_category, responsible_unit, deadline, customer_contact_time, callback_at_night, pipe_id, leak_at, leak_dn,
			district, lon, lat, planned_start, planned_end, reason, notice_lead_hours, conflict_accepted, network_version, plan,
			valves, customers, households)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
			$25, $26, $27, $28, $29, $30) RETURNING id`,
			string(req.Kind), *req.OrderedAt, now, req.By, o.Source, o.Address, o.Contact, o.Reporter, o.Content, o.FaultCategory,
			o.ResponsibleUnit, o.Deadline, o.CustomerContactTime, req.CallbackAtNight, plan.Leak.Pipe, plan.Leak.At, plan.Leak.DN,
			district, plan.Leak.Lon, plan.Leak.Lat, start, end, reason, lead, accepted, plan.NetworkVersion, planJSON,
			valves, nonNil(plan.Customers), plan.Households).Scan(&id)
	})
	if err != nil {
		return nil, wrapUser(err, "repair: open job")
	}
	j.log.Info("repair job opened", "job", id, "kind", req.Kind, "pipe", plan.Leak.Pipe, "valves", len(valves), "customers", len(plan.Customers))
	jb, err := j.Get(ctx, id, now)
	if err != nil {
		return nil, err
	}
	if w := req.Planned; w != nil {
		n := MakeNotice(j.planner.NoticeRules, NoticeRequest{Reason: w.Reason, Start: w.Start, Restore: w.End, Planned: true, IssuedAt: now}, custs, j.tz)
		jb.Notice = &n
	}
	return jb, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// noticeLead is the notice a planned shutoff needs: the longest any of
// its customers needs (§2, §5).
func noticeLead(r NoticeRules, custs []store.CustomerInfo) int {
	crit := map[string]bool{}
	for _, c := range r.CriticalCategories {
		crit[c] = true
	}
	lead := r.LeadHours
	for _, c := range custs {
		if crit[c.Category] && r.CriticalLeadHours > lead {
			lead = r.CriticalLeadHours
		}
	}
	return lead
}

func conflictError(cs []Conflict) error {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("job %d (%s – %s; valves %v, %d customers in common)", c.JobID,
			c.Start.Format("2006-01-02 15:04"), c.End.Format("2006-01-02 15:04"), c.SharedValves, c.SharedCustomers)
	}
	return gis.Errorf(gis.Conflict, "planned.conflict", "this planned shutoff overlaps %s; move it, or open it with accept_conflict", strings.Join(parts, ", "))
}
