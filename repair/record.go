package repair

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// RecordRequest records a milestone.
type RecordRequest struct {
	Milestone Milestone `json:"milestone"`
	// At is when it happened (default: now). It may not lie in the future
	// beyond the clock skew of the rules, nor before the order, nor before
	// the milestones it follows.
	At   *time.Time `json:"at,omitempty"`
	By   string     `json:"by"`
	Note string     `json:"note,omitempty"`
	// NotApplicable records an optional milestone (callback, site
	// restored, road notice) as not applying to this job; say why in Note.
	NotApplicable bool `json:"not_applicable,omitempty"`
	// Photo is an http(s) URL, or the photo itself as a data URL
	// (data:image/jpeg;base64,…), at most maxPhoto bytes.
	Photo string `json:"photo,omitempty"`
}

// maxPhoto bounds an uploaded photo.
const maxPhoto = 700 << 10

// photo is a parsed RecordRequest.Photo.
type photo struct {
	url   string
	data  []byte
	ctype string
}

func parsePhoto(s string) (photo, error) {
	bad := func(why string) error {
		return gis.Errorf(gis.Invalid, "milestone.photo", "photo: %s; give an http(s) URL or a data:image/jpeg|png|webp;base64 URL", why)
	}
	switch {
	case s == "":
		return photo{}, nil
	case strings.HasPrefix(s, "data:"):
		head, body, ok := strings.Cut(s[len("data:"):], ",")
		ctype, enc, _ := strings.Cut(head, ";")
		if !ok || enc != "base64" {
			return photo{}, bad("a data URL must be base64")
		}
		switch ctype {
		case "image/jpeg", "image/png", "image/webp":
		default:
			return photo{}, bad(fmt.Sprintf("type %q is not an image type taken", ctype))
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return photo{}, bad("the base64 data is broken")
		}
		if len(b) > maxPhoto {
			return photo{}, bad(fmt.Sprintf("%d bytes is more than %d", len(b), maxPhoto))
		}
		return photo{data: b, ctype: ctype}, nil
	default:
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > maxText {
			return photo{}, bad("not a URL")
		}
		return photo{url: s}, nil
	}
}

