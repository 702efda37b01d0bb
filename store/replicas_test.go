package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/store"
)

// TestClaimPostOnce: two processes' handles on one database claim the
// same 200 posts at once; each post is claimed by exactly one, and a
// claimed post is not claimed again.
func TestClaimPostOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	a, b := open(t, path), open(t, path)
	ctx := context.Background()
	ids, err := a.CreateGroupsForTest(ctx, "fake", 20)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	var posts []*bot.OutboxPost
	for i := range 200 {
		posts = append(posts, &bot.OutboxPost{GroupID: ids[i%len(ids)], Kind: "tip", Key: "k" + string(rune('a'+i/len(ids))), Text: "提示", DueAt: now})
	}
	if n, err := a.Outbox().EnqueuePosts(ctx, posts); err != nil || n != 200 {
		t.Fatalf("enqueued %d (%v)", n, err)
	}
	due, err := a.Outbox().DuePosts(ctx, now, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 100 { // five of each group at a time
		t.Fatalf("due: %d", len(due))
	}
	claims := make([]atomic.Int32, len(due))
	var wg sync.WaitGroup
	for _, db := range []*store.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, p := range due {
				ok, err := db.Outbox().ClaimPost(ctx, p.ID, now.Add(bot.ClaimLease))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					claims[i].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	for i := range claims {
		if n := claims[i].Load(); n != 1 {
			t.Errorf("post %d claimed %d times", due[i].ID, n)
		}
	}
	// Claimed posts are no longer due; the rest are.
	left, err := b.Outbox().DuePosts(ctx, now, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 100 {
		t.Errorf("due after claiming: %d; want the other 100", len(left))
	}
}

// TestLapsedClaimsReturn: with replicas, a post being sent is left alone
// while its claim lasts and settled once it lapses; a single process
// settles every post left sending at start.
func TestLapsedClaimsReturn(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	ids, err := db.CreateGroupsForTest(ctx, "fake", 1)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	if _, err := db.Outbox().EnqueuePosts(ctx, []*bot.OutboxPost{{GroupID: ids[0], Kind: "tip", Key: "k", Text: "提示", DueAt: now}}); err != nil {
		t.Fatal(err)
	}
	due, _ := db.Outbox().DuePosts(ctx, now, 10)
	if ok, err := db.Outbox().ClaimPost(ctx, due[0].ID, now.Add(bot.ClaimLease)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	status := func() bot.PostStatus {
		ps, err := db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: ids[0]})
		if err != nil || len(ps) != 1 {
			t.Fatalf("posts: %v %v", ps, err)
		}
		return ps[0].Status
	}
	replica := &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{}, Logger: quietLogger(), Replicas: true}
	if err := replica.Recover(ctx, now.Add(bot.ClaimLease/2)); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != bot.PostSending {
		t.Fatalf("a live claim was settled: %s", s)
	}
	if err := replica.Recover(ctx, now.Add(bot.ClaimLease+time.Second)); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != bot.PostUnconfirmed {
		t.Fatalf("a lapsed claim: %s; want unconfirmed", s)
	}
}

// TestJobLeases: of two replicas' schedulers, one runs a job while it
// holds the lease; when it stops, the other takes the job over once the
// lease lapses. Sending runs on both.
func TestJobLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	a, b := open(t, path), open(t, path)
	var planned, sent [2]int
	sched := func(i int, db *store.DB) *bot.Scheduler {
		return &bot.Scheduler{Logger: quietLogger(), Leases: db.Leases(), Holder: []string{"a", "b"}[i], Jobs: []*bot.Job{
			{Name: "planning", Every: 10 * time.Second, Run: func(context.Context, time.Time) error { planned[i]++; return nil }},
			{Name: "sending", Everywhere: true, Run: func(context.Context, time.Time) error { sent[i]++; return nil }},
		}}
	}
	sa, sb := sched(0, a), sched(1, b)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	for range 30 {
		now = now.Add(time.Second)
		if err := sa.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := sb.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if planned[0] != 3 || planned[1] != 0 || sent[0] != 30 || sent[1] != 30 {
		t.Fatalf("while a lives: planned %v, sent %v; want a to plan every 10 s and both to send", planned, sent)
	}
	// a stops ticking (dies): b plans once a's lease has lapsed.
	for range 60 {
		now = now.Add(time.Second)
		if err := sb.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if planned[1] == 0 {
		t.Fatal("b never took the planning over")
	}
}

// TestLiveReplicas: replicas present are the unexpired leases of a prefix.
func TestLiveReplicas(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	l := db.Leases()
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"replica:a", time.Minute}, {"replica:b", time.Second}, {"job:planning", time.Minute}} {
		if ok, err := l.Lease(ctx, c.name, c.name, c.ttl, now); !ok || err != nil {
			t.Fatal(c.name, ok, err)
		}
	}
	if n, err := l.Live(ctx, "replica:", now); n != 2 || err != nil {
		t.Fatalf("live now: %d (%v); want 2", n, err)
	}
	if n, err := l.Live(ctx, "replica:", now.Add(2*time.Second)); n != 1 || err != nil {
		t.Fatalf("live once b lapsed: %d (%v); want 1", n, err)
	}
}

// TestInboxDedupeAcrossReplicas: the same platform message delivered to
// two replicas at once (DingTalk redelivers to another connection) is
// accepted by exactly one; the other is told it is a duplicate.
func TestInboxDedupeAcrossReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	a, b := open(t, path), open(t, path)
	ctx := context.Background()
	for i := range 50 {
		msg := bot.Message{Channel: "dingtalk", GroupID: "cid1", SenderID: "u1", Text: "帮助", PlatformMsgID: fmt.Sprint("m", i)}
		var accepted, dup atomic.Int32
		var wg sync.WaitGroup
		for _, db := range []*store.DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := msg
				switch err := db.Inbox().Accept(ctx, &m); {
				case err == nil:
					accepted.Add(1)
				case bot.ErrorCode(err) == bot.EDUPLICATE:
					dup.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if accepted.Load() != 1 || dup.Load() != 1 {
			t.Fatalf("message %d: accepted %d times, refused as a duplicate %d times", i, accepted.Load(), dup.Load())
		}
	}
}
