package repair

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// scanTimeout bounds one scheduled scan: it ends before the next minute.
const scanTimeout = 50 * time.Second

// Schedule adds the overdue scan to c at Rules.ScanSchedule (every minute
// by default). c should read its specs in the utility's zone
// (cron.WithLocation). Each run gets a context derived from ctx (ended at
// shutdown) with a timeout; failures are logged and the next run tries
// again.
func (j *Jobs) Schedule(ctx context.Context, c *cron.Cron) (cron.EntryID, error) {
	id, err := c.AddFunc(j.rules.ScanSchedule, func() {
		rctx, cancel := context.WithTimeout(ctx, scanTimeout)
		defer cancel()
		if err := j.RunScan(rctx); err != nil && ctx.Err() == nil {
			j.log.Error("repair scan failed", "err", err)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("repair: schedule %q: %w", j.rules.ScanSchedule, err)
	}
	return id, nil
}
