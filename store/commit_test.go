package store_test

import (
	"context"
	"sync"
	"testing"

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
