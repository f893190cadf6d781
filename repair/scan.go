package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis/store"
)

// ScanJob is the name of the overdue scan in the scheduled job runs.
const ScanJob = "repair.escalate"

// ScanResult reports one overdue scan.
type ScanResult struct {
	OpenJobs  int     `json:"open_jobs"`
	Overdue   int     `json:"overdue"`   // overdue milestones of open jobs
	Escalated []int64 `json:"escalated"` // escalations stored by this scan
	Sent      int     `json:"sent"`      // webhook deliveries that succeeded
	Failed    int     `json:"failed"`    // … and that failed (retried by the next scan)
}

// RunScan is the scheduled overdue scan: it runs Scan at the clock's now
// once per minute slot (in the utility's zone) across every replica,
// through store.RunOnce. A slot already run, or running elsewhere, is not
// an error.
func (j *Jobs) RunScan(ctx context.Context) error {
	now := j.now()
	slot := now.In(j.tz).Format("2006-01-02T15:04")
	err := j.st.RunOnce(ctx, ScanJob, slot, j.replica, false, func(ctx context.Context) error {
		res, err := j.Scan(ctx, now)
		if err == nil && (len(res.Escalated) > 0 || res.Failed > 0) {
			j.log.Info("repair scan", "slot", slot, "open_jobs", res.OpenJobs, "overdue", res.Overdue,
				"escalated", len(res.Escalated), "sent", res.Sent, "failed", res.Failed)
		}
		return err
	})
	if errors.Is(err, store.ErrJobDone) {
		return nil
	}
	return err
}

