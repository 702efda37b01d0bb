package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"fanzha/bot"
)

// The monthly composite score of villages, communities, schools and
// classes: a weighted sum of what the campaign asks of them, less their
// cases, each part shown with how it was reached.

// ScoreWeights are the weights of the score's parts (points out of 100
// when every part applies), the points a case costs and at most, and the
// score under which a bottom-three unit is named for 通报.
type ScoreWeights struct {
	Coverage, Tips, Quiz, Pledge, App float64
	CasePenalty, MaxCasePenalty       float64
	Threshold                         float64
}

// DefaultScoreWeights: coverage 30, tips 30, quiz 20, pledges 10, app 10;
// 5 points a case, at most 20; under 60 is named.
var DefaultScoreWeights = ScoreWeights{Coverage: 30, Tips: 30, Quiz: 20, Pledge: 10, App: 10, CasePenalty: 5, MaxCasePenalty: 20, Threshold: 60}

// ScorePart is one part of a unit's score.
type ScorePart struct {
	Name    string
	Value   float64 // how much of the part was achieved, 0–100
	Weight  float64 // its weight, scaled so present parts add to 100
	Points  float64 // Value × Weight / 100
	Explain string
}

// UnitScore is a unit's month.
type UnitScore struct {
	Unit    bot.OrgUnit
	Parts   []ScorePart
	Cases   int
	Penalty float64
	Score   float64
	Rank    int
	Bottom  bool // among the last three and under the threshold: 通报
}

// ScoreSource is what the score reads.
type ScoreSource struct {
	Groups    bot.GroupStore
	Stats     bot.StatsStore
	Campaigns bot.CampaignStore
	Cases     bot.CaseStore
}

