package bot

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// Throttled wraps a channel so that posts to any one group, and posts
// overall, stay within platform limits (DingTalk and WeCom group robots allow
// 20 messages a minute). Post waits for its turn rather than failing, so a
// scheduled post is delayed, never dropped.
type Throttled struct {
	Channel
	perGroup rate.Limit
	burst    int
	global   *rate.Limiter

	mu     sync.Mutex
	groups map[string]*rate.Limiter
}

// Throttle returns ch limited to perMinute posts a minute in each group and
// globalPerSecond posts a second over all groups (0 means no global limit).
func Throttle(ch Channel, perMinute int, globalPerSecond float64) *Throttled {
	t := &Throttled{
		Channel:  ch,
		perGroup: rate.Limit(float64(perMinute) / 60),
		burst:    max(1, perMinute/4),
		groups:   map[string]*rate.Limiter{},
	}
	if globalPerSecond > 0 {
		t.global = rate.NewLimiter(rate.Limit(globalPerSecond), max(1, int(globalPerSecond)))
	}
	return t
}

func (t *Throttled) limiter(groupID string) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.groups[groupID]
	if !ok {
		l = rate.NewLimiter(t.perGroup, t.burst)
		t.groups[groupID] = l
	}
	return l
}

// Post waits until both limits allow one more message, then posts.
func (t *Throttled) Post(ctx context.Context, groupID string, p Post) error {
	if err := t.limiter(groupID).Wait(ctx); err != nil {
		return err
	}
	if t.global != nil {
		if err := t.global.Wait(ctx); err != nil {
			return err
		}
	}
	return t.Channel.Post(ctx, groupID, p)
}
