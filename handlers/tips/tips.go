// Package tips posts anti-fraud tips to every bound group on its weekly
// schedule, through the outbox, and lets counsellors see and change the
// schedule or ask for a tip now.
package tips

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/schedule"
)

// Post kinds of this feature.
const (
	KindTip      = bot.PostTip      // a scheduled tip; counts for the twice-a-week rule
	KindTipExtra = bot.PostTipExtra // asked for with 来一条提示
)

// Planner puts each bound group's due tips into the outbox.
type Planner struct {
	Groups  bot.GroupStore
	Outbox  bot.Outbox
	Content func() *knowledge.Content
	Loc     *time.Location
	Quiet   schedule.Quiet
	// Priority, if set, names the scam types a group must be taught first
	// (必讲: its unit's cases passed the thresholds).
	Priority func(ctx context.Context, g *bot.Group) (map[string]bool, error)
}

// slotKey names the k-th post of a week. Keys by position rather than by
// time keep a week at its count even when the schedule changes mid-week.
func slotKey(weekStart time.Time, k int) string {
	return fmt.Sprintf("tip:%s#%d", weekStart.Format("2006-01-02"), k)
}

// Tick plans every slot of this week that has come, for every bound group,
// that is not planned yet. Slots before a group was bound are skipped;
// slots missed while the bot was down are caught up within the week.
func (p *Planner) Tick(ctx context.Context, now time.Time) (int, error) {
	ws := bot.WeekStart(now, p.Loc)
	bound := true
	groups, err := p.Groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return 0, err
	}
	planned, err := p.Outbox.FindPosts(ctx, bot.PostFilter{Kind: KindTip, DueSince: ws})
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, post := range planned {
		have[fmt.Sprint(post.GroupID, post.Key)] = true
	}
	var posts []*bot.OutboxPost
	for _, g := range groups {
		var picked []string
		for k, slot := range schedule.For(g).Slots(ws) {
			if slot.After(now) {
				break
			}
			if g.BoundAt != nil && slot.Before(*g.BoundAt) {
				continue
			}
			key := slotKey(ws, k)
			if have[fmt.Sprint(g.ID, key)] {
				continue
			}
			tip, err := p.pick(ctx, g, now, picked)
			if err != nil {
				return 0, err
			}
			picked = append(picked, tip.ID)
			posts = append(posts, &bot.OutboxPost{GroupID: g.ID, Kind: KindTip, Ref: tip.ID, Key: key, Text: tip.Text, DueAt: slot})
		}
	}
	if len(posts) == 0 {
		return 0, nil
	}
	return p.Outbox.EnqueuePosts(ctx, posts)
}