// MonthScores scores every village, community, school and class with a
// bound group that the viewer may see, for the month starting at month.
func MonthScores(ctx context.Context, src ScoreSource, scope Scope, month time.Time, c Campaign, w ScoreWeights) ([]UnitScore, error) {
	end := month.AddDate(0, 1, 0)
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	units, err := src.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]bot.OrgUnit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	groups, err := src.Groups.FindGroups(ctx, bot.GroupFilter{})
	if err != nil {
		return nil, err
	}
	// The units scored: reporting units, and classes (nearest class).
	scored := map[int64]bool{}
	reportsTo, classOf := map[int64]int64{}, map[int64]int64{}
	for _, u := range units {
		if rep, ok := reportingUnit(byID, u.ID); ok {
			reportsTo[u.ID] = rep.ID
		}
		for x, ok := byID[u.ID]; ok; x, ok = byID[x.ParentID] {
			if x.Kind == bot.OrgClass {
				classOf[u.ID] = x.ID
				break
			}
		}
	}
	// Groups per scored unit, bound before the month ends.
	groupsOf := map[int64][]*bot.Group{}
	for _, g := range groups {
		if !g.Bound() || g.OrgUnit == nil || g.BoundAt != nil && !g.BoundAt.Before(end) || c.Official && g.Channel == bot.PlaygroundChannel {
			continue
		}
		for _, u := range []int64{reportsTo[g.OrgUnit.ID], classOf[g.OrgUnit.ID]} {
			if u != 0 && scope.Unit(u) {
				scored[u] = true
				groupsOf[u] = append(groupsOf[u], g)
			}
		}
	}
	if len(scored) == 0 {
		return nil, nil
	}
	// Reach: since the start (coverage), this month (all, and quiz).
	reach := func(from time.Time, kind bot.EventKind) (map[int64]int, error) {
		out := map[int64]int{}
		for _, m := range []map[int64]int64{reportsTo, classOf} {
			r, err := src.Stats.UnitReach(ctx, from, end, kind, m)
			if err != nil {
				return nil, err
			}
			for k, v := range r {
				out[k] = v
			}
		}
		return out, nil
	}
	total, err := reach(c.Start, "")
	if err != nil {
		return nil, err
	}
	monthAll, err := reach(month, "")
	if err != nil {
		return nil, err
	}
	monthQuiz, err := reach(month, bot.EventQuizAnswer)
	if err != nil {
		return nil, err
	}
	// Tips: each group's weeks of the month that have ended.
	compliant, weeks := map[int64]int{}, map[int64]int{}
	for ws := bot.WeekStart(month, month.Location()); ws.Before(end); ws = ws.AddDate(0, 0, 7) {
		we := ws.AddDate(0, 0, 7)
		if ws.Before(month) || now.Before(we) {
			continue // a week that began last month, or is not over
		}
		figs, err := src.Stats.GroupFigures(ctx, ws, we, 0)
		if err != nil {
			return nil, err
		}
		for u, gs := range groupsOf {
			for _, g := range gs {
				if g.BoundAt != nil && !g.BoundAt.Before(we) {
					continue
				}
				weeks[u]++
				if f := figs[g.ID]; f != nil && f.TipsSent >= RequiredTips {
					compliant[u]++
				}
			}
		}
	}
	// Pledges and the app survey: campaigns sent in the month.
	pledged, installed, appTarget := map[int64]int{}, map[int64]int{}, map[int64]float64{}
	hasPledge, hasApp := map[int64]bool{}, map[int64]bool{}
	if src.Campaigns != nil {
		cs, err := src.Campaigns.Campaigns(ctx)
		if err != nil {
			return nil, err
		}
		for _, camp := range cs {
			if camp.CancelledAt != nil || camp.SendAt.Before(month) || !camp.SendAt.Before(end) ||
				camp.Kind != bot.CampaignPledge && camp.Kind != bot.CampaignSurvey {
				continue
			}
			rep, err := BuildCampaign(ctx, CampaignSource{Campaigns: src.Campaigns, Groups: src.Groups, Stats: src.Stats}, Scope{All: true}, camp.ID)
			if err != nil {
				return nil, err
			}
			for _, ur := range rep.Units {
				if camp.Kind == bot.CampaignPledge {
					hasPledge[ur.Unit.ID] = true
					pledged[ur.Unit.ID] += ur.Answers
				} else if len(ur.ByOption) > 0 {
					hasApp[ur.Unit.ID] = true
					installed[ur.Unit.ID] = max(installed[ur.Unit.ID], ur.ByOption[0])
					appTarget[ur.Unit.ID] = camp.Target
				}
			}
		}
	}
	// Cases of the month, in the unit or below.
	caseCount := map[int64]int{}
	if src.Cases != nil {
		cs, err := src.Cases.Cases(ctx, month, end)
		if err != nil {
			return nil, err
		}
		for _, k := range cs {
			for _, u := range []int64{reportsTo[k.UnitID], classOf[k.UnitID]} {
				if u != 0 {
					caseCount[u]++
				}
			}
		}
	}
	target := c.Targets[month.Format("2006-01")]
	var out []UnitScore
	for id := range scored {
		u := byID[id]
		s := UnitScore{Unit: u, Cases: caseCount[id]}
		pop := float64(u.Population)
		if pop > 0 {
			cov := 100 * float64(total[id]) / pop
			v, why := math.Min(100, cov), fmt.Sprintf("累计触达 %d 人，占人口 %s", total[id], Percent(cov))
			if target > 0 {
				v = math.Min(100, 100*cov/target)
				why += "，本月目标 " + Percent(target)
			}
			s.Parts = append(s.Parts, ScorePart{Name: "覆盖率", Value: v, Weight: w.Coverage, Explain: why})
		}
		if weeks[id] > 0 {
			s.Parts = append(s.Parts, ScorePart{Name: "推送达标", Value: 100 * float64(compliant[id]) / float64(weeks[id]), Weight: w.Tips,
				Explain: fmt.Sprintf("已结束的周里 %d/%d 个群周推送 ≥%d 条", compliant[id], weeks[id], RequiredTips)})
		}
		if monthAll[id] > 0 {
			s.Parts = append(s.Parts, ScorePart{Name: "答题参与", Value: 100 * float64(monthQuiz[id]) / float64(monthAll[id]), Weight: w.Quiz,
				Explain: fmt.Sprintf("本月参与的 %d 人中 %d 人答题", monthAll[id], monthQuiz[id])})
		}
		if hasPledge[id] && pop > 0 {
			s.Parts = append(s.Parts, ScorePart{Name: "承诺书", Value: math.Min(100, 100*float64(pledged[id])/pop), Weight: w.Pledge,
				Explain: fmt.Sprintf("%d 人签署，占人口 %s", pledged[id], Percent(100*float64(pledged[id])/pop))})
		}
		if hasApp[id] && pop > 0 {
			rate := 100 * float64(installed[id]) / pop
			v := math.Min(100, rate)
			if appTarget[id] > 0 {
				v = math.Min(100, 100*rate/appTarget[id])
			}
			s.Parts = append(s.Parts, ScorePart{Name: "反诈App", Value: v, Weight: w.App, Explain: fmt.Sprintf("已安装并开启预警 %d 人，占人口 %s", installed[id], Percent(rate))})
		}
		var weight float64
		for _, p := range s.Parts {
			weight += p.Weight
		}
		for i := range s.Parts {
			s.Parts[i].Weight = 100 * s.Parts[i].Weight / weight
			s.Parts[i].Points = s.Parts[i].Value * s.Parts[i].Weight / 100
			s.Score += s.Parts[i].Points
		}
		s.Penalty = math.Min(w.MaxCasePenalty, w.CasePenalty*float64(s.Cases))
		s.Score = math.Max(0, s.Score-s.Penalty)
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Unit.Name < out[j].Unit.Name
	})
	for i := range out {
		out[i].Rank = i + 1
		if i >= len(out)-bottomCount && len(out) > bottomCount && out[i].Score < w.Threshold {
			out[i].Bottom = true
		}
	}
	return out, nil
}

// bottomCount: the last three are named for 通报, if under the threshold.
const bottomCount = 3

// ScoreRecords are the scores as a workbook sheet.
func ScoreRecords(scores []UnitScore, parts []string) [][]any {
	head := []any{"排名", "单位"}
	for _, p := range parts {
		head = append(head, p+"（分）")
	}
	head = append(head, "案件数", "扣分", "总分", "通报")
	out := [][]any{head}
	for _, s := range scores {
		row := []any{s.Rank, s.Unit.Name}
		for _, name := range parts {
			var v any
			for _, p := range s.Parts {
				if p.Name == name {
					v = math.Round(p.Points*10) / 10
				}
			}
			row = append(row, v)
		}
		var bottom any
		if s.Bottom {
			bottom = "后三名"
		}
		row = append(row, s.Cases, s.Penalty, math.Round(s.Score*10)/10, bottom)
		out = append(out, row)
	}
	return out
}

// ScorePartNames are the parts in the order pages show them.
var ScorePartNames = []string{"覆盖率", "推送达标", "答题参与", "承诺书", "反诈App"}
