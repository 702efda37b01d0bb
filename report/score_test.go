package report_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/report"
	"fanzha/store/storetest"
)

// TestMonthScoresBottomThree: five villages of 100 people each in November
// 2026, reached by 100, 80, 50, 20 and 10 people, with 4, 4, 2, 1 and 0 of
// their four finished weeks at two tips, nobody answering quizzes, and one
// case in the third: with the default weights (coverage and tips 37.5 each
// and quiz 25 once pledges and the app survey are absent) the scores are
// 75, 67.5, 32.5, 16.9 and 3.75, and the last three, all under 60, are
// named.
func TestMonthScoresBottomThree(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "")
	loc := time.FixedZone("CST", 8*3600)
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	db.Now = func() time.Time { return month.AddDate(0, 0, -5) }
	reached := []int{100, 80, 50, 20, 10}
	compliantWeeks := []int{4, 4, 2, 1, 0}
	names := []string{"甲村", "乙村", "丙村", "丁村", "戊村"}
	member := 0
	for i, name := range names {
		g, err := db.Groups().EnsureGroup(ctx, "playground", fmt.Sprint("g", i), name+"村民群")
		if err != nil {
			t.Fatal(err)
		}
		if g, err = db.Groups().BindGroup(ctx, g.ID, []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: name}}, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.Stats().UpdateOrgUnit(ctx, g.OrgUnit.ID, 100, 0); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < reached[i]; k++ {
			member++
			m, err := db.Members().EnsureMember(ctx, "playground", fmt.Sprint("m", member), "")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Events().CreateEvent(ctx, &bot.Event{GroupID: g.ID, MemberID: m.ID, Kind: bot.EventHelp, At: month.AddDate(0, 0, 3)}); err != nil {
				t.Fatal(err)
			}
		}
		for wk := 0; wk < compliantWeeks[i]; wk++ {
			for n := 0; n < 2; n++ {
				at := time.Date(2026, 11, 2+7*wk, 10+n, 0, 0, 0, loc)
				posts := []*bot.OutboxPost{{GroupID: g.ID, Kind: bot.PostTip, Key: fmt.Sprint("tip", wk, n), Text: "提示", DueAt: at}}
				if _, err := db.Outbox().EnqueuePosts(ctx, posts); err != nil {
					t.Fatal(err)
				}
				ps, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID, Key: posts[0].Key})
				if err := db.Outbox().MarkPosts(ctx, []int64{ps[0].ID}, bot.PostSent, at, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		if i == 2 {
			if err := db.Cases().AddCases(ctx, []*bot.Case{{Date: time.Date(2026, 11, 12, 0, 0, 0, 0, loc), UnitID: g.OrgUnit.ID, ScamType: "shuadan",
				Loss: 5000, AgeBand: "18-30岁", Role: "居民", At: month}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, loc)
	scores, err := report.MonthScores(ctx, report.ScoreSource{Groups: db.Groups(), Stats: db.Stats(), Campaigns: db.Campaigns(), Cases: db.Cases()},
		report.Scope{All: true}, month, report.Campaign{Start: month, Now: func() time.Time { return now }}, report.DefaultScoreWeights)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{75, 67.5, 32.5, 16.875, 3.75}
	if len(scores) != len(want) {
		t.Fatalf("%d units scored; want %d", len(scores), len(want))
	}
	for i, s := range scores {
		if s.Unit.Name != names[i] || math.Abs(s.Score-want[i]) > 0.01 || s.Rank != i+1 || s.Bottom != (i >= 2) {
			t.Errorf("rank %d: %s %.3f (bottom %v); want %s %.3f (bottom %v); parts %+v", i+1, s.Unit.Name, s.Score, s.Bottom, names[i], want[i], i >= 2, s.Parts)
		}
	}
	if scores[2].Cases != 1 || scores[2].Penalty != 5 {
		t.Errorf("the case did not cost five points: %+v", scores[2])
	}
}
