// Package stats answers figures in chat: 本周统计 for a group's counsellor,
// 本群排行 for everyone, 群人数 to record a group's size, and 关联账号 to
// link a counsellor's admin web account to their chat identity.
package stats

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// AccountLinker ties a counsellor's web account to a chat member.
type AccountLinker interface {
	LinkAccount(ctx context.Context, code string, memberID int64) (string, error)
}

// Stats is the feature.
type Stats struct {
	Groups   bot.GroupStore
	Accounts AccountLinker
	Week     func(ctx context.Context, scope report.Scope, weekStart time.Time) (*report.Report, error)
	Now      func() time.Time
	Loc      *time.Location
}

// Register adds the commands.
func Register(r *bot.Router, s *Stats) {
	r.Handle(bot.CounsellorOnly(s.week), "本周统计")
	r.Handle(s.rank, "本群排行")
	r.Handle(bot.CounsellorOnly(s.size), "群人数")
	r.Handle(bot.CounsellorOnly(s.link), "关联账号")
	r.Describe(bot.Usage{Say: "本群排行", Does: "看看本群本周在同一镇街/学校的群里排第几"})
	r.Describe(bot.Usage{Say: "本周统计", Does: "本群本周的推送、参与和答题情况", Counsellor: true})
	r.Describe(bot.Usage{Say: "群人数 320", Does: "登记群人数，用来算活跃率", Counsellor: true})
	r.Describe(bot.Usage{Say: "关联账号 关联码", Does: "把管理后台账号和您关联，在网页上查看本群数据", Counsellor: true})
}

func (s *Stats) week(c *bot.Context) error {
	ws := bot.WeekStart(s.Now(), s.Loc)
	rep, err := s.Week(c.Context(), report.Scope{Member: c.Member.ID}, ws)
	if err != nil {
		return err
	}
	var row *report.GroupRow
	for i := range rep.Groups {
		if rep.Groups[i].Group.ID == c.Group.ID {
			row = &rep.Groups[i]
		}
	}
	if row == nil {
		return bot.Errorf(bot.ENOTFOUND, "没有找到本群的统计。")
	}
	f := row.F
	lines := []string{
		fmt.Sprintf("【本周统计 %s 起】%s", ws.Format("01-02"), c.Group.Name),
		fmt.Sprintf("反诈推送：%d 条（要求 ≥%d）%s", f.TipsSent, report.RequiredTips, row.Status.Say(f.TipsSent)),
		fmt.Sprintf("参与人数：%d 人", f.Members),
	}
	if c.Group.Size > 0 {
		lines[2] += "，活跃率 " + report.Percent(row.ActiveRate)
	}
	lines = append(lines,
		fmt.Sprintf("答题：%d 轮，%d 人参与，答对率 %s", f.QuizRounds, f.QuizParticipants, report.CorrectText(f)),
		fmt.Sprintf("诈骗查询：%d 次（高风险 %d，可疑 %d）；主动预警 %d 次", f.ScamChecks, f.ChecksHigh, f.ChecksSuspicious, f.Warnings))
	return c.Reply(strings.Join(lines, "\n"))
}

// rank places the group among the groups of the same town (or school) by
// people taking part this week. It shows only other groups' positions and
// names, not their members.
func (s *Stats) rank(c *bot.Context) error {
	if c.Group == nil || !c.Group.Bound() {
		return bot.Errorf(bot.ECONFLICT, "本群还没有绑定，绑定后才有排行。")
	}
	ws := bot.WeekStart(s.Now(), s.Loc)
	rep, err := s.Week(c.Context(), report.Scope{All: true}, ws)
	if err != nil {
		return err
	}
	parent := c.Group.OrgUnit.ParentID
	var peers []report.GroupRow
	for _, g := range rep.Groups {
		if g.Group.OrgUnit != nil && (g.Group.OrgUnit.ParentID == parent || g.Group.ID == c.Group.ID) {
			peers = append(peers, g)
		}
	}
	sort.SliceStable(peers, func(i, j int) bool { return peers[i].F.Members > peers[j].F.Members })
	for i, g := range peers {
		if g.Group.ID == c.Group.ID {
			return c.Reply(fmt.Sprintf("本周本群有 %d 人参与反诈活动，在同一镇街/学校的 %d 个群中排第 %d 名。多查询、多答题，一起把排名提上去！",
				g.F.Members, len(peers), i+1))
		}
	}
	return bot.Errorf(bot.ENOTFOUND, "没有找到本群的排行。")
}

func (s *Stats) size(c *bot.Context) error {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(c.Args()), "人"))
	if err != nil || n < 1 || n > bot.MaxGroupSize {
		return bot.Errorf(bot.EINVALID, "请写上群人数，例如：群人数 320")
	}
	if _, err := s.Groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{Size: &n}); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("已登记本群人数 %d 人，统计里会显示活跃率。", n))
}

func (s *Stats) link(c *bot.Context) error {
	code := strings.TrimSpace(c.Args())
	if code == "" {
		return bot.Errorf(bot.EINVALID, "请写上管理员给您的关联码，例如：关联账号 AB12CD34")
	}
	name, err := s.Accounts.LinkAccount(c.Context(), code, c.Member.ID)
	if err != nil {
		return err
	}
	return c.Reply("已关联账号 " + name + "。登录管理后台即可查看您绑定的群的数据。")
}
