// Package autoreport posts a unit's reports to its 管理群 on schedule —
// weekly on Thursday 16:00, progress on the 10th and 25th at 09:00, and the
// month on the 1st at 09:00 — through the outbox, once per slot: a slot
// missed while the server was down is posted once when it comes back,
// never twice.
package autoreport

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// Kinds of scheduled report.
const (
	Weekly   = "weekly"
	Progress = "progress"
	Monthly  = "monthly"
)

// Kinds are every kind, in the order they are planned.
var Kinds = []string{Weekly, Progress, Monthly}

// Slot is the latest time a report of kind was due at or before now, in
// loc: Thursday 16:00; the 10th or the 25th at 09:00; the 1st at 09:00.
func Slot(kind string, now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	switch kind {
	case Weekly:
		ws := bot.WeekStart(t, loc)
		s := time.Date(ws.Year(), ws.Month(), ws.Day()+3, 16, 0, 0, 0, loc)
		if s.After(t) {
			s = s.AddDate(0, 0, -7)
		}
		return s
	case Progress:
		for m := 0; m < 2; m++ {
			month := time.Date(t.Year(), t.Month()-time.Month(m), 1, 0, 0, 0, 0, loc)
			for _, d := range []int{25, 10} {
				s := time.Date(month.Year(), month.Month(), d, 9, 0, 0, 0, loc)
				if !s.After(t) {
					return s
				}
			}
		}
	case Monthly:
		s := time.Date(t.Year(), t.Month(), 1, 9, 0, 0, 0, loc)
		if s.After(t) {
			s = s.AddDate(0, -1, 0)
		}
		return s
	}
	return time.Time{}
}

// Reporter is the feature.
type Reporter struct {
	Reports  bot.ReportGroupStore
	Groups   bot.GroupStore
	Stats    bot.StatsStore
	Cases    bot.CaseStore
	Outbox   bot.Outbox
	Campaign func() report.Campaign
	// KindName names a scam type for people.
	KindName func(id string) string
	Loc      *time.Location
	// BaseURL is where the admin pages are reached from outside, for the
	// link in each report; "" leaves the link out.
	BaseURL string
	Now     func() time.Time
}

// Register adds 设为管理群 and 取消管理群 for the group's counsellor.
func Register(r *bot.Router, rep *Reporter) {
	r.Handle(bot.CounsellorOnly(rep.set), "设为管理群")
	r.Handle(bot.CounsellorOnly(rep.unset), "取消管理群")
	r.Describe(bot.Usage{Say: "设为管理群 城关镇", Does: "把本群设为本单位（或上级镇街）的管理群，按时收到周报、进度和月报", Counsellor: true})
}

// set makes the group the 管理群 of its own unit, or of the unit above it
// that the argument names ("设为管理群 城关镇").
func (rep *Reporter) set(c *bot.Context) error {
	if c.Group.OrgUnit == nil {
		return bot.Errorf(bot.ECONFLICT, "请先绑定本群，例如：绑定 城关镇 幸福社区；再发送“设为管理群 城关镇”。")
	}
	unit := *c.Group.OrgUnit
	if name := strings.TrimSpace(c.Args()); name != "" && name != unit.Name {
		units, err := rep.Stats.OrgUnits(c.Context())
		if err != nil {
			return err
		}
		byID := map[int64]bot.OrgUnit{}
		for _, u := range units {
			byID[u.ID] = u
		}
		found := false
		for u, ok := byID[unit.ParentID]; ok; u, ok = byID[u.ParentID] {
			if u.Name == name {
				unit, found = u, true
				break
			}
		}
		if !found {
			return bot.Errorf(bot.EINVALID, "“%s”不是本群所属的单位或它的上级。本群绑定在“%s”。", name, c.Group.OrgUnit.Name)
		}
	}
	if err := rep.Reports.SetReportGroup(c.Context(), unit.ID, c.Group.ID, c.Member.ID, rep.Now()); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("已把本群设为“%s”的管理群：每周四 16:00 发周报，每月 10 日、25 日 09:00 发进度，每月 1 日 09:00 发月报。发送“取消管理群”可停止。",
		unit.Name))
}

func (rep *Reporter) unset(c *bot.Context) error {
	had, err := rep.Reports.UnsetReportGroup(c.Context(), c.Group.ID)
	if err != nil {
		return err
	}
	if !had {
		return bot.Errorf(bot.ECONFLICT, "本群不是管理群。")
	}
	return c.Reply("好的，本群不再接收定时报告。")
}

