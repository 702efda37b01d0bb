package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
)

// TestReachRollupEqualsEvents: on random data — people in one or several
// groups, villages and the classes of a school, events before and after
// the campaign's start, the start moved — reach counted from the roll-up
// equals reach counted from the events, and both equal a count made here
// from the events as they were written.
func TestReachRollupEqualsEvents(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			ctx := context.Background()
			db := open(t, "")
			gs := db.Groups()
			paths := [][]bot.OrgUnit{
				{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: "东风村"}},
				{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: "幸福社区"}},
				{{Kind: bot.OrgSchool, Name: "实验小学"}, {Kind: bot.OrgClass, Name: "一年级1班"}},
				{{Kind: bot.OrgSchool, Name: "实验小学"}, {Kind: bot.OrgClass, Name: "一年级2班"}},
			}
			var groups []*bot.Group
			unitOf := map[int64]int64{}
			for i := range 10 {
				g, err := gs.EnsureGroup(ctx, "playground", fmt.Sprint("g", i), fmt.Sprint("群", i))
				if err != nil {
					t.Fatal(err)
				}
				if i < 8 { // two groups stay unbound
					if g, err = gs.BindGroup(ctx, g.ID, paths[i%len(paths)], 0); err != nil {
						t.Fatal(err)
					}
					unitOf[g.ID] = g.OrgUnit.ID
				}
				groups = append(groups, g)
			}
			var members []int64
			for i := range 30 {
				m, err := db.Members().EnsureMember(ctx, "playground", fmt.Sprint("u", i), "")
				if err != nil {
					t.Fatal(err)
				}
				members = append(members, m.ID)
			}
			// reportsTo as reports make it: a village for itself, a class into its school.
			units, err := db.Stats().OrgUnits(ctx)
			if err != nil {
				t.Fatal(err)
			}
			reportsTo := map[int64]int64{}
			for _, u := range units {
				switch u.Kind {
				case bot.OrgVillage, bot.OrgSchool:
					reportsTo[u.ID] = u.ID
				case bot.OrgClass:
					reportsTo[u.ID] = u.ParentID
				}
			}
			base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
			type ev struct {
				group, member int64
				kind          bot.EventKind
				at            time.Time
			}
			var written []ev
			write := func(n int) {
				for range n {
					e := ev{groups[rng.IntN(len(groups))].ID, members[rng.IntN(len(members))],
						[]bot.EventKind{bot.EventScamCheck, bot.EventQuizAnswer}[rng.IntN(2)], base.Add(time.Duration(rng.IntN(90*24)) * time.Hour)}
					if err := db.Events().CreateEvent(ctx, &bot.Event{GroupID: e.group, MemberID: e.member, Kind: e.kind, At: e.at}); err != nil {
						t.Fatal(err)
					}
					written = append(written, e)
				}
			}
			want := func(from, to time.Time, kind bot.EventKind) map[int64]int {
				sets := map[int64]map[int64]bool{}
				for _, e := range written {
					unit, ok := unitOf[e.group]
					if !ok || e.at.Before(from) || !e.at.Before(to) || kind != "" && e.kind != kind {
						continue
					}
					rep := reportsTo[unit]
					if sets[rep] == nil {
						sets[rep] = map[int64]bool{}
					}
					sets[rep][e.member] = true
				}
				out := map[int64]int{}
				for rep, s := range sets {
					out[rep] = len(s)
				}
				return out
			}
			check := func(what string, from, to time.Time, kind bot.EventKind) {
				t.Helper()
				exp := fmt.Sprint(want(from, to, kind))
				for _, direct := range []bool{false, true} {
					db.ReadEventsDirectly(direct)
					got, err := db.Stats().UnitReach(ctx, from, to, kind, reportsTo)
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != exp {
						t.Errorf("%s (direct %v): %v; want %s", what, direct, got, exp)
					}
				}
				db.ReadEventsDirectly(false)
			}
			write(200)
			for _, days := range []int{10, 45, 91} {
				check(fmt.Sprint("since the beginning, to day ", days), time.Time{}, base.AddDate(0, 0, days), "")
			}
			start := base.AddDate(0, 0, 20+rng.IntN(30))
			if rebuilt, err := db.SetReachEpoch(ctx, start); err != nil || !rebuilt {
				t.Fatalf("moving the start: %v, %v", rebuilt, err)
			}
			write(200) // written after the start moved, before and after it
			for _, days := range []int{30, 60, 91} {
				check(fmt.Sprint("since the start, to day ", days), start, base.AddDate(0, 0, days), "")
				check(fmt.Sprint("a week to day ", days), base.AddDate(0, 0, days-7), base.AddDate(0, 0, days), "")
				check(fmt.Sprint("quiz, a week to day ", days), base.AddDate(0, 0, days-7), base.AddDate(0, 0, days), bot.EventQuizAnswer)
			}
			if rebuilt, err := db.SetReachEpoch(ctx, start); err != nil || rebuilt {
				t.Fatalf("the same start again rebuilt: %v, %v", rebuilt, err)
			}
		})
	}
}

