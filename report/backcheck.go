package report

import (
	"context"
	"sort"
	"strings"

	"fanzha/bot"
)

// BackcheckSource is what a 倒查 reads.
type BackcheckSource struct {
	Groups bot.GroupStore
	Outbox bot.Outbox
	Stats  bot.StatsStore
}

// BackcheckWindow is what a case's unit received in the days before it.
type BackcheckWindow struct {
	Days       int
	Tips       int
	TipsOfType int            // tips that teach the case's scam type
	TipTypes   map[string]int // tips sent per type taught
	Campaigns  int
	QuizRounds int
	Reached    int // people who took part, summed over the groups
}

// TypesTaught lists the types the window's tips taught, most often first.
func (w BackcheckWindow) TypesTaught() []string {
	var out []string
	for t := range w.TipTypes {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if w.TipTypes[out[i]] != w.TipTypes[out[j]] {
			return w.TipTypes[out[i]] > w.TipTypes[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// BackcheckResult is the 倒查 of a case.
type BackcheckResult struct {
	Groups  []*bot.Group
	Windows []BackcheckWindow // 30 and 90 days
	// Covered: a tip teaching the case's type reached the unit's groups in
	// the 90 days before.
	Covered bool
}

// BackcheckDays are the windows a 倒查 looks back over.
var BackcheckDays = []int{30, 90}

// Backcheck looks at what the bound groups of the case's unit (and below
// it) received before the case: tips by type, campaigns, quiz rounds and
// people reached. tipTypes gives the types a tip id teaches.
func Backcheck(ctx context.Context, src BackcheckSource, c *bot.Case, tipTypes func(string) []string) (*BackcheckResult, error) {
	groups, err := src.Groups.FindGroups(ctx, bot.GroupFilter{})
	if err != nil {
		return nil, err
	}
	units, err := src.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	res := &BackcheckResult{Groups: bot.CampaignScope(&bot.Campaign{Units: []int64{c.UnitID}}, groups, units)}
	for _, days := range BackcheckDays {
		from := c.Date.AddDate(0, 0, -days)
		w := BackcheckWindow{Days: days, TipTypes: map[string]int{}}
		rounds := map[string]bool{}
		for _, g := range res.Groups {
			posts, err := src.Outbox.FindPosts(ctx, bot.PostFilter{GroupID: g.ID, DueSince: from.Add(-bot.LateSend), DueUntil: c.Date})
			if err != nil {
				return nil, err
			}
			for _, p := range posts {
				if p.Status != bot.PostSent || p.SentAt == nil || p.SentAt.Before(from) || !p.SentAt.Before(c.Date) {
					continue
				}
				switch p.Kind {
				case bot.PostTip, bot.PostTipExtra:
					w.Tips++
					for _, t := range tipTypes(p.Ref) {
						w.TipTypes[t]++
						if t == c.ScamType {
							w.TipsOfType++
						}
					}
				case bot.PostCampaign:
					w.Campaigns++
				case bot.PostQuizQuestion:
					round, _, _ := strings.Cut(p.Ref, ":")
					rounds[round] = true
				}
			}
			figs, err := src.Stats.GroupFigures(ctx, from, c.Date, g.ID)
			if err != nil {
				return nil, err
			}
			if f := figs[g.ID]; f != nil {
				w.Reached += f.Members
			}
		}
		w.QuizRounds = len(rounds)
		res.Windows = append(res.Windows, w)
		if days == BackcheckDays[len(BackcheckDays)-1] {
			res.Covered = w.TipsOfType > 0
		}
	}
	return res, nil
}