// Tick posts every report group's latest due report of each kind, unless
// it was posted already or was due before the group became a report group.
func (rep *Reporter) Tick(ctx context.Context, now time.Time) error {
	rgs, err := rep.Reports.ReportGroups(ctx)
	if err != nil {
		return err
	}
	for _, rg := range rgs {
		for _, kind := range Kinds {
			slot := Slot(kind, now, rep.Loc)
			if slot.Before(rg.SetAt) {
				continue
			}
			key := "report:" + kind + ":" + slot.Format("2006-01-02")
			have, err := rep.Outbox.FindPosts(ctx, bot.PostFilter{GroupID: rg.GroupID, Key: key})
			if err != nil {
				return err
			}
			if len(have) > 0 {
				continue
			}
			text, err := rep.Compose(ctx, rg.UnitID, kind, slot)
			if err != nil {
				return err
			}
			post := &bot.OutboxPost{GroupID: rg.GroupID, Kind: bot.PostReport, Ref: kind, Key: key, Text: text, DueAt: now}
			if _, err := rep.Outbox.EnqueuePosts(ctx, []*bot.OutboxPost{post}); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxListed: a report names at most this many units or groups in a line.
const maxListed = 8

func list(names []string) string {
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], "、") + fmt.Sprintf(" 等 %d 个", len(names))
	}
	return strings.Join(names, "、")
}

// Compose is the report of kind for unit at slot: coverage against the
// month's target, the bottom three, groups short of tips, new cases since
// the previous report of that kind, and 必讲 flags.
func (rep *Reporter) Compose(ctx context.Context, unitID int64, kind string, slot time.Time) (string, error) {
	units, err := rep.Stats.OrgUnits(ctx)
	if err != nil {
		return "", err
	}
	byID := map[int64]bot.OrgUnit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	scope := report.ScopeFor(units, bot.RoleAdmin, unitID, 0)
	title := map[string]string{Weekly: "反诈周报", Progress: "反诈进度", Monthly: "反诈月报"}[kind]
	// The weekly report is the week so far; the others the last full week.
	ws := bot.WeekStart(slot.AddDate(0, 0, -7), rep.Loc)
	var prev time.Time
	switch kind {
	case Weekly:
		prev, ws = slot.AddDate(0, 0, -7), bot.WeekStart(slot, rep.Loc)
	case Progress:
		prev = Slot(Progress, slot.Add(-time.Minute), rep.Loc)
	case Monthly:
		prev = slot.AddDate(0, -1, 0)
	}
	r, err := report.Week(ctx, report.Source{Groups: rep.Groups, Stats: rep.Stats}, scope, ws, rep.Campaign())
	if err != nil {
		return "", err
	}
	lines := []string{fmt.Sprintf("【%s】%s %s", title, byID[unitID].Name, slot.In(rep.Loc).Format("1月2日 15:04"))}
	var cov, bottom []string
	for _, u := range r.Units {
		if u.Unit.Population == 0 {
			continue
		}
		s := fmt.Sprintf("%s %s", u.Unit.Name, report.Percent(u.Coverage))
		if u.Target > 0 {
			mark := "✓"
			if u.Coverage < u.Target {
				mark = "未达目标"
			}
			s += "（目标 " + report.Percent(u.Target) + " " + mark + "）"
		}
		cov = append(cov, s)
		if u.Bottom {
			bottom = append(bottom, u.Unit.Name)
		}
	}
	if len(cov) > 0 {
		lines = append(lines, "覆盖率："+list(cov))
	}
	if len(bottom) > 0 {
		lines = append(lines, "后三名："+strings.Join(bottom, "、"))
	}
	var short []string
	for _, g := range r.Groups {
		if g.Status != report.StatusMet {
			short = append(short, fmt.Sprintf("%s（%d 条）", g.Group.Name, g.F.TipsSent))
		}
	}
	week := "本周"
	if kind != Weekly {
		week = ws.Format("1月2日") + "那一周"
	}
	if len(short) > 0 {
		lines = append(lines, fmt.Sprintf("%s推送不足 %d 条的群：%s", week, report.RequiredTips, list(short)))
	} else if len(r.Groups) > 0 {
		lines = append(lines, fmt.Sprintf("%s %d 个群推送全部达标。", week, len(r.Groups)))
	}
	if rep.Cases != nil {
		cases, err := rep.Cases.Cases(ctx, prev, slot.AddDate(0, 0, 1))
		if err != nil {
			return "", err
		}
		n, loss := 0, int64(0)
		for _, c := range cases {
			if scope.Unit(c.UnitID) && !c.At.Before(prev) && c.At.Before(slot) {
				n++
				loss += c.Loss
			}
		}
		if n > 0 {
			lines = append(lines, fmt.Sprintf("新登记案件 %d 起，损失 %d 元。", n, loss))
		}
		flags, err := rep.Cases.MustTeach(ctx)
		if err != nil {
			return "", err
		}
		var must []string
		for id, types := range flags {
			if scope.Unit(id) {
				var names []string
				for _, t := range types {
					names = append(names, rep.KindName(t))
				}
				must = append(must, byID[id].Name+"（"+strings.Join(names, "、")+"）")
			}
		}
		sort.Strings(must)
		if len(must) > 0 {
			lines = append(lines, "必讲："+list(must))
		}
	}
	if rep.BaseURL != "" {
		lines = append(lines, "详情："+strings.TrimRight(rep.BaseURL, "/")+"/admin/?week="+ws.Format("2006-01-02"))
	} else {
		lines = append(lines, "详情请登录管理后台查看。")
	}
	return strings.Join(lines, "\n"), nil
}
