package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/report"
	"fanzha/store"
	"fanzha/store/storetest"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

var cst, _ = time.LoadLocation("Asia/Shanghai")

func at(day, hour, min, sec int) time.Time { return time.Date(2026, 11, day, hour, min, sec, 0, cst) }

// seeded is a town with four villages and a school and one week of
// activity, with events right on the week's edges.
type seeded struct {
	db                *store.DB
	groups            map[string]*bot.Group
	members           map[string]*bot.Member
	dongfeng, counsel int64
}

// src is what reports read: the seeded store.
func (s *seeded) src() report.Source {
	return report.Source{Groups: s.db.Groups(), Stats: s.db.Stats()}
}

func seed(t testing.TB) *seeded {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, "")
	s := &seeded{db: db, groups: map[string]*bot.Group{}, members: map[string]*bot.Member{}}
	member := func(id string) *bot.Member {
		if s.members[id] == nil {
			m, err := db.Members().EnsureMember(ctx, "playground", id, "居民"+id)
			if err != nil {
				t.Fatal(err)
			}
			s.members[id] = m
		}
		return s.members[id]
	}
	town := []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}}
	bind := func(pid, name string, path []bot.OrgUnit, by string) {
		g, err := db.Groups().EnsureGroup(ctx, "playground", pid, name)
		if err != nil {
			t.Fatal(err)
		}
		if path != nil {
			db.Now = func() time.Time { return at(1, 9, 0, 0) }
			if g, err = db.Groups().BindGroup(ctx, g.ID, path, member(by).ID); err != nil {
				t.Fatal(err)
			}
		}
		s.groups[pid] = g
	}
	bind("g1", "东风村一组", append(town, bot.OrgUnit{Kind: bot.OrgVillage, Name: "东风村"}), "wang")
	bind("g2", "东风村二组", append(town, bot.OrgUnit{Kind: bot.OrgVillage, Name: "东风村"}), "zhao")
	bind("g3", "幸福社区居民群", append(town, bot.OrgUnit{Kind: bot.OrgCommunity, Name: "幸福社区"}), "sun")
	bind("g4", "红旗村村民群", append(town, bot.OrgUnit{Kind: bot.OrgVillage, Name: "红旗村"}), "zhou")
	bind("g5", "三年级2班家长群", append(town, bot.OrgUnit{Kind: bot.OrgSchool, Name: "实验小学"}, bot.OrgUnit{Kind: bot.OrgClass, Name: "三年级2班"}), "li")
	bind("g6", "光明社区群", append(town, bot.OrgUnit{Kind: bot.OrgCommunity, Name: "光明社区"}), "wu")
	bind("g7", "未绑定的群", nil, "")
	size := 40
	if _, err := db.Groups().UpdateGroup(ctx, s.groups["g1"].ID, bot.GroupUpdate{Size: &size}); err != nil {
		t.Fatal(err)
	}
	units, _ := db.Stats().OrgUnits(ctx)
	pops := map[string]int{"东风村": 50, "幸福社区": 200, "红旗村": 30, "实验小学": 80}
	for _, u := range units {
		if p, ok := pops[u.Name]; ok {
			if err := db.Stats().UpdateOrgUnit(ctx, u.ID, p, 0); err != nil {
				t.Fatal(err)
			}
		}
		if u.Name == "东风村" {
			s.dongfeng = u.ID
		}
	}
	s.counsel = member("wang").ID

	ev := func(g, m string, kind bot.EventKind, detail string, when time.Time) {
		e := &bot.Event{GroupID: s.groups[g].ID, MemberID: member(m).ID, Kind: kind, Detail: detail, At: when}
		if kind == bot.EventScamCheck { // "high:shuadan": the level, then the type
			level, typ, _ := strings.Cut(detail, ":")
			e.Level, e.Detail = bot.CheckLevel(level), typ
		}
		if err := db.Events().CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The week is Monday 16 00:00 to Monday 23 00:00, Asia/Shanghai.
	ev("g1", "a", "scam_check", "high:shuadan", at(15, 23, 59, 59)) // the week before: in the total only
	ev("g1", "b", "scam_check", "high:shuadan", at(16, 0, 0, 0))    // the first instant of the week
	ev("g1", "c", "scam_check", "suspicious:kefu", at(18, 10, 0, 0))
	ev("g1", "c", "quiz_answer", "correct", at(18, 20, 0, 0))
	ev("g1", "d", "quiz_answer", "wrong", at(18, 20, 0, 5))
	ev("g1", "d", "quiz_answer", "correct", at(18, 20, 1, 0))
	ev("g2", "b", "help", "", at(19, 9, 0, 0))                      // b is in both 东风村 groups: one person
	ev("g2", "e", "scam_check", "none", at(22, 23, 59, 59))         // the last instant of the week
	ev("g2", "f", "scam_check", "high:gongjianfa", at(23, 0, 0, 0)) // next week: nowhere
	ev("g3", "g", "warning", "rule_safe_account", at(20, 11, 0, 0))
	ev("g3", "h", "scam_check", "high:rule_safe_account", at(20, 11, 5, 0))
	ev("g5", "i", "quiz_answer", "correct", at(17, 19, 40, 0))
	ev("g5", "j", "quiz_answer", "correct", at(17, 19, 40, 0))
	ev("g6", "k", "help", "", at(21, 15, 0, 0))

	tip := func(g, key, kind string, sent time.Time) {
		p := &bot.OutboxPost{GroupID: s.groups[g].ID, Kind: kind, Key: key, Text: "提示", DueAt: sent}
		if _, err := db.Outbox().EnqueuePosts(ctx, []*bot.OutboxPost{p}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: s.groups[g].ID})
		for _, q := range got {
			if q.Key == key {
				db.Outbox().MarkPosts(ctx, []int64{q.ID}, bot.PostSent, sent, "")
			}
		}
	}
	tip("g1", "a", "tip", at(17, 10, 0, 0))
	tip("g1", "b", "tip", at(20, 10, 0, 0))
	tip("g2", "a", "tip", at(17, 10, 0, 0))
	tip("g3", "a", "tip", at(17, 10, 0, 0))
	tip("g3", "b", "tip_extra", at(19, 15, 0, 0))
	tip("g5", "a", "tip", at(22, 23, 30, 0))
	tip("g5", "b", "tip", at(23, 0, 10, 0)) // next week
	tip("g7", "a", "tip", at(17, 10, 0, 0)) // unbound: not in the report
	r := &bot.QuizRound{GroupID: s.groups["g1"].ID, Questions: []string{"q001"}, Window: time.Minute, OpenedAt: at(18, 20, 0, 0), StartedAt: at(18, 20, 0, 0)}
	if err := db.Quiz().StartRound(ctx, r, &bot.OutboxPost{GroupID: r.GroupID, Kind: "quiz_question", Text: "题", DueAt: r.StartedAt}); err != nil {
		t.Fatal(err)
	}
	return s
}

