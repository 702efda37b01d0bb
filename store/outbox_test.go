package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
)

// platform records when each post arrived, by the test's clock.
type platform struct {
	mu    sync.Mutex
	now   time.Time
	sent  map[string][]time.Time
	total int
	fail  func(group string) error
}

func (p *platform) Name() string                                         { return "fake" }
func (p *platform) Start(ctx context.Context, h bot.Handler) error       { return nil }
func (p *platform) Reply(context.Context, *bot.Message, bot.Reply) error { return nil }
func (p *platform) Post(ctx context.Context, group string, post bot.Post) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if err := p.fail(group); err != nil {
			return err
		}
	}
	p.sent[group] = append(p.sent[group], p.now)
	p.total++
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestTenThousandGroupsAtOnce: every group is due at the same minute, one
// group has a backlog of 60. All posts go out, spread out, with no group
// over 20 in any minute and the total within the global limit.
func TestTenThousandGroupsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 10,060 posts through SQLite")
	}
	db := open(t, "")
	ctx := context.Background()
	const groups, backlog, perMinute, perSecond = 10000, 600, 20, 50
	ids, err := db.CreateGroupsForTest(ctx, "fake", groups)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC) // Tuesday 10:00 in Shanghai
	// The backlog is first in line: it must not hold up everyone else.
	var posts []*bot.OutboxPost
	for k := 0; k < backlog; k++ {
		posts = append(posts, &bot.OutboxPost{GroupID: ids[0], Kind: "quiz_question", Key: fmt.Sprint("q", k), Text: "题目", DueAt: due})
	}
	for i, id := range ids {
		posts = append(posts, &bot.OutboxPost{GroupID: id, Kind: "tip", Key: "tip:w#0", Text: fmt.Sprint("提示", i), DueAt: due})
	}
	if n, err := db.Outbox().EnqueuePosts(ctx, posts); err != nil || n != len(posts) {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	p := &platform{sent: map[string][]time.Time{}}
	s := &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{"fake": p}, Logger: quietLogger(),
		Limits: bot.NewPostLimiter(perMinute, perSecond)}
	perTick := map[time.Time]int{}
	now := due
	for ; p.total < len(posts) && now.Before(due.Add(time.Hour)); now = now.Add(time.Second) {
		p.now = now
		n, err := s.Tick(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		perTick[now] = n
	}
	if p.total != len(posts) {
		t.Fatalf("after an hour %d of %d posts sent", p.total, len(posts))
	}
	took := now.Sub(due)
	t.Logf("%d posts to %d groups took %v of platform time", p.total, groups, took)
	if min := time.Duration(groups/perSecond) * time.Second; took < min {
		t.Errorf("finished in %v: faster than the global limit allows (%v)", took, min)
	}
	// Everyone else finishes at the global rate, while the backlog drains
	// at its group's rate alongside: about 201 s and 3.7 min.
	if last := lastOf(p.sent, "g00000"); last.Sub(due) > 4*time.Minute {
		t.Errorf("the other groups waited behind the backlog: last post at %v", last.Sub(due))
	}
	// Global: never more than one second's worth in a tick, and no sliding
	// minute over 60 seconds' worth plus the burst.
	var window []int
	for ts := due; ts.Before(now); ts = ts.Add(time.Second) {
		n := perTick[ts]
		if n > perSecond {
			t.Fatalf("%d posts in the second at %v; global limit %d/s", n, ts, perSecond)
		}
		window = append(window, n)
		if len(window) > 60 {
			window = window[1:]
		}
		sum := 0
		for _, v := range window {
			sum += v
		}
		if sum > perSecond*61 {
			t.Fatalf("%d posts in the minute before %v", sum, ts)
		}
	}
	// Per group: no 60-second window with more than 20.
	for g, times := range p.sent {
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Minute {
				j++
			}
			if j-i > perMinute {
				t.Fatalf("group %s got %d posts within a minute from %v", g, j-i, times[i])
			}
		}
	}
	if n := len(p.sent["g00000"]); n != backlog+1 {
		t.Fatalf("busy group got %d posts; want %d", n, backlog+1)
	}
}

// TestUnconfirmedIsNotResent: on a channel that cannot deduplicate, a post
// whose sending was interrupted is marked unconfirmed, shown, and not sent
// again; a failing post is retried with backoff, then kept as failed.
func TestUnconfirmedIsNotResent(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	ids, err := db.CreateGroupsForTest(ctx, "fake", 2)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	db.Outbox().EnqueuePosts(ctx, []*bot.OutboxPost{
		{GroupID: ids[0], Kind: "tip", Key: "a", Text: "提示一", DueAt: now},
		{GroupID: ids[1], Kind: "tip", Key: "b", Text: "提示二", DueAt: now},
	})
	p := &platform{sent: map[string][]time.Time{}, fail: func(g string) error {
		if g == "g00001" {
			return fmt.Errorf("HTTP 502")
		}
		return nil
	}}
	newSender := func() *bot.Sender {
		return &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{"fake": p}, Logger: quietLogger(),
			Limits: bot.NewPostLimiter(20, 0), MaxAttempts: 3}
	}
	s := newSender()
	s.Crash = func(point string) {
		if point == "sent" {
			panic("killed")
		}
	}
	func() {
		defer func() { recover() }()
		s.Tick(ctx, now)
	}()
	// Restart: the interrupted post was delivered, but nobody knows that.
	s = newSender()
	if err := s.Recover(ctx, now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		now = now.Add(time.Minute)
		p.now = now
		if _, err := s.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.sent["g00000"]); n != 1 {
		t.Fatalf("interrupted post delivered %d times; want exactly the one before the crash", n)
	}
	unconfirmed, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{Status: bot.PostUnconfirmed})
	failed, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{Status: bot.PostFailed})
	if len(unconfirmed) != 1 || unconfirmed[0].Key != "a" {
		t.Fatalf("unconfirmed posts: %+v", unconfirmed)
	}
	if len(failed) != 1 || failed[0].Key != "b" || failed[0].Attempts != 3 || failed[0].LastError != "HTTP 502" {
		t.Fatalf("failed posts: %+v", failed)
	}
}

// lastOf is the time of the last post to any group but skip.
func lastOf(sent map[string][]time.Time, skip string) time.Time {
	var last time.Time
	for g, ts := range sent {
		if g != skip && ts[len(ts)-1].After(last) {
			last = ts[len(ts)-1]
		}
	}
	return last
}
