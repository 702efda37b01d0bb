package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fanzha/bot"
)

// TestGroupCommit: writes that arrive together are committed together,
// with fewer synced commits than writes, and a write that fails is rolled
// back alone — the others in its batch are kept.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := open(t, "")
	g, err := db.Groups().EnsureGroup(ctx, "playground", "g1", "群")
	if err != nil {
		t.Fatal(err)
	}
	before := db.Commits()
	const writers, each = 32, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &bot.Event{GroupID: g.ID, Kind: bot.EventScamCheck, Level: bot.CheckHigh}
				if (w+i)%10 == 0 {
					e.Kind = "" // refused inside the transaction
				}
				if err := db.Events().CreateEvent(ctx, e); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	n, err := db.Events().CountEvents(ctx, bot.EventFilter{GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers*each - failed; failed == 0 || n != want {
		t.Fatalf("%d events kept, %d refused; want %d kept", n, failed, want)
	}
	commits := db.Commits() - before
	if commits >= int64(writers*each-failed) {
		t.Errorf("%d commits for %d writes: nothing was committed together", commits, writers*each-failed)
	}
	t.Logf("%d writes in %d commits", writers*each, commits)
}

// BenchmarkEventIngest writes participation events durably from 256
// writers at once, as a district's groups produce them, with every
// roll-up kept; it reports events a second and synced commits per event.
func BenchmarkEventIngest(b *testing.B) {
	ctx := context.Background()
	db := open(b, "")
	if _, err := db.SetRollupZone(ctx, time.FixedZone("CST", 8*3600)); err != nil {
		b.Fatal(err)
	}
	ids, err := db.CreateGroupsForTest(ctx, "bench", 100)
	if err != nil {
		b.Fatal(err)
	}
	var members []int64
	for i := range 100 {
		m, err := db.Members().EnsureMember(ctx, "bench", fmt.Sprint("u", i), "")
		if err != nil {
			b.Fatal(err)
		}
		members = append(members, m.ID)
	}
	var next atomic.Int64
	before := db.Commits()
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				e := &bot.Event{GroupID: ids[i%len(ids)], MemberID: members[i*7%len(members)], Kind: bot.EventQuizAnswer, Detail: "correct"}
				if err := db.Events().CreateEvent(ctx, e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(db.Commits()-before)/float64(b.N), "commits/event")
}

// TestBatchRerunKeepsResults: when a write in a batch fails, the others are
// run again on their own; what they return (here, the pending messages) is
// not doubled.
func TestBatchRerunKeepsResults(t *testing.T) {
	ctx := context.Background()
	for round := range 8 {
		db := open(t, "")
		steppingClock(db)
		for i := range 3 {
			if err := db.Inbox().Accept(ctx, &bot.Message{Channel: "playground", PlatformMsgID: fmt.Sprint("m", i), Text: "你好"}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var pending []*bot.Message
		var perr error
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 8 {
					pending, perr = db.Inbox().Pending(ctx, "playground")
					return
				}
				// Duplicates: refused inside the write, so their batch is rerun.
				db.Inbox().Accept(ctx, &bot.Message{Channel: "playground", PlatformMsgID: "m1", Text: "你好"})
			}()
		}
		wg.Wait()
		if perr != nil || len(pending) != 3 {
			t.Fatalf("round %d: %d pending, %v; want 3", round, len(pending), perr)
		}
	}
}