// lockJob reads job id for update in tx. Errors: NotFound; Conflict when
// the job is no longer open.
func lockJob(ctx context.Context, tx pgx.Tx, id int64) (*Job, error) {
	jb, err := scanJob(tx.QueryRow(ctx, jobSelect+jobFrom+" WHERE j.id = $1 FOR UPDATE", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("repair: job %d: %w", id, err)
	}
	if err := addMarks(ctx, tx, []*Job{jb}); err != nil {
		return nil, err
	}
	if jb.Status != "open" {
		return nil, gis.Errorf(gis.Conflict, "job.not_open", "repair job %d is %s", id, jb.Status)
	}
	return jb, nil
}

// checkAt checks a reported time: not in the future beyond the clock skew,
// not before the order. Errors: Invalid.
func (j *Jobs) checkAt(jb *Job, at, now time.Time) error {
	if at.After(now.Add(j.rules.skew())) {
		return gis.Errorf(gis.Invalid, "milestone.in_future", "%s is in the future (now %s)", fmtTime(at.In(j.tz)), fmtTime(now.In(j.tz)))
	}
	if at.Before(jb.OrderedAt) {
		return gis.Errorf(gis.Invalid, "milestone.before_order", "%s is before the job was ordered (%s)", fmtTime(at.In(j.tz)), fmtTime(jb.OrderedAt.In(j.tz)))
	}
	return nil
}

// RecordResult is the job after a milestone, and, for valves closed or
// reopened, what to do with the valves.
type RecordResult struct {
	Job *Job `json:"job"`
	// Valves, for valves_closed: the valves to close and those already
	// held closed by other jobs; for valves_reopened: the valves to open
	// and those to keep closed because another open job holds them.
	Valves *ValveActions `json:"valves,omitempty"`
}

// Record records a milestone of job id at now, enforcing the order of the
// milestones. Valves closed makes the job hold its valves closed (every
// plan sees them shut); valves reopened releases them, and the result says
// which to open: never one another open job still holds. Closed closes the
// job. Nothing is stored when an error is returned. Errors: NotFound (job),
// Invalid (milestone, time, photo), Conflict (job not open, out of order,
// duplicate).
func (j *Jobs) Record(ctx context.Context, id int64, req RecordRequest, now time.Time) (*RecordResult, error) {
	if err := checkText(map[string]string{"by": req.By, "note": req.Note}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.By) == "" {
		return nil, gis.Errorf(gis.Invalid, "milestone.by", "say who records the milestone (by)")
	}
	if _, ok := stepOf(Emergency, req.Milestone); !ok {
		if _, ok := stepOf(Planned, req.Milestone); !ok {
			return nil, gis.Errorf(gis.Invalid, "milestone.unknown", "unknown milestone %q", req.Milestone)
		}
	}
	ph, err := parsePhoto(req.Photo)
	if err != nil {
		return nil, err
	}
	at := now
	if req.At != nil {
		at = *req.At
	}
	var actions *ValveActions
	err = j.write(ctx, func(tx pgx.Tx) error {
		if req.Milestone == ValvesClosed || req.Milestone == ValvesReopened {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(valveLock)); err != nil {
				return err
			}
		}
		jb, err := lockJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := j.checkAt(jb, at, now); err != nil {
			return err
		}
		if err := checkOrder(jb.Kind, req.Milestone, jb.facts.Done, at); err != nil {
			return err
		}
		s, _ := stepOf(jb.Kind, req.Milestone)
		if req.NotApplicable && !s.optional {
			return gis.Errorf(gis.Invalid, "milestone.required", "%s cannot be not applicable: every job records it", req.Milestone)
		}
		if req.Milestone == ValvesClosed || req.Milestone == ValvesReopened {
			if actions, err = j.valveActions(ctx, tx, jb); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO repair_milestones (job_id, milestone, at, recorded_at, recorded_by, note, not_applicable, photo_url, photo, photo_type)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, id, string(req.Milestone), at, now, req.By, req.Note, req.NotApplicable,
			ph.url, ph.data, ph.ctype); err != nil {
			return err
		}
		switch req.Milestone {
		case ValvesClosed, ValvesReopened:
			_, err = tx.Exec(ctx, "UPDATE repair_jobs SET holding = $2 WHERE id = $1", id, req.Milestone == ValvesClosed)
		case Closed:
			_, err = tx.Exec(ctx, "UPDATE repair_jobs SET status = 'closed', closed_at = $2 WHERE id = $1", id, at)
		}
		return err
	})
	if err != nil {
		return nil, wrapUser(err, "repair: record %s on job %d", req.Milestone, id)
	}
	jb, err := j.Get(ctx, id, now)
	if err != nil {
		return nil, err
	}
	return &RecordResult{Job: jb, Valves: actions}, nil
}

