package web

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/report"
)

// The prize page: rules, draws with their winners to hand prizes out, and
// whether prizes bring people back.

// participationSpan: winners' quiz answers are compared over this long
// before and after their draw.
const participationSpan = 28 * 24 * time.Hour

type ruleRow struct {
	*bot.PrizeRule
	Scope   string
	Mine    bool // the viewer may switch it on or off
	Summary string
}

type winnerRow struct {
	bot.PrizeWinner
	Group          string
	Mine           bool // in the viewer's groups: theirs to hand out
	Before, After  int
	Unit, Month    string
	Prize, DrawRef string
}

type drawRow struct {
	*bot.PrizeDraw
	Rule     *bot.PrizeRule
	Scope    string
	Verified bool
	Winners  []winnerRow
}

// prizeView is what the viewer may see of rules, draws and winners.
type prizeView struct {
	Rules   []ruleRow
	Draws   []drawRow
	Winners []winnerRow
	// Units are the units an admin may set rules for; Groups the groups a
	// viewer may.
	Units  []bot.OrgUnit
	Groups []*bot.Group
}

func (s *Server) prizeView(r *http.Request) (*prizeView, error) {
	ctx := r.Context()
	scope, byID, err := s.reviewScope(r)
	if err != nil {
		return nil, err
	}
	units, err := s.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	unitByID := map[int64]bot.OrgUnit{}
	for _, u := range units {
		unitByID[u.ID] = u
	}
	bound := true
	boundGroups, err := s.Groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return nil, err
	}
	admin := session(r).Account.Role == bot.RoleAdmin
	v := &prizeView{}
	for _, g := range boundGroups {
		if scope.Group(g) {
			v.Groups = append(v.Groups, g)
		}
	}
	if admin {
		for _, u := range units {
			if scope.Unit(u.ID) {
				v.Units = append(v.Units, u)
			}
		}
	}
	rules, err := s.Prizes.PrizeRules(ctx)
	if err != nil {
		return nil, err
	}
	ruleByID := map[int64]*ruleRow{}
	for _, rule := range rules {
		row := ruleRow{PrizeRule: rule, Summary: ruleSummary(rule)}
		var inScope bool
		if rule.UnitID != 0 {
			row.Scope = unitByID[rule.UnitID].Name
			row.Mine = admin && scope.Unit(rule.UnitID)
			inScope = row.Mine
			if !inScope { // a counsellor sees a unit rule that covers their groups
				inScope = len(bot.CampaignScope(&bot.Campaign{Units: []int64{rule.UnitID}}, v.Groups, units)) > 0
			}
		} else if g := byID[rule.GroupID]; g != nil {
			row.Scope = g.Name
			row.Mine = scope.Group(g)
			inScope = row.Mine
		}
		if inScope {
			v.Rules = append(v.Rules, row)
			ruleByID[rule.ID] = &v.Rules[len(v.Rules)-1]
		}
	}
	draws, err := s.Prizes.Draws(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range draws {
		rule := ruleByID[d.RuleID]
		if rule == nil {
			continue
		}
		dr := drawRow{PrizeDraw: d, Rule: rule.PrizeRule, Scope: rule.Scope, Verified: d.DrawnAt != nil && bot.VerifyDraw(d) == nil}
		var ids []int64
		for _, w := range d.Winners {
			ids = append(ids, w.MemberID)
		}
		var before, after map[int64]int
		if d.DrawnAt != nil && len(ids) > 0 {
			if before, err = s.Prizes.AnswerCounts(ctx, ids, d.DrawnAt.Add(-participationSpan), *d.DrawnAt); err != nil {
				return nil, err
			}
			if after, err = s.Prizes.AnswerCounts(ctx, ids, *d.DrawnAt, d.DrawnAt.Add(participationSpan)); err != nil {
				return nil, err
			}
		}
		for _, w := range d.Winners {
			g := byID[w.GroupID]
			row := winnerRow{PrizeWinner: w, Mine: g != nil && scope.Group(g), Before: before[w.MemberID], After: after[w.MemberID],
				Month: d.DrawnAt.In(s.Loc).Format("2006-01"), Prize: rule.Prize, DrawRef: d.Period}
			if g != nil {
				row.Group = g.Name
				if g.OrgUnit != nil {
					row.Unit = g.OrgUnit.Name
				}
			}
			if !row.Mine {
				row.Name = "（其他群）" // another counsellor's resident: their tag only
			}
			dr.Winners = append(dr.Winners, row)
			v.Winners = append(v.Winners, row)
		}
		v.Draws = append(v.Draws, dr)
	}
	return v, nil
}

func ruleSummary(r *bot.PrizeRule) string {
	parts := append(r.Conditions(), fmt.Sprintf("抽 %d 名", r.Winners))
	if r.OncePerMonth {
		parts = append(parts, "每人每月限一次")
	}
	return strings.Join(parts, "，")
}

// unitMonth is prizes per unit per month, with the winners' answers before
// and after their draw.
type unitMonth struct {
	Month, Unit         string
	Winners, Handed     int
	BeforeAvg, AfterAvg float64
	beforeSum, afterSum int
}

func byUnitMonth(ws []winnerRow) []*unitMonth {
	m := map[string]*unitMonth{}
	var out []*unitMonth
	for _, w := range ws {
		k := w.Month + "|" + w.Unit
		u := m[k]
		if u == nil {
			u = &unitMonth{Month: w.Month, Unit: w.Unit}
			m[k] = u
			out = append(out, u)
		}
		u.Winners++
		if w.HandedAt != nil {
			u.Handed++
		}
		u.beforeSum += w.Before
		u.afterSum += w.After
	}
	for _, u := range out {
		u.BeforeAvg = float64(u.beforeSum) / float64(u.Winners)
		u.AfterAvg = float64(u.afterSum) / float64(u.Winners)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Month != out[j].Month {
			return out[i].Month > out[j].Month
		}
		return out[i].Unit < out[j].Unit
	})
	return out
}

