package repair

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// JobNotice writes the shutoff notice of job id for its current plan's
// customers (MakeNotice). A planned shutoff announces its window and
// reason, issued at now, with the customers it reaches too late; an
// emergency job announces the shutoff from its order to restore, which
// the caller gives (the expected restore time). Errors: NotFound, Invalid.
func (j *Jobs) JobNotice(ctx context.Context, id int64, restore, now time.Time) (*Notice, error) {
	var kind, reason string
	var ordered time.Time
	var start, end *time.Time
	var customers []string
	err := j.pool.QueryRow(ctx, `SELECT kind, reason, ordered_at, planned_start, planned_end, customers FROM repair_jobs WHERE id = $1`, id).
		Scan(&kind, &reason, &ordered, &start, &end, &customers)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("repair: notice of job %d: %w", id, err)
	}
	req := NoticeRequest{Reason: reason, IssuedAt: now}
	if Kind(kind) == Planned {
		req.Start, req.Restore, req.Planned = *start, *end, true
	} else {
		if restore.IsZero() || !restore.After(ordered) {
			return nil, gis.Errorf(gis.Invalid, "notice.restore", "give the expected restore time, after the order (%s)", fmtTime(ordered.In(j.tz)))
		}
		req.Start, req.Restore = ordered, restore
	}
	custs, err := j.st.Customers(ctx, customers)
	if err != nil {
		return nil, err
	}
	n := MakeNotice(j.planner.NoticeRules, req, custs, j.tz)
	return &n, nil
}