// wrapUser passes *gis.Error through and wraps anything else.
func wrapUser(err error, format string, args ...any) error {
	var ge *gis.Error
	if errors.As(err, &ge) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// FailureRequest records a valve that failed on site.
type FailureRequest struct {
	Valve string     `json:"valve"`
	At    *time.Time `json:"at,omitempty"` // default now
	By    string     `json:"by"`
	Note  string     `json:"note,omitempty"`
}

// FailValve records that one of the job's valves failed on site (it would
// not close), redoes the plan with every failed valve of the job, and adds
// the extra valves and customers the new plan needs; a job already holding
// holds the new valves too. Valves fail while being operated: after the
// approval, before the reopening. Errors: NotFound (job), Invalid,
// Conflict (not open, not approved yet, already reopened, a valve not of
// this job or failed already).
func (j *Jobs) FailValve(ctx context.Context, id int64, req FailureRequest, now time.Time) (*Job, error) {
	if err := checkText(map[string]string{"by": req.By, "note": req.Note, "valve": req.Valve}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.By) == "" || req.Valve == "" {
		return nil, gis.Errorf(gis.Invalid, "failure.incomplete", "give the valve that failed and who records it (by)")
	}
	at := now
	if req.At != nil {
		at = *req.At
	}
	err := j.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(valveLock)); err != nil {
			return err
		}
		jb, err := lockJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := j.checkAt(jb, at, now); err != nil {
			return err
		}
		if _, ok := jb.facts.Done[Approved]; !ok {
			return gis.Errorf(gis.Conflict, "failure.not_approved", "no valve is operated before the shutoff is approved, so none can have failed")
		}
		if _, ok := jb.facts.Done[ValvesReopened]; ok {
			return gis.Errorf(gis.Conflict, "failure.reopened", "the valves of job %d are reopened already", id)
		}
		if slices.Contains(jb.FailedValves, req.Valve) {
			return gis.Errorf(gis.Conflict, "failure.duplicate", "valve %s is recorded as failed already", req.Valve)
		}
		if !slices.Contains(jb.Valves, req.Valve) {
			return gis.Errorf(gis.Conflict, "failure.not_in_plan", "valve %s is not one job %d closes (%v)", req.Valve, id, jb.Valves)
		}
		var oldCustomers []string
		if err := tx.QueryRow(ctx, "SELECT customers FROM repair_jobs WHERE id = $1", id).Scan(&oldCustomers); err != nil {
			return err
		}
		failed := union(jb.FailedValves, []string{req.Valve})
		pr := PlanRequest{Pipe: jb.Leak.Pipe, At: &jb.Leak.At, FailedValves: failed}
		plan, valves, err := j.plan(ctx, pr, id)
		if err != nil {
			return err
		}
		extraV, extraC := minus(valves, jb.Valves), minus(plan.Customers, oldCustomers)
		planJSON, err := json.Marshal(plan)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO repair_valve_failures (job_id, valve, at, recorded_at, recorded_by, note, extra_valves, extra_customers, extra_households)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, req.Valve, at, now, req.By, req.Note, extraV, extraC, plan.Households-jb.Households); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE repair_jobs SET plan = $2, valves = $3, customers = $4, households = $5, failed_valves = $6, network_version = $7
			WHERE id = $1`, id, planJSON, valves, nonNil(plan.Customers), plan.Households, failed, plan.NetworkVersion)
		return err
	})
	if err != nil {
		return nil, wrapUser(err, "repair: valve %s failed on job %d", req.Valve, id)
	}
	j.log.Info("valve failed on site; plan redone", "job", id, "valve", req.Valve)
	return j.Get(ctx, id, now)
}

// Cancel cancels an open job opened by mistake. A job holding valves
// closed cannot be cancelled: record their reopening first. Errors:
// NotFound, Invalid, Conflict.
func (j *Jobs) Cancel(ctx context.Context, id int64, by, reason string, now time.Time) (*Job, error) {
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" {
		return nil, gis.Errorf(gis.Invalid, "cancel.incomplete", "say who cancels the job (by) and why (reason)")
	}
	if err := checkText(map[string]string{"by": by, "reason": reason}); err != nil {
		return nil, err
	}
	err := j.write(ctx, func(tx pgx.Tx) error {
		jb, err := lockJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if jb.Holding {
			return gis.Errorf(gis.Conflict, "cancel.holding", "job %d holds valves closed %v: record valves_reopened before cancelling", id, jb.Valves)
		}
		_, err = tx.Exec(ctx, "UPDATE repair_jobs SET status = 'cancelled', closed_at = $2, cancel_reason = $3 WHERE id = $1",
			id, now, fmt.Sprintf("%s (%s)", reason, by))
		return err
	})
	if err != nil {
		return nil, wrapUser(err, "repair: cancel job %d", id)
	}
	return j.Get(ctx, id, now)
}

// Photo returns the photo uploaded with milestone m of job id, and its
// content type. Errors: NotFound.
func (j *Jobs) Photo(ctx context.Context, id int64, m Milestone) ([]byte, string, error) {
	var b []byte
	var ctype string
	err := j.pool.QueryRow(ctx, "SELECT photo, photo_type FROM repair_milestones WHERE job_id = $1 AND milestone = $2 AND photo IS NOT NULL",
		id, string(m)).Scan(&b, &ctype)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", gis.Errorf(gis.NotFound, "photo.not_found", "job %d has no uploaded photo for %s", id, m)
	}
	if err != nil {
		return nil, "", fmt.Errorf("repair: photo of job %d: %w", id, err)
	}
	return b, ctype, nil
}