var campaign = report.Campaign{Start: at(1, 0, 0, 0), Targets: map[string]float64{"2026-11": 8, "2026-12": 25},
	Now: func() time.Time { return at(25, 12, 0, 0) }}

// TestWeekStatus: a group short of tips is 进行中 while its week runs and
// 未达标 only after; a week before a group was bound does not list it; a
// week to come is marked as such, not as missed.
func TestWeekStatus(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	week := func(ws, now time.Time) *report.Report {
		c := campaign
		c.Now = func() time.Time { return now }
		r, err := report.Week(ctx, s.src(), report.Scope{All: true}, bot.WeekStart(ws, cst), c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	statuses := func(r *report.Report) map[string]report.Status {
		m := map[string]report.Status{}
		for _, g := range r.Groups {
			m[g.Group.Name] = g.Status
		}
		return m
	}
	mid := week(at(16, 0, 0, 0), at(19, 12, 0, 0))
	if st := statuses(mid); !mid.Current || st["东风村一组"] != report.StatusMet || st["东风村二组"] != report.StatusOpen || mid.Compliant != 2 {
		t.Errorf("mid-week: current %v, statuses %v, %d compliant", mid.Current, st, mid.Compliant)
	}
	if got := report.StatusOpen.Say(1); got != "，本周还差 1 条" {
		t.Errorf("an open week in chat: %q", got)
	}
	after := week(at(16, 0, 0, 0), at(23, 0, 0, 0))
	if st := statuses(after); after.Current || st["东风村二组"] != report.StatusMissed || st["东风村二组"].Mark() != "✗" {
		t.Errorf("after the week: current %v, statuses %v", after.Current, st)
	}
	if before := week(at(1, 0, 0, 0).AddDate(0, 0, -14), at(25, 12, 0, 0)); len(before.Groups) != 0 {
		t.Errorf("a week before any group was bound lists %d groups", len(before.Groups))
	}
	future := week(at(30, 0, 0, 0), at(25, 12, 0, 0))
	if st := statuses(future); !future.Future || st["东风村二组"] != report.StatusFuture || st["东风村二组"].Mark() != "–" {
		t.Errorf("a week to come: future %v, statuses %v", future.Future, st)
	}
}

func TestWeekGolden(t *testing.T) {
	s := seed(t)
	r, err := report.Week(context.Background(), s.src(), report.Scope{All: true}, bot.WeekStart(at(19, 12, 0, 0), cst), campaign)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "week.golden.csv")
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("weekly report differs from %s (run with -update to accept):\n%s", golden, buf.String())
	}
}

