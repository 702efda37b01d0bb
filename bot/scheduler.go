package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Job is work the scheduler runs every so often: plan tips, start
// scheduled quizzes, close quiz questions, send posts, prune.
type Job struct {
	Name  string
	Every time.Duration // 0: on every tick
	Run   func(ctx context.Context, now time.Time) error
	// Everywhere: with several replicas, every one runs it (sending,
	// whose posts are claimed one by one); other jobs run on the replica
	// that holds the job's lease.
	Everywhere bool

	last time.Time
}

// Scheduler runs its jobs in order on each tick, each when it is due. A job
// whose clock went backwards (a test, a corrected clock) runs at once. The
// first job that fails ends the tick; it and the ones after it run on the
// next.
type Scheduler struct {
	Jobs   []*Job
	Logger *slog.Logger
	// Interval between ticks in Run.
	Interval time.Duration
	// Leases, when set, make the scheduler one of several replicas on one
	// database: a job that is not Everywhere runs only on the replica
	// holding its lease ("job:" + name, held by Holder). A replica that
	// dies lets its leases lapse (after 30 s, or three times the job's
	// period if longer), and another takes the work over.
	Leases LeaseStore
	Holder string
}

// minLeaseTTL is the shortest a job's lease lasts.
const minLeaseTTL = 30 * time.Second

// mine reports whether this replica runs j now.
func (s *Scheduler) mine(ctx context.Context, j *Job, now time.Time) (bool, error) {
	if s.Leases == nil || j.Everywhere {
		return true, nil
	}
	ttl := max(minLeaseTTL, 3*j.Every)
	return s.Leases.Lease(ctx, "job:"+j.Name, s.Holder, ttl, now)
}

// Tick runs the jobs due at now.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	for _, j := range s.Jobs {
		if j.Every > 0 && now.Sub(j.last) < j.Every && !now.Before(j.last) {
			continue
		}
		if ok, err := s.mine(ctx, j, now); err != nil {
			return fmt.Errorf("%s: lease: %w", j.Name, err)
		} else if !ok {
			j.last = now // another replica holds it; ask again when due
			continue
		}
		if err := j.Run(ctx, now); err != nil {
			return fmt.Errorf("%s: %w", j.Name, err)
		}
		j.last = now
	}
	return nil
}

// Run ticks every Interval on the clock now until ctx is done; a failed
// tick is logged and tried again on the next.
func (s *Scheduler) Run(ctx context.Context, now func() time.Time) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Tick(ctx, now()); err != nil && ctx.Err() == nil {
				s.Logger.Error("scheduled work failed; will retry", "err", err)
			}
		}
	}
}