// Scan finds the milestones of open jobs past their due time at now
// (recomputed from the stored times), stores an escalation for each one
// not escalated before (once per job and milestone), and delivers the
// pending escalations to the webhook, if one is configured. Delivery
// failures are logged and left pending for the next scan, up to the
// rules' attempts; only database errors fail the scan.
func (j *Jobs) Scan(ctx context.Context, now time.Time) (*ScanResult, error) {
	cal, err := j.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	jobs, err := j.query(ctx, jobSelect+jobFrom+" WHERE j.status = 'open'")
	if err != nil {
		return nil, err
	}
	res := &ScanResult{OpenJobs: len(jobs), Escalated: []int64{}}
	done, err := j.escalatedOpen(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	var ms []string
	var dues []time.Time
	for _, jb := range jobs {
		_, overdue := j.rules.Status(jb.facts, cal, j.tz, now)
		res.Overdue += len(overdue)
		for _, d := range overdue {
			if !done[escalationKey{jb.ID, d.Milestone}] {
				ids, ms, dues = append(ids, jb.ID), append(ms, string(d.Milestone)), append(dues, d.Due)
			}
		}
	}
	if len(ids) > 0 {
		delivery := "none"
		if j.webhook != "" {
			delivery = "pending"
		}
		rows, err := j.pool.Query(ctx, `INSERT INTO repair_escalations (job_id, milestone, due_at, detected_at, delivery)
			SELECT id, m, due, $4, $5 FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS u(id, m, due)
			ON CONFLICT (job_id, milestone) DO NOTHING RETURNING id`, ids, ms, dues, now, delivery)
		if err != nil {
			return nil, fmt.Errorf("repair: store escalations: %w", err)
		}
		if res.Escalated, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return nil, fmt.Errorf("repair: store escalations: %w", err)
		}
	}
	if j.webhook != "" {
		if err := j.deliver(ctx, now, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type escalationKey struct {
	job int64
	m   Milestone
}

// escalatedOpen returns the milestones of open jobs escalated already.
func (j *Jobs) escalatedOpen(ctx context.Context) (map[escalationKey]bool, error) {
	rows, err := j.pool.Query(ctx, `SELECT e.job_id, e.milestone FROM repair_escalations e
		JOIN repair_jobs j ON j.id = e.job_id WHERE j.status = 'open'`)
	if err != nil {
		return nil, fmt.Errorf("repair: escalations of open jobs: %w", err)
	}
	defer rows.Close()
	out := map[escalationKey]bool{}
	for rows.Next() {
		var k escalationKey
		var m string
		if err := rows.Scan(&k.job, &m); err != nil {
			return nil, fmt.Errorf("repair: escalations of open jobs: %w", err)
		}
		k.m = Milestone(m)
		out[k] = true
	}
	return out, rows.Err()
}

// deliver POSTs pending escalations to the webhook, oldest first; the
// round stops at the first failure (the endpoint is likely down).
func (j *Jobs) deliver(ctx context.Context, now time.Time, res *ScanResult) error {
	evs, err := j.Escalations(ctx, EscalationFilter{Delivery: "pending", Limit: 100, OldestFirst: true})
	if err != nil {
		return err
	}
	for _, e := range evs {
		perr := j.post(ctx, e)
		if perr == nil {
			res.Sent++
			if _, err := j.pool.Exec(ctx, `UPDATE repair_escalations SET delivery = 'sent', sent_at = $2, attempts = attempts + 1, last_error = ''
				WHERE id = $1`, e.ID, now); err != nil {
				return fmt.Errorf("repair: escalation %d: %w", e.ID, err)
			}
			continue
		}
		res.Failed++
		j.log.Warn("escalation webhook failed; retried next scan", "escalation", e.ID, "job", e.JobID, "attempt", e.Attempts+1, "err", perr)
		if _, err := j.pool.Exec(ctx, `UPDATE repair_escalations SET attempts = attempts + 1, last_error = $2,
			delivery = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END WHERE id = $1`,
			e.ID, perr.Error(), j.rules.WebhookMaxAttempts); err != nil {
			return fmt.Errorf("repair: escalation %d: %w", e.ID, err)
		}
		break
	}
	return nil
}

// WebhookEvent is the body POSTed for an escalation.
type WebhookEvent struct {
	Event string `json:"event"` // "repair.milestone_overdue"
	Escalation
	Kind Kind   `json:"kind"`
	Job  string `json:"job"` // the job's API path
}

// post sends one escalation within the rules' timeout; any status but 2xx
// is a failure.
func (j *Jobs) post(ctx context.Context, e Escalation) error {
	body, err := json.Marshal(WebhookEvent{Event: "repair.milestone_overdue", Escalation: e, Kind: e.kind,
		Job: "/api/repair/jobs/" + strconv.FormatInt(e.JobID, 10)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, j.rules.webhookTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Waterline-Event", "repair.milestone_overdue")
	req.Header.Set("X-Waterline-Delivery", strconv.FormatInt(e.ID, 10)) // the same on every retry
	resp, err := j.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// EscalationFilter selects escalations; empty fields match everything.
type EscalationFilter struct {
	JobID      int64
	Delivery   string    // none, pending, sent, failed
	Unresolved bool      // only milestones still not recorded
	Since      time.Time // detected at or after
	Limit      int       // default 100, at most 1000
	// OldestFirst orders by detection; the default is newest first.
	OldestFirst bool
}

// Escalations returns the escalations matching f, with the time their
// milestone was recorded, if it was. Times are in the utility's zone.
func (j *Jobs) Escalations(ctx context.Context, f EscalationFilter) ([]Escalation, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := j.pool.Query(ctx, `SELECT e.id, e.job_id, j.kind, e.milestone, e.due_at, e.detected_at, e.delivery, e.attempts,
			e.last_error, e.sent_at, m.at, j.district, j.address
		FROM repair_escalations e JOIN repair_jobs j ON j.id = e.job_id
		LEFT JOIN repair_milestones m ON m.job_id = e.job_id AND m.milestone = e.milestone
		WHERE ($1 = 0 OR e.job_id = $1) AND ($2 = '' OR e.delivery = $2) AND (NOT $3 OR m.at IS NULL) AND e.detected_at >= $4
		ORDER BY CASE WHEN $6 THEN e.id END, e.id DESC LIMIT $5`,
		f.JobID, f.Delivery, f.Unresolved, f.Since, f.Limit, f.OldestFirst)
	if err != nil {
		return nil, fmt.Errorf("repair: escalations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Escalation, error) {
		var e Escalation
		var kind, m string
		err := r.Scan(&e.ID, &e.JobID, &kind, &m, &e.Due, &e.DetectedAt, &e.Delivery, &e.Attempts, &e.LastError, &e.SentAt,
			&e.ResolvedAt, &e.District, &e.Address)
		e.kind, e.Milestone = Kind(kind), Milestone(m)
		if s, ok := stepOf(e.kind, e.Milestone); ok {
			e.Label = s.label
		}
		e.Due, e.DetectedAt = e.Due.In(j.tz), e.DetectedAt.In(j.tz)
		for _, t := range []*time.Time{e.SentAt, e.ResolvedAt} {
			if t != nil {
				*t = t.In(j.tz)
			}
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("repair: escalations: %w", err)
	}
	return out, nil
}
