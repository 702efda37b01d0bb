// Package prize draws the winners of 有奖问答 under the rules admins and
// counsellors set: each draw commits to a secret in the groups before its
// period, and after it announces the winners with the secret, so anyone can
// recompute the draw (fanzha draw verify).
package prize

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/schedule"
)

// secretBytes is the size of a draw's secret.
const secretBytes = 16

// roundEnds stands for "when the round ends" in a round draw's Ends.
var roundEnds = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Drawer commits and draws every active rule's draws.
type Drawer struct {
	Prizes bot.PrizeStore
	Groups bot.GroupStore
	Units  bot.StatsStore
	Quiz   bot.QuizStore
	Quiet  schedule.Quiet
	Loc    *time.Location
	// Rand is where secrets come from; nil means crypto/rand. Tests give a
	// fixed source so that a draw reproduces.
	Rand io.Reader
}

// ScopeGroups are the bound groups a rule covers.
func ScopeGroups(r *bot.PrizeRule, groups []*bot.Group, units []bot.OrgUnit) []*bot.Group {
	c := &bot.Campaign{}
	if r.UnitID != 0 {
		c.Units = []int64{r.UnitID}
	} else {
		c.Groups = []int64{r.GroupID}
	}
	return bot.CampaignScope(c, groups, units)
}

// periodOf is the key and span of the week or month holding now.
func (d *Drawer) periodOf(p bot.PrizePeriod, now time.Time) (string, time.Time, time.Time) {
	local := now.In(d.Loc)
	if p == bot.PrizeMonth {
		start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, d.Loc)
		return "month:" + start.Format("2006-01"), start, start.AddDate(0, 1, 0)
	}
	start := bot.WeekStart(now, d.Loc)
	return "week:" + start.Format("2006-01-02"), start, start.AddDate(0, 0, 7)
}

// spanOf is the span of a week or month period key.
func (d *Drawer) spanOf(period string) (time.Time, time.Time, bool) {
	switch {
	case strings.HasPrefix(period, "month:"):
		t, err := time.ParseInLocation("2006-01", strings.TrimPrefix(period, "month:"), d.Loc)
		return t, t.AddDate(0, 1, 0), err == nil
	case strings.HasPrefix(period, "week:"):
		t, err := time.ParseInLocation("2006-01-02", strings.TrimPrefix(period, "week:"), d.Loc)
		return t, t.AddDate(0, 0, 7), err == nil
	}
	return time.Time{}, time.Time{}, false
}