// TestGroupRollupsEqualEvents: a week's group figures read from the
// roll-ups, kept event by event, equal those counted from the events, and
// equal them again after the roll-ups are rebuilt for another time zone;
// a period that is not a whole week is counted from the events.
func TestGroupRollupsEqualEvents(t *testing.T) {
	// One event a transaction, and bursts from many writers that the
	// committer gathers into shared transactions.
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprint("concurrent ", concurrent), func(t *testing.T) { groupRollupsEqualEvents(t, concurrent) })
	}
}

func groupRollupsEqualEvents(t *testing.T, concurrent bool) {
	ctx := context.Background()
	db := open(t, "")
	cst, _ := time.LoadLocation("Asia/Shanghai")
	if _, err := db.SetRollupZone(ctx, cst); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 9))
	var groups, members []int64
	for i := range 6 {
		g, err := db.Groups().EnsureGroup(ctx, "playground", fmt.Sprint("g", i), fmt.Sprint("群", i))
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.ID)
	}
	for i := range 25 {
		m, err := db.Members().EnsureMember(ctx, "playground", fmt.Sprint("u", i), "")
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m.ID)
	}
	monday := time.Date(2026, 10, 5, 0, 0, 0, 0, cst)
	kinds := []bot.EventKind{bot.EventScamCheck, bot.EventQuizAnswer, bot.EventWarning, bot.EventKind("help")}
	levels := []bot.CheckLevel{bot.CheckHigh, bot.CheckSuspicious, bot.CheckNone, bot.CheckLookup}
	var evs []*bot.Event
	for range 600 {
		e := &bot.Event{GroupID: groups[rng.IntN(len(groups))], Kind: kinds[rng.IntN(len(kinds))],
			At: monday.Add(time.Duration(rng.IntN(5*7*24*60)) * time.Minute)}
		if rng.IntN(10) > 0 {
			e.MemberID = members[rng.IntN(len(members))]
		}
		switch e.Kind {
		case bot.EventScamCheck:
			e.Level = levels[rng.IntN(len(levels))]
		case bot.EventQuizAnswer:
			e.Detail = []string{"correct", "wrong"}[rng.IntN(2)]
		}
		evs = append(evs, e)
	}
	before := db.Commits()
	if !concurrent {
		for _, e := range evs {
			if err := db.Events().CreateEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(evs); i += 16 {
					if err := db.Events().CreateEvent(ctx, evs[i]); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n := db.Commits() - before; n >= int64(len(evs)) {
			t.Fatalf("%d commits for %d events: no burst was committed together", n, len(evs))
		}
	}
	figures := func(from, to time.Time, group int64, direct bool) string {
		db.ReadEventsDirectly(direct)
		defer db.ReadEventsDirectly(false)
		f, err := db.Stats().GroupFigures(ctx, from, to, group)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, g := range groups {
			if x := f[g]; x != nil {
				out += fmt.Sprintf("%d:%+v ", g, *x)
			}
		}
		return out
	}
	compare := func(when string) {
		t.Helper()
		for w := range 5 {
			from := monday.AddDate(0, 0, 7*w)
			for _, span := range []struct {
				from, to time.Time
			}{{from, from.AddDate(0, 0, 7)}, {from.Add(time.Hour), from.AddDate(0, 0, 3)}} {
				for _, g := range []int64{0, groups[w%len(groups)]} {
					before := db.RollupReads()
					want, got := figures(span.from, span.to, g, true), figures(span.from, span.to, g, false)
					if whole := span.to.Sub(span.from) == 7*24*time.Hour; (db.RollupReads() > before) != whole {
						t.Errorf("%s–%s: read from the roll-ups %v; want %v", span.from, span.to, !whole, whole)
					}
					if got != want || want == "" {
						t.Errorf("%s, %s–%s, group %d:\nroll-ups %s\nevents   %s", when, span.from, span.to, g, got, want)
					}
				}
			}
		}
	}
	compare("kept event by event")
	if rebuilt, err := db.SetRollupZone(ctx, time.UTC); err != nil || !rebuilt {
		t.Fatalf("another zone: %v %v", rebuilt, err)
	}
	if rebuilt, err := db.SetRollupZone(ctx, cst); err != nil || !rebuilt {
		t.Fatalf("back: %v %v", rebuilt, err)
	}
	compare("rebuilt")
}
