package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/report"
	"fanzha/store"
	"fanzha/store/storetest"
)

// survey stores a survey of the two villages' groups and its answers:
// answers[g] lists each person's option in group g.
func survey(t *testing.T, db *store.DB, units []int64, repeatOf int64, answers map[int64][]int, member *int64) *bot.Campaign {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	c := &bot.Campaign{Kind: bot.CampaignSurvey, Title: "反诈App安装", Text: "您安装国家反诈中心App了吗？", Units: units, RepeatOf: repeatOf,
		Options: []string{"已安装并开启预警", "未安装"}, Target: 60}
	if err := bot.ValidateCampaign(c, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Campaigns().CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	for g, opts := range answers {
		for _, o := range opts {
			*member++
			m, err := db.Members().EnsureMember(ctx, "playground", strings.Repeat("u", int(*member)), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Campaigns().Answer(ctx, &bot.CampaignAnswer{CampaignID: c.ID, GroupID: g, MemberID: m.ID, Option: o, At: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// TestCampaignFiguresAndRepeat: per village, answers against population
// with the first option's share against the target, ranked; the repeat
// survey (回头看) lists the group whose share fell; a counsellor's view
// holds only their group.
func TestCampaignFiguresAndRepeat(t *testing.T) {
	db := storetest.Open(t, "")
	ctx := context.Background()
	var groups []*bot.Group
	var counsellors []int64
	for i, v := range []string{"东风村", "西湖村"} {
		g, err := db.Groups().EnsureGroup(ctx, "playground", v, v+"村民群")
		if err != nil {
			t.Fatal(err)
		}
		counsellor, err := db.Members().EnsureMember(ctx, "playground", "counsellor-"+v, "")
		if err != nil {
			t.Fatal(err)
		}
		counsellors = append(counsellors, counsellor.ID)
		if g, err = db.Groups().BindGroup(ctx, g.ID, []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: v}}, counsellor.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Stats().UpdateOrgUnit(ctx, g.OrgUnit.ID, 10*(i+1), 0); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	town := groups[0].OrgUnit.ParentID
	var member int64
	first := survey(t, db, []int64{town}, 0, map[int64][]int{groups[0].ID: {1, 1, 2}, groups[1].ID: {1, 2}}, &member)
	again := survey(t, db, []int64{town}, first.ID, map[int64][]int{groups[0].ID: {1, 2, 2}, groups[1].ID: {1, 1}}, &member)
	src := report.CampaignSource{Campaigns: db.Campaigns(), Groups: db.Groups(), Stats: db.Stats()}

	r, err := report.BuildCampaign(ctx, src, report.Scope{All: true}, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Units) != 2 || r.Answers != 5 || r.ByOption[0] != 3 {
		t.Fatalf("first survey: %d units, %d answers, %v", len(r.Units), r.Answers, r.ByOption)
	}
	// 东风村: 2 of 10 people chose the first option (20 %); 西湖村: 1 of 20 (5 %).
	if u := r.Units[0]; u.Unit.Name != "东风村" || u.Rank != 1 || u.YesRate != 20 || u.Rate != 30 {
		t.Errorf("first ranked: %+v", u)
	}
	if u := r.Units[1]; u.Unit.Name != "西湖村" || u.Rank != 2 || u.YesRate != 5 {
		t.Errorf("second ranked: %+v", u)
	}
	// The town sums both: 5 answers of 30 people, 3 chose the first option.
	if len(r.Towns) != 1 || r.Towns[0].Unit.Name != "城关镇" || r.Towns[0].Answers != 5 || r.Towns[0].Unit.Population != 30 || r.Towns[0].YesRate != 10 {
		t.Errorf("town row: %+v", r.Towns)
	}

	r, err = report.BuildCampaign(ctx, src, report.Scope{All: true}, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Repeat == nil || r.Repeat.ID != first.ID || len(r.Fell) != 1 || r.Fell[0].Group.ID != groups[0].ID ||
		int(r.Fell[0].Before) != 66 || int(r.Fell[0].After) != 33 {
		t.Fatalf("回头看: %+v", r.Fell)
	}

	mine, err := report.BuildCampaign(ctx, src, report.Scope{Member: counsellors[1]}, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Groups) != 1 || mine.Groups[0].Group.ID != groups[1].ID || len(mine.Units) != 0 || mine.Answers != 2 {
		t.Fatalf("counsellor's view: %d groups, %d units, %d answers", len(mine.Groups), len(mine.Units), mine.Answers)
	}
}