// pick chooses the group's next tip: one it has not had yet, suited to its
// kind, in season, seasonal ones first while their season lasts. Only when
// every suitable tip has been posted does it start over, least used first.
func (p *Planner) pick(ctx context.Context, g *bot.Group, now time.Time, alsoUsed []string) (*knowledge.Tip, error) {
	uses := map[string]int{}
	for _, kind := range []string{KindTip, KindTipExtra} {
		past, err := p.Outbox.FindPosts(ctx, bot.PostFilter{GroupID: g.ID, Kind: kind})
		if err != nil {
			return nil, err
		}
		for _, post := range past {
			uses[post.Ref]++
		}
	}
	for _, id := range alsoUsed {
		uses[id]++
	}
	var must map[string]bool
	if p.Priority != nil {
		var err error
		if must, err = p.Priority(ctx, g); err != nil {
			return nil, err
		}
	}
	teaches := func(t *knowledge.Tip) bool {
		for _, ty := range t.Types {
			if must[ty] {
				return true
			}
		}
		return false
	}
	aud := bot.AudiencesFor(g.Kind)
	local := now.In(p.Loc)
	var cands []*knowledge.Tip
	for _, t := range p.Content().Tips {
		if !t.InSeason(local) {
			continue
		}
		for _, a := range t.Audiences {
			if aud[a] {
				cands = append(cands, t)
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("tips: no tip suits group %d", g.ID)
	}
	// A fixed shuffle per group, so neighbouring groups do not all post the
	// same tip the same day.
	order := func(t *knowledge.Tip) uint64 {
		h := fnv.New64a()
		fmt.Fprint(h, g.ID, t.ID)
		return h.Sum64()
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if uses[a.ID] != uses[b.ID] {
			return uses[a.ID] < uses[b.ID]
		}
		if teaches(a) != teaches(b) {
			return teaches(a) // 必讲: the unit's own scams first
		}
		if (a.Season != "") != (b.Season != "") {
			return a.Season != ""
		}
		return order(a) < order(b)
	})
	return cands[0], nil
}

// Commands are the counsellor commands of this feature.
type Commands struct {
	Planner *Planner
	Now     func() time.Time
}

// Register adds 来一条提示, 推送计划 and 设置推送.
func Register(r *bot.Router, c *Commands) {
	r.Handle(bot.CounsellorOnly(c.tipNow), "来一条提示", "来条提示")
	r.Handle(c.plan, "推送计划")
	r.Handle(bot.CounsellorOnly(c.setSchedule), "设置推送")
	r.Describe(bot.Usage{Say: "来一条提示", Does: "马上在本群发一条反诈提示", Counsellor: true})
	r.Describe(bot.Usage{Say: "推送计划", Does: "查看本群每周的提示推送安排", Counsellor: true})
	r.Describe(bot.Usage{Say: "设置推送 周二 周五 10:00", Does: "修改本群每周推送的日子和时间", Counsellor: true})
}

func (c *Commands) tipNow(ctx *bot.Context) error {
	now := c.Now()
	tip, err := c.Planner.pick(ctx.Context(), ctx.Group, now, nil)
	if err != nil {
		return err
	}
	local := now.In(c.Planner.Loc)
	due := c.Planner.Quiet.Next(local)
	post := &bot.OutboxPost{GroupID: ctx.Group.ID, Kind: KindTipExtra, Ref: tip.ID,
		Key: "tip-extra:" + ctx.Message().Key(), Text: tip.Text, DueAt: due}
	if _, err := c.Planner.Outbox.EnqueuePosts(ctx.Context(), []*bot.OutboxPost{post}); err != nil {
		return err
	}
	if due.After(local) {
		day := "今天"
		if due.YearDay() != local.YearDay() {
			day = "明天"
		}
		return ctx.Reply(fmt.Sprintf("现在是免打扰时段（%s），这条提示会在%s %s 发出。", c.Planner.Quiet, day, due.Format("15:04")))
	}
	return ctx.Reply("好的，这就发一条反诈提示。")
}

func (c *Commands) plan(ctx *bot.Context) error {
	if ctx.Group == nil || !ctx.Group.Bound() {
		return bot.Errorf(bot.ECONFLICT, "本群还没有绑定，绑定后每周会按时推送反诈提示。")
	}
	g := ctx.Group
	now := c.Now().In(c.Planner.Loc)
	ws := bot.WeekStart(now, c.Planner.Loc)
	s := schedule.For(g)
	all, err := c.Planner.Outbox.FindPosts(ctx.Context(), bot.PostFilter{GroupID: g.ID})
	if err != nil {
		return err
	}
	sent, total := 0, 0
	for _, p := range all {
		if p.TipSentIn(ws, ws.AddDate(0, 0, 7)) {
			sent++
		}
		if p.Kind == KindTip || p.Kind == KindTipExtra {
			total++
		}
	}
	var next []string
	for _, slot := range s.Slots(ws) {
		if slot.After(now) {
			next = append(next, schedule.DayName(slot.Weekday())+slot.Format(" 15:04"))
		}
	}
	origin := "（" + g.Kind.Label() + "默认）"
	if g.Schedule != "" {
		origin = "（本群设置）"
	}
	lines := []string{
		"本群推送计划：" + s.Human() + origin,
		fmt.Sprintf("本周已推送 %d 条（要求每周不少于 %d 条）。", sent, schedule.MinDays),
	}
	if len(next) > 0 {
		lines = append(lines, "本周还有："+strings.Join(next, "、"))
	}
	lines = append(lines, fmt.Sprintf("提示库共 %d 条，本群累计推送 %d 条，用完之前不会重复。", len(c.Planner.Content().Tips), total))
	if c.Planner.Quiet != (schedule.Quiet{}) {
		lines = append(lines, "免打扰时段："+c.Planner.Quiet.String())
	}
	return ctx.Reply(strings.Join(lines, "\n"))
}

func (c *Commands) setSchedule(ctx *bot.Context) error {
	s, err := schedule.Parse(ctx.Args(), c.Planner.Quiet)
	if err != nil {
		return err
	}
	v := s.String()
	if _, err := c.Planner.Groups.UpdateGroup(ctx.Context(), ctx.Group.ID, bot.GroupUpdate{Schedule: &v}); err != nil {
		return err
	}
	return ctx.Reply("好的，本群改为" + s.Human() + "推送反诈提示。本周已推送的条数照算，不会重复。")
}
