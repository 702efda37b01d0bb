package bot_test

import (
	"testing"
	"time"

	"fanzha/bot"
)

// TestLimitsShared: with the limits shared among two replicas, each lets
// through half of a group's posts a minute and half the global rate; back
// alone, the whole again.
func TestLimitsShared(t *testing.T) {
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	// inMinute counts what one replica lets through to a group in a
	// minute, a post asked for every second.
	inMinute := func(l *bot.PostLimiter, group string, from time.Time) int {
		n := 0
		for s := range 60 {
			if ok, _ := l.Allow(group, from.Add(time.Duration(s)*time.Second)); ok {
				n++
			}
		}
		return n
	}
	l := bot.NewPostLimiter(20, 0)
	// A minute's asking gets the limit less the last refill's fraction.
	if n := inMinute(l, "g1", now); n < 19 || n > 20 {
		t.Fatalf("alone: %d posts in a minute; want 19–20 of the 20 allowed", n)
	}
	now = now.Add(time.Hour)
	l.Share(2, now)
	if n := inMinute(l, "g1", now); n < 9 || n > 10 {
		t.Fatalf("one of two replicas: %d posts to a known group in a minute; want 9–10 of the 10 allowed", n)
	}
	if n := inMinute(l, "g2", now); n < 9 || n > 10 {
		t.Fatalf("one of two replicas: %d posts to a new group in a minute; want 9–10", n)
	}
	now = now.Add(time.Hour)
	l.Share(1, now)
	now = now.Add(time.Hour) // the group's bucket fills to the larger burst
	if n := inMinute(l, "g1", now); n < 19 || n > 20 {
		t.Fatalf("alone again: %d; want 19–20", n)
	}

	// The global rate: 10 a second over all groups, 5 for one of two.
	g := bot.NewPostLimiter(20, 10)
	g.Share(2, now)
	sent := 0
	for i := range 400 {
		// 400 groups, each asked once within 20 s.
		if ok, _ := g.Allow(string(rune('a'+i%26))+string(rune('A'+i/26)), now.Add(time.Duration(i)*50*time.Millisecond)); ok {
			sent++
		}
	}
	if sent < 95 || sent > 106 {
		t.Fatalf("one of two replicas sent %d in 20 s; want about 100 (5 a second)", sent)
	}
}
