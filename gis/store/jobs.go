package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrJobDone says a job's slot has already run (or is running elsewhere).
var ErrJobDone = errors.New("store: job slot already done")

// RunOnce runs fn for (job, slot) at most once across every replica: it
// takes a PostgreSQL advisory lock for the job, skips the slot if a run
// row says it is done, and records the run. A failed run may be retried;
// force re-runs a done slot (a manual re-plan). fn gets ctx; the lock is
// held on one connection for its duration. It returns ErrJobDone when the
// slot was skipped.
func (s *Store) RunOnce(ctx context.Context, job, slot, replica string, force bool, fn func(ctx context.Context) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: job %s: %w", job, err)
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte("job:" + job))
	key := int64(h.Sum64())
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		return fmt.Errorf("store: job %s: lock: %w", job, err)
	}
	if !got {
		return ErrJobDone // another replica is running it now
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
	var status string
	err = conn.QueryRow(ctx, "SELECT status FROM job_runs WHERE job = $1 AND slot = $2", job, slot).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("store: job %s: %w", job, err)
	case status == "done" && !force:
		return ErrJobDone
	}
	if _, err := conn.Exec(ctx, `INSERT INTO job_runs (job, slot, replica, status) VALUES ($1, $2, $3, 'running')
		ON CONFLICT (job, slot) DO UPDATE SET replica = $3, status = 'running', started_at = now(), finished_at = NULL, error = ''`,
		job, slot, replica); err != nil {
		return fmt.Errorf("store: job %s: record: %w", job, err)
	}
	runErr := fn(ctx)
	status, msg := "done", ""
	if runErr != nil {
		status, msg = "failed", runErr.Error()
	}
	if _, err := conn.Exec(context.WithoutCancel(ctx), "UPDATE job_runs SET status = $3, error = $4, finished_at = $5 WHERE job = $1 AND slot = $2",
		job, slot, status, msg, time.Now()); err != nil && runErr == nil {
		return fmt.Errorf("store: job %s: record: %w", job, err)
	}
	return runErr
}