func (d *Drawer) secret() (string, error) {
	src := d.Rand
	if src == nil {
		src = rand.Reader
	}
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(src, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Tick commits the draws of periods that have begun and draws those that
// have ended. Both happen in one transaction with their posts, so a
// restart neither loses nor repeats one.
func (d *Drawer) Tick(ctx context.Context, now time.Time) error {
	rules, err := d.Prizes.PrizeRules(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*bot.PrizeRule{}
	var active []*bot.PrizeRule
	for _, r := range rules {
		byID[r.ID] = r
		if r.Active {
			active = append(active, r)
		}
	}
	bound := true
	groups, err := d.Groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return err
	}
	units, err := d.Units.OrgUnits(ctx)
	if err != nil {
		return err
	}
	rounds, err := d.Quiz.ActiveRounds(ctx)
	if err != nil {
		return err
	}
	activeRound := map[int64]bool{}
	for _, r := range rounds {
		activeRound[r.ID] = true
	}
	// A period's draw, once committed, stays open until it is drawn after
	// the period: the open draws tell which commitments exist, so a tick
	// writes only new ones.
	open, err := d.Prizes.OpenDraws(ctx)
	if err != nil {
		return err
	}
	committed := map[string]bool{}
	for _, dr := range open {
		committed[fmt.Sprint(dr.RuleID, " ", dr.Period)] = true
	}
	commit := func(r *bot.PrizeRule, period string, ends time.Time, scope []*bot.Group) error {
		if committed[fmt.Sprint(r.ID, " ", period)] {
			return nil
		}
		return d.commit(ctx, r, period, ends, scope, now)
	}
	for _, r := range active {
		scope := ScopeGroups(r, groups, units)
		if len(scope) == 0 {
			continue
		}
		if r.Period == bot.PrizeRound {
			in := map[int64]bool{}
			for _, g := range scope {
				in[g.ID] = true
			}
			for _, q := range rounds {
				if in[q.GroupID] {
					g := []*bot.Group{groupOf(scope, q.GroupID)}
					if err := commit(r, roundPeriod(q.ID, q.GroupID), roundEnds, g); err != nil {
						return err
					}
				}
			}
			continue
		}
		key, _, end := d.periodOf(r.Period, now)
		if err := commit(r, key, end, scope); err != nil {
			return err
		}
	}
	for _, dr := range open { // those committed in this tick are not due yet
		r := byID[dr.RuleID]
		if r == nil {
			continue
		}
		roundID, groupID, isRound := parseRoundPeriod(dr.Period)
		if isRound && activeRound[roundID] || !isRound && now.Before(dr.Ends) {
			continue // the period is still on
		}
		scope := ScopeGroups(r, groups, units)
		if isRound {
			scope = nil // a round draw is for the round's own group
			if g := groupOf(groups, groupID); g != nil {
				scope = []*bot.Group{g}
			}
		}
		if err := d.draw(ctx, r, dr, scope, roundID, now); err != nil {
			return err
		}
	}
	return nil
}

// roundPeriod names a round's draw: the round and its group.
func roundPeriod(roundID, groupID int64) string { return fmt.Sprintf("round:%d:%d", roundID, groupID) }

func parseRoundPeriod(p string) (roundID, groupID int64, ok bool) {
	rest, found := strings.CutPrefix(p, "round:")
	if !found {
		return 0, 0, false
	}
	r, g, _ := strings.Cut(rest, ":")
	roundID, err1 := strconv.ParseInt(r, 10, 64)
	groupID, err2 := strconv.ParseInt(g, 10, 64)
	return roundID, groupID, err1 == nil && err2 == nil
}

func groupOf(gs []*bot.Group, id int64) *bot.Group {
	for _, g := range gs {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// rules is the rule's conditions as residents read them.
func rules(r *bot.PrizeRule) string {
	s := strings.Join(r.Conditions(), "、") + fmt.Sprintf("的群友参加抽奖，抽 %d 名，奖品：%s", r.Winners, r.Prize)
	if r.OncePerMonth {
		s += "（每人每月最多中一次）"
	}
	return s
}

func (d *Drawer) commit(ctx context.Context, r *bot.PrizeRule, period string, ends time.Time, scope []*bot.Group, now time.Time) error {
	secret, err := d.secret()
	if err != nil {
		return err
	}
	dr := &bot.PrizeDraw{RuleID: r.ID, Period: period, Secret: secret, Commitment: bot.Commit(secret), CommittedAt: now, Ends: ends}
	what := r.Period.Label()
	if r.Period == bot.PrizeRound {
		what = "本轮答题"
	}
	text := fmt.Sprintf("【有奖问答】%s抽奖：%s。\n抽奖承诺值：%s\n开奖时公布它的原始值，大家可以核对抽奖没有做手脚。", what, rules(r), dr.Commitment)
	due := now
	if r.Period != bot.PrizeRound {
		due = d.Quiet.Next(now.In(d.Loc))
	}
	var posts []*bot.OutboxPost
	for _, g := range scope {
		posts = append(posts, &bot.OutboxPost{GroupID: g.ID, Kind: bot.PostPrize, Ref: period, Text: text, DueAt: due})
	}
	_, err = d.Prizes.CommitDraw(ctx, dr, posts)
	return err
}

// Eligible filters entrants by the rule and the once-a-month limit.
func Eligible(r *bot.PrizeRule, entrants []bot.Entrant, wonThisMonth map[int64]bool) []bot.Entrant {
	var out []bot.Entrant
	for _, e := range entrants {
		if e.Answered == 0 || e.Answered < r.MinAnswers || 100*float64(e.Correct) < r.MinCorrect*float64(e.Answered) {
			continue
		}
		if r.OncePerMonth && wonThisMonth[e.MemberID] {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}

func (d *Drawer) draw(ctx context.Context, r *bot.PrizeRule, dr *bot.PrizeDraw, scope []*bot.Group, roundID int64, now time.Time) error {
	var ids []int64
	for _, g := range scope {
		ids = append(ids, g.ID)
	}
	since, until, _ := d.spanOf(dr.Period)
	entrants, err := d.Prizes.Entrants(ctx, ids, roundID, since, until)
	if err != nil {
		return err
	}
	local := now.In(d.Loc)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, d.Loc)
	won, err := d.Prizes.WonSince(ctx, r.ID, month)
	if err != nil {
		return err
	}
	eligible := Eligible(r, entrants, won)
	tags := make([]string, len(eligible))
	byTag := map[string]bot.Entrant{}
	for i, e := range eligible {
		tags[i] = e.Tag
		byTag[e.Tag] = e
	}
	picked := bot.DrawWinners(bot.DrawSeed(dr.Secret, dr.Period), tags, r.Winners)
	dr.Entrants = tags
	dr.EntrantsHash = bot.EntrantsHash(tags)
	dr.DrawnAt = &now
	dr.Winners = nil
	var names []string
	for _, tag := range picked {
		e := byTag[tag]
		dr.Winners = append(dr.Winners, bot.PrizeWinner{DrawID: dr.ID, MemberID: e.MemberID, GroupID: e.GroupID, Tag: tag, Name: e.Name, Fast: e.Fast})
		name := e.Name
		if name == "" {
			name = "群友" + tag
		}
		names = append(names, name+"（"+tag+"）")
	}
	text := "【有奖问答开奖】奖品：" + r.Prize + "\n"
	if len(names) == 0 {
		text += "本期没有符合条件的群友，下期再来！"
	} else {
		text += "获奖：" + strings.Join(names, "、") + fmt.Sprintf("\n共 %d 人符合条件。请获奖的群友联系本群老师或网格员领奖。", len(tags))
	}
	text += fmt.Sprintf("\n核对：承诺值 %s…，原始值 %s，参与名单校验值 %s。把符合条件的编号排序后用原始值抽取，结果可复算（fanzha draw verify %d）。",
		dr.Commitment[:16], dr.Secret, dr.EntrantsHash, dr.ID)
	var posts []*bot.OutboxPost
	for _, g := range scope {
		posts = append(posts, &bot.OutboxPost{GroupID: g.ID, Kind: bot.PostPrize, Ref: dr.Period, Text: text, DueAt: d.Quiet.Next(local)})
	}
	_, err = d.Prizes.FinishDraw(ctx, dr, posts)
	return err
}
