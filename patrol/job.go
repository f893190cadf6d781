package patrol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// jobTimeout bounds one run of the morning job.
const jobTimeout = 30 * time.Minute

// RunDaily plans today's routes of every district and stores them: the
// morning job. Through store.RunOnce it runs once per day across replicas
// (the slot is the date); a day already planned is skipped (nil error).
// It is safe to call at start-up as a catch-up for a missed run.
func (s *Service) RunDaily(ctx context.Context) error {
	day := s.Today()
	start := time.Now()
	p, err := s.Plan(ctx, PlanOptions{Day: day, Save: true})
	if errors.Is(err, ErrPlanned) {
		s.cfg.Log.Info("patrol plan: already made", "date", day.String())
		return nil
	}
	if err != nil {
		s.cfg.Log.Error("patrol plan failed", "date", day.String(), "err", err)
		return fmt.Errorf("patrol: plan %s: %w", day, err)
	}
	routes := 0
	for _, d := range p.Districts {
		routes += len(d.Routes)
	}
	s.cfg.Log.Info("patrol plan made", "date", p.Date, "districts", len(p.Districts), "routes", routes, "pipes", p.Pipes,
		"over_capacity", len(p.OverCapacity), "elapsed", time.Since(start))
	return nil
}

// CatchUp runs the morning job now if today's scheduled time has passed
// (a replica that was down at 05:30 plans the day when it starts); a day
// already planned is skipped. Call it in a goroutine at start-up.
func (s *Service) CatchUp(ctx context.Context) error {
	sched, err := cron.ParseStandard(s.cfg.Rules.Cron)
	if err != nil {
		return fmt.Errorf("patrol: cron %q: %w", s.cfg.Rules.Cron, err)
	}
	now := s.cfg.Now().In(s.cfg.TZ)
	if first := sched.Next(s.Today().Start(s.cfg.TZ).Add(-time.Nanosecond)); first.After(now) {
		return nil // not yet: the scheduler will run it
	}
	return s.RunDaily(ctx)
}

// Schedule adds the morning job to c at Rules.Cron. c should read its
// specs in the utility's zone (cron.WithLocation). Each run gets a context
// derived from ctx (ended at shutdown) with a timeout.
func (s *Service) Schedule(ctx context.Context, c *cron.Cron) (cron.EntryID, error) {
	id, err := c.AddFunc(s.cfg.Rules.Cron, func() {
		rctx, cancel := context.WithTimeout(ctx, jobTimeout)
		defer cancel()
		s.RunDaily(rctx) //nolint:errcheck // logged by RunDaily
	})
	if err != nil {
		return 0, fmt.Errorf("patrol: schedule %q: %w", s.cfg.Rules.Cron, err)
	}
	return id, nil
}
