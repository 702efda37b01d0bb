package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
)

// TestGroupCacheNeverStale: EnsureGroup, the read every message makes, is
// answered from memory, but never with a group older than the last change
// that returned: a setting, a binding, a unit's population, a removal. Many
// readers run while the settings change.
func TestGroupCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	db := open(t, "")
	gs := db.Groups()
	g, err := gs.EnsureGroup(ctx, "playground", "g1", "东风村群")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := gs.EnsureGroup(ctx, "playground", "g1", "东风村群"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 50 {
		on := i%2 == 0
		if _, err := gs.UpdateGroup(ctx, g.ID, bot.GroupUpdate{WarnScams: &on}); err != nil {
			t.Fatal(err)
		}
		got, err := gs.EnsureGroup(ctx, "playground", "g1", "东风村群")
		if err != nil {
			t.Fatal(err)
		}
		if got.WarnScams == nil || *got.WarnScams != on {
			t.Fatalf("round %d: warn_scams %v right after setting it to %v", i, got.WarnScams, on)
		}
		// A caller changing what it got changes nothing for the next.
		*got.WarnScams = !on
	}
	close(stop)
	wg.Wait()

	bound, err := gs.BindGroup(ctx, g.ID, []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: "东风村"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := gs.EnsureGroup(ctx, "playground", "g1", ""); got.OrgUnit == nil || got.OrgUnit.Name != "东风村" {
		t.Fatalf("after binding: %+v", got.OrgUnit)
	}
	if err := db.Stats().UpdateOrgUnit(ctx, bound.OrgUnit.ID, 1234, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := gs.EnsureGroup(ctx, "playground", "g1", ""); got.OrgUnit.Population != 1234 {
		t.Fatalf("after setting the population: %d", got.OrgUnit.Population)
	}
	if err := gs.UnbindGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := gs.EnsureGroup(ctx, "playground", "g1", ""); got.OrgUnit != nil {
		t.Fatalf("after unbinding: %+v", got.OrgUnit)
	}
	removed := true
	if _, err := gs.UpdateGroup(ctx, g.ID, bot.GroupUpdate{Removed: &removed}); err != nil {
		t.Fatal(err)
	}
	// Speaking again brings a removed group back.
	if got, _ := gs.EnsureGroup(ctx, "playground", "g1", ""); got.RemovedAt != nil {
		t.Fatalf("a group that speaks again is not removed: %v", got.RemovedAt)
	}
	// A new name is written, not answered from memory.
	if got, _ := gs.EnsureGroup(ctx, "playground", "g1", "东风村新群"); got.Name != "东风村新群" {
		t.Fatalf("renamed: %q", got.Name)
	}
}

// TestGroupCacheSeesOtherProcesses: a second process on the same database
// file changes a group; the first sees it within the cache's lifetime.
func TestGroupCacheSeesOtherProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fanzha.db")
	a, b := open(t, path), open(t, path)
	g, err := a.Groups().EnsureGroup(ctx, "playground", "g1", "东风村群")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Groups().EnsureGroup(ctx, "playground", "g1", "东风村群"); err != nil { // now in a's memory
		t.Fatal(err)
	}
	on := true
	if _, err := b.Groups().UpdateGroup(ctx, g.ID, bot.GroupUpdate{WarnScams: &on}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := a.Groups().EnsureGroup(ctx, "playground", "g1", "东风村群")
		if err != nil {
			t.Fatal(err)
		}
		if got.WarnScams != nil && *got.WarnScams {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process's change was never seen")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