func TestWeekStartIsShanghaiMonday(t *testing.T) {
	// Sunday 23:59:59 in Shanghai is 15:59:59 UTC the same Sunday; Monday
	// 00:00 in Shanghai is still Sunday in UTC.
	if got := bot.WeekStart(at(22, 23, 59, 59).UTC(), cst); !got.Equal(at(16, 0, 0, 0)) {
		t.Errorf("week of Sunday night = %v", got)
	}
	if got := bot.WeekStart(at(23, 0, 0, 0).UTC(), cst); !got.Equal(at(23, 0, 0, 0)) {
		t.Errorf("week of Monday 00:00 = %v", got)
	}
}

func TestScope(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	ws := bot.WeekStart(at(19, 12, 0, 0), cst)
	units, _ := s.db.Stats().OrgUnits(ctx)
	names := func(r *report.Report) string {
		var gs, us []string
		for _, g := range r.Groups {
			gs = append(gs, g.Group.Name)
		}
		for _, u := range r.Units {
			us = append(us, u.Unit.Name)
		}
		return strings.Join(gs, ",") + " | " + strings.Join(us, ",")
	}
	tests := []struct {
		name  string
		scope report.Scope
		want  string
	}{
		{"town admin", report.ScopeFor(units, "admin", 0, 0), "三年级2班家长群,东风村一组,东风村二组,光明社区群,幸福社区居民群,红旗村村民群 | 东风村,实验小学,幸福社区,红旗村,光明社区"},
		{"village admin", report.ScopeFor(units, "admin", s.dongfeng, 0), "东风村一组,东风村二组 | 东风村"},
		{"counsellor", report.ScopeFor(units, "counsellor", 0, s.counsel), "东风村一组 | "},
		{"counsellor not linked", report.ScopeFor(units, "counsellor", 0, 0), " | "},
	}
	for _, tt := range tests {
		r, err := report.Week(ctx, s.src(), tt.scope, ws, campaign)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(r); got != tt.want {
			t.Errorf("%s sees %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestPercentTellsSmallSharesApart(t *testing.T) {
	a, b := report.Percent(100*2.0/1500), report.Percent(100*4.0/3200)
	if a == b || a != "0.13%" || b != "0.12%" {
		t.Errorf("2 of 1,500 is %s and 4 of 3,200 is %s", a, b)
	}
	if got := report.Percent(28.571); got != "28.6%" {
		t.Errorf("Percent(28.571) = %s", got)
	}
}

// TestXLSXHasNumbersOfferCanSum: counts are numbers and shares are
// percentages (not text like "28.6%" or "1/2"), empty figures are blank,
// the header row is frozen and filtered; a counsellor's workbook has only
// the groups sheet.
func TestXLSXHasNumbersOfficesCanSum(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	ws := bot.WeekStart(at(19, 12, 0, 0), cst)
	r, err := report.Week(ctx, s.src(), report.Scope{All: true}, ws, campaign)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// 东风村 is ranked first: row 3. 覆盖率 (G) 10 %, 本周推送条数 (L) 3.
	isText := func(typ excelize.CellType) bool {
		return typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString
	}
	if typ, _ := book.GetCellType("村社学校", "G3"); isText(typ) {
		t.Errorf("覆盖率 is stored as %v, not a number", typ)
	}
	if v, _ := book.GetCellValue("村社学校", "G3", excelize.Options{RawCellValue: true}); v != "0.1" {
		t.Errorf("覆盖率 of 东风村 = %q; want 0.1 (10 %%)", v)
	}
	if v, _ := book.GetCellValue("村社学校", "G3"); v != "10.0%" {
		t.Errorf("覆盖率 of 东风村 shows %q; want 10.0%%", v)
	}
	rows, _ := book.GetRows("群")
	if rows[1][6] != "本周推送" || rows[1][7] != "每周要求" {
		t.Errorf("group header: %v", rows[1])
	}
	for i, row := range rows[2:] {
		if row[0] == "东风村二组" {
			if typ, _ := book.GetCellType("群", fmt.Sprintf("G%d", i+3)); isText(typ) {
				t.Errorf("本周推送 is stored as %v", typ)
			}
			if v, _ := book.GetCellValue("群", fmt.Sprintf("L%d", i+3)); v != "" {
				t.Errorf("答对率 of a group where nobody answered is %q, not blank", v)
			}
		}
	}
	panes, err := book.GetPanes("群")
	if err != nil || !panes.Freeze || panes.YSplit != 2 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}

	units, _ := s.db.Stats().OrgUnits(ctx)
	mine, err := report.Week(ctx, s.src(), report.ScopeFor(units, "counsellor", 0, s.counsel), ws, campaign)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := report.WriteXLSX(&buf, mine); err != nil {
		t.Fatal(err)
	}
	book, _ = excelize.OpenReader(&buf)
	if names := book.GetSheetList(); len(names) != 1 || names[0] != "群" {
		t.Errorf("a counsellor's workbook has sheets %v; want only 群", names)
	}
}

// TestCSVNamesAreNotFormulas: a group named like a formula is text in the
// CSV, not a live formula.
func TestCSVNamesAreNotFormulas(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	evil := `=HYPERLINK("http://example.invalid","点我")`
	g := s.groups["g1"]
	if _, err := s.db.Groups().EnsureGroup(ctx, g.Channel, g.PlatformID, evil); err != nil {
		t.Fatal(err)
	}
	r, err := report.Week(ctx, s.src(), report.Scope{All: true}, bot.WeekStart(at(19, 12, 0, 0), cst), campaign)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"'=HYPERLINK(`) || strings.Contains(buf.String(), `,"=HYPERLINK(`) {
		t.Fatalf("a formula-like name in the CSV:\n%s", buf.String())
	}
}

// TestPlaygroundNeverOfficial: where a real channel runs, the playground's
// simulated groups (anyone who reaches it can make one) are left out of
// the figures, rankings and exports.
func TestPlaygroundNeverOfficial(t *testing.T) {
	s := seed(t) // every seeded group is a playground group
	c := campaign
	c.Official = true
	r, err := report.Week(context.Background(), s.src(), report.Scope{All: true}, bot.WeekStart(at(19, 12, 0, 0), cst), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != 0 || r.Total.ScamChecks != 0 {
		t.Fatalf("an official report counts %d playground groups, %d checks", len(r.Groups), r.Total.ScamChecks)
	}
}