func (s *Server) prizesPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.prizeView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "prizes.html", map[string]any{"V": v, "ByUnit": byUnitMonth(v.Winners), "Admin": session(r).Account.Role == bot.RoleAdmin,
		"Periods": []bot.PrizePeriod{bot.PrizeWeek, bot.PrizeMonth, bot.PrizeRound}})
}

func (s *Server) createPrizeRule(w http.ResponseWriter, r *http.Request) {
	v, err := s.prizeView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rule := &bot.PrizeRule{Period: bot.PrizePeriod(r.PostFormValue("period")), Prize: strings.TrimSpace(r.PostFormValue("prize")),
		OncePerMonth: r.PostFormValue("once") != "", Active: true, CreatedBy: session(r).Account.ID, CreatedAt: s.Now()}
	target := r.PostFormValue("scope") // "u<id>" or "g<id>"
	id, _ := strconv.ParseInt(target[min(1, len(target)):], 10, 64)
	allowed := false
	switch {
	case strings.HasPrefix(target, "u"):
		for _, u := range v.Units {
			allowed = allowed || u.ID == id
		}
		rule.UnitID = id
	case strings.HasPrefix(target, "g"):
		for _, g := range v.Groups {
			allowed = allowed || g.ID == id
		}
		rule.GroupID = id
	}
	if !allowed {
		s.forbidden(w, r, "为这个范围设置抽奖")
		return
	}
	var bad []string
	if rule.Period.Label() == string(rule.Period) {
		bad = append(bad, "抽奖时间请选每轮、每周或每月")
	}
	if rule.Prize == "" || utf8.RuneCountInString(rule.Prize) > bot.MaxPrizeText {
		bad = append(bad, fmt.Sprintf("奖品请写 1 到 %d 个字", bot.MaxPrizeText))
	}
	if rule.Winners, err = strconv.Atoi(r.PostFormValue("winners")); err != nil || rule.Winners < 1 || rule.Winners > bot.MaxPrizeWinners {
		bad = append(bad, fmt.Sprintf("获奖人数请填 1 到 %d", bot.MaxPrizeWinners))
	}
	if rule.MinAnswers, err = strconv.Atoi(strings.TrimSpace("0" + r.PostFormValue("min_answers"))); err != nil || rule.MinAnswers < 0 {
		bad = append(bad, "最少答题数请填整数")
	}
	if rule.MinCorrect, err = strconv.ParseFloat(strings.TrimSpace("0"+r.PostFormValue("min_correct")), 64); err != nil || rule.MinCorrect < 0 || rule.MinCorrect > 100 {
		bad = append(bad, "答对率请填 0 到 100")
	}
	if len(bad) > 0 {
		s.errorPage(w, r, http.StatusBadRequest, strings.Join(bad, "；")+"。")
		return
	}
	if err := s.Prizes.CreatePrizeRule(r.Context(), rule); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/prizes", http.StatusSeeOther)
}

func (s *Server) togglePrizeRule(w http.ResponseWriter, r *http.Request) {
	v, err := s.prizeView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rule := range v.Rules {
		if rule.ID == pathID(r) && rule.Mine {
			if err := s.Prizes.SetPrizeRuleActive(r.Context(), rule.ID, !rule.Active); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/admin/prizes", http.StatusSeeOther)
			return
		}
	}
	s.forbidden(w, r, "这条抽奖规则")
}

func (s *Server) markHanded(w http.ResponseWriter, r *http.Request) {
	v, err := s.prizeView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	member, _ := strconv.ParseInt(r.PostFormValue("member"), 10, 64)
	for _, win := range v.Winners {
		if win.DrawID == pathID(r) && win.MemberID == member && win.Mine {
			if err := s.Prizes.MarkHanded(r.Context(), win.DrawID, member, session(r).Account.ID, s.Now()); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/admin/prizes", http.StatusSeeOther)
			return
		}
	}
	s.forbidden(w, r, "这位获奖者")
}

func (s *Server) exportPrizes(w http.ResponseWriter, r *http.Request) {
	v, err := s.prizeView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	winners := [][]any{{"月份", "村社/学校", "群", "获奖编号", "奖品", "抽奖", "已发放", "发放人", "开奖前 28 天答题", "开奖后 28 天答题", "答题过快"}}
	for _, x := range v.Winners {
		handed := "否"
		if x.HandedAt != nil {
			handed = "是"
		}
		winners = append(winners, []any{x.Month, x.Unit, x.Group, x.Tag, x.Prize, x.DrawRef, handed, x.HandedBy, x.Before, x.After, x.Fast})
	}
	units := [][]any{{"月份", "村社/学校", "获奖人数", "已发放", "开奖前 28 天人均答题", "开奖后 28 天人均答题"}}
	for _, u := range byUnitMonth(v.Winners) {
		units = append(units, []any{u.Month, u.Unit, u.Winners, u.Handed, math.Round(u.BeforeAvg*10) / 10, math.Round(u.AfterAvg*10) / 10})
	}
	var b bytes.Buffer
	if err := report.WriteWorkbook(&b, "有奖问答获奖情况", []string{"按单位", "获奖者"}, [][][]any{units, winners}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="prizes.xlsx"`)
	b.WriteTo(w)
}
