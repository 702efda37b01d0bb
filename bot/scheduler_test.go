package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fanzha/bot"
)

// TestSchedulerRunsJobsWhenDue: a job runs on its interval, a job with no
// interval on every tick, a clock set back runs a job at once, and a
// failing job ends the tick and is tried again on the next.
func TestSchedulerRunsJobsWhenDue(t *testing.T) {
	var runs []string
	fail := false
	job := func(name string) func(context.Context, time.Time) error {
		return func(context.Context, time.Time) error {
			runs = append(runs, name)
			if name == "plan" && fail {
				return errors.New("database busy")
			}
			return nil
		}
	}
	s := &bot.Scheduler{Jobs: []*bot.Job{
		{Name: "plan", Every: 30 * time.Second, Run: job("plan")},
		{Name: "send", Run: job("send")},
	}}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tick := func(at time.Time) []string {
		runs = nil
		err := s.Tick(context.Background(), at)
		if fail && err == nil {
			t.Fatal("a failing job did not fail the tick")
		}
		return runs
	}
	for _, step := range []struct {
		at   time.Time
		fail bool
		want string
	}{
		{t0, false, "plan send"},
		{t0.Add(time.Second), false, "send"},
		{t0.Add(30 * time.Second), false, "plan send"},
		{t0.Add(-time.Hour), false, "plan send"}, // the clock went back
		{t0.Add(time.Hour), true, "plan"},        // plan fails: send waits
		{t0.Add(time.Hour + time.Second), false, "plan send"},
	} {
		fail = step.fail
		got := ""
		for i, r := range tick(step.at) {
			if i > 0 {
				got += " "
			}
			got += r
		}
		if got != step.want {
			t.Errorf("at %s: ran %q; want %q", step.at.Format("15:04:05"), got, step.want)
		}
	}
}
