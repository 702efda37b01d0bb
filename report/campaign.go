package report

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"

	"fanzha/bot"
)

// CampaignSource is what a campaign report reads.
type CampaignSource struct {
	Campaigns bot.CampaignStore
	Groups    bot.GroupStore
	Stats     bot.StatsStore
}

// CampaignGroupRow is one group's part in a campaign.
type CampaignGroupRow struct {
	Group     *bot.Group
	Unit      string
	Post      bot.PostStatus // "" while not planned yet
	LastError string
	Answers   int
	ByOption  []int   // surveys: answers per option
	Rate      float64 // answers / group size, percent, if the size is known
	// Reads is how many have read the post, where the platform tells
	// (DingTalk); ReadsKnown says it does.
	Reads      int
	ReadsKnown bool
}

// CampaignUnitRow is one village, community or school.
type CampaignUnitRow struct {
	Unit      bot.OrgUnit
	Groups    int
	Delivered int
	Answers   int
	ByOption  []int
	Rate      float64 // answers / population, percent, if the population is known
	YesRate   float64 // surveys: first option / population, percent
	Rank      int     // by Rate (surveys: YesRate); 0 without a population
}

// FellRow is a group whose share of the first option fell from a survey to
// its repeat (回头看).
type FellRow struct {
	Group         *bot.Group
	Before, After float64 // share of respondents, percent
}

// CampaignReport is a campaign's delivery and answers as one viewer may see
// them.
type CampaignReport struct {
	Campaign *bot.Campaign
	Groups   []CampaignGroupRow
	Units    []CampaignUnitRow
	// Towns sum their villages and schools; a rate only where every one
	// of them has a population.
	Towns []CampaignUnitRow
	// Totals over the viewer's groups.
	Planned, Sent, Failed, Queued, Answers int
	ByOption                               []int
	// Reads: read receipts over the groups whose platform gives them.
	Reads int
	// Repeat: the survey this one repeats, and the groups that fell.
	Repeat *bot.Campaign
	Fell   []FellRow
}

// Progress is the share of planned posts that went out, percent.
func (r *CampaignReport) Progress() float64 {
	if r.Planned == 0 {
		return 0
	}
	return 100 * float64(r.Sent) / float64(r.Planned)
}

// BuildCampaign reports campaign id for a viewer of scope: the groups in
// the campaign's scope the viewer may see, and their reporting units.
func BuildCampaign(ctx context.Context, src CampaignSource, scope Scope, id int64) (*CampaignReport, error) {
	c, err := src.Campaigns.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	groups, err := src.Groups.FindGroups(ctx, bot.GroupFilter{})
	if err != nil {
		return nil, err
	}
	units, err := src.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	figs, err := src.Campaigns.CampaignFigures(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &CampaignReport{Campaign: c, ByOption: make([]int, len(c.Options))}
	byID := map[int64]bot.OrgUnit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	rows := map[int64]*CampaignUnitRow{}
	inScope := map[int64]bool{}
	for _, g := range bot.CampaignScope(c, groups, units) {
		inScope[g.ID] = true
	}
	for _, g := range groups {
		f := figs[g.ID]
		if !scope.Group(g) || (f == nil && !inScope[g.ID]) {
			continue
		}
		gr := CampaignGroupRow{Group: g, ByOption: make([]int, len(c.Options))}
		if g.OrgUnit != nil {
			gr.Unit = g.OrgUnit.Name
		}
		if f != nil {
			gr.Post, gr.LastError, gr.Answers, gr.Reads = f.Post, f.LastError, f.Answers, f.Reads
			copy(gr.ByOption, f.ByOption)
		}
		if g.Size > 0 {
			gr.Rate = 100 * float64(gr.Answers) / float64(g.Size)
		}
		gr.ReadsKnown = g.Channel == "dingtalk"
		r.Groups = append(r.Groups, gr)
		r.Answers += gr.Answers
		r.Reads += gr.Reads
		for i, n := range gr.ByOption {
			r.ByOption[i] += n
		}
		switch gr.Post {
		case bot.PostSent:
			r.Sent++
		case bot.PostFailed, bot.PostUnconfirmed:
			r.Failed++
		case bot.PostPending, bot.PostSending:
			r.Queued++
		}
		if gr.Post != "" {
			r.Planned++
		}
		if g.OrgUnit == nil {
			continue
		}
		u, ok := reportingUnit(byID, g.OrgUnit.ID)
		if !ok || !scope.Unit(u.ID) {
			continue
		}
		ur := rows[u.ID]
		if ur == nil {
			ur = &CampaignUnitRow{Unit: u, ByOption: make([]int, len(c.Options))}
			rows[u.ID] = ur
		}
		ur.Groups++
		if gr.Post == bot.PostSent {
			ur.Delivered++
		}
		ur.Answers += gr.Answers
		for i, n := range gr.ByOption {
			ur.ByOption[i] += n
		}
	}
	for _, ur := range rows {
		if p := ur.Unit.Population; p > 0 {
			ur.Rate = 100 * float64(ur.Answers) / float64(p)
			if len(ur.ByOption) > 0 {
				ur.YesRate = 100 * float64(ur.ByOption[0]) / float64(p)
			}
		}
		r.Units = append(r.Units, *ur)
	}
	r.Towns = townsOf(r.Units, byID, len(c.Options))
	rankCampaignUnits(r.Units, c.Kind == bot.CampaignSurvey)
	rankCampaignUnits(r.Towns, c.Kind == bot.CampaignSurvey)
	sort.SliceStable(r.Groups, func(i, j int) bool {
		a, b := r.Groups[i], r.Groups[j]
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		return a.Group.ID < b.Group.ID
	})
	if c.RepeatOf != 0 {
		if err := r.compare(ctx, src, scope); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// townsOf sums unit rows into the towns above them.
func townsOf(units []CampaignUnitRow, byID map[int64]bot.OrgUnit, options int) []CampaignUnitRow {
	rows := map[int64]*CampaignUnitRow{}
	complete := map[int64]bool{}
	var order []int64
	for _, u := range units {
		town, ok := bot.OrgUnit{}, false
		for p, found := byID[u.Unit.ParentID]; found; p, found = byID[p.ParentID] {
			if p.Kind == bot.OrgTown {
				town, ok = p, true
				break
			}
		}
		if !ok {
			continue
		}
		t := rows[town.ID]
		if t == nil {
			town.Population = 0
			t = &CampaignUnitRow{Unit: town, ByOption: make([]int, options)}
			rows[town.ID], complete[town.ID] = t, true
			order = append(order, town.ID)
		}
		t.Groups += u.Groups
		t.Delivered += u.Delivered
		t.Answers += u.Answers
		for i, n := range u.ByOption {
			t.ByOption[i] += n
		}
		t.Unit.Population += u.Unit.Population
		complete[town.ID] = complete[town.ID] && u.Unit.Population > 0
	}
	out := make([]CampaignUnitRow, 0, len(order))
	for _, id := range order {
		t := rows[id]
		if !complete[id] {
			t.Unit.Population = 0 // a partial sum would overstate the rate
		}
		if p := t.Unit.Population; p > 0 {
			t.Rate = 100 * float64(t.Answers) / float64(p)
			if options > 0 {
				t.YesRate = 100 * float64(t.ByOption[0]) / float64(p)
			}
		}
		out = append(out, *t)
	}
	return out
}

// reportingUnit is the village, community or school unit id belongs to.
func reportingUnit(byID map[int64]bot.OrgUnit, id int64) (bot.OrgUnit, bool) {
	for u, ok := byID[id]; ok; u, ok = byID[u.ParentID] {
		if reportingKinds[u.Kind] {
			return u, true
		}
	}
	return bot.OrgUnit{}, false
}

// rankCampaignUnits orders units with a population best first, by the
// share that answered (surveys: that chose the first option).
func rankCampaignUnits(us []CampaignUnitRow, survey bool) {
	key := func(u CampaignUnitRow) float64 {
		if survey {
			return u.YesRate
		}
		return u.Rate
	}
	sort.SliceStable(us, func(i, j int) bool {
		a, b := us[i], us[j]
		if (a.Unit.Population > 0) != (b.Unit.Population > 0) {
			return a.Unit.Population > 0
		}
		if key(a) != key(b) {
			return key(a) > key(b)
		}
		return a.Unit.Name < b.Unit.Name
	})
	for i := range us {
		if us[i].Unit.Population > 0 {
			us[i].Rank = i + 1
		}
	}
}

// yesShare is the first option's share of a group's respondents, percent.
func yesShare(byOption []int) (float64, bool) {
	total := 0
	for _, n := range byOption {
		total += n
	}
	if total == 0 || len(byOption) == 0 {
		return 0, false
	}
	return 100 * float64(byOption[0]) / float64(total), true
}

// compare lists the groups whose share of the first option fell since the
// survey this one repeats.
func (r *CampaignReport) compare(ctx context.Context, src CampaignSource, scope Scope) error {
	prev, err := src.Campaigns.Campaign(ctx, r.Campaign.RepeatOf)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return nil // the first survey was deleted: nothing to compare
	}
	if err != nil {
		return err
	}
	before, err := src.Campaigns.CampaignFigures(ctx, prev.ID)
	if err != nil {
		return err
	}
	r.Repeat = prev
	for _, g := range r.Groups {
		b := before[g.Group.ID]
		if b == nil {
			continue
		}
		was, ok1 := yesShare(b.ByOption)
		now, ok2 := yesShare(g.ByOption)
		if ok1 && ok2 && now < was {
			r.Fell = append(r.Fell, FellRow{Group: g.Group, Before: was, After: now})
		}
	}
	return nil
}

// Title names the campaign report.
func (r *CampaignReport) Title() string {
	return fmt.Sprintf("%s《%s》 %s", r.Campaign.Kind.Label(), r.Campaign.Title, r.Campaign.SendAt.Format("2006-01-02"))
}

// AnswerLabel is what an answer is called for the campaign's kind.
func AnswerLabel(k bot.CampaignKind) string {
	switch k {
	case bot.CampaignPledge:
		return "承诺人数"
	case bot.CampaignSurvey:
		return "回答人数"
	}
	return "查收人数"
}

// WriteCampaignXLSX writes the campaign's figures as a workbook: units
// (when the viewer has any) and groups; counts are numbers, rates are
// percentages.
func WriteCampaignXLSX(w io.Writer, r *CampaignReport) error {
	if r.Campaign == nil {
		return errors.New("report: no campaign")
	}
	units, towns, groups := campaignRecords(r)
	var sheets []sheet
	if len(r.Towns) > 0 {
		sheets = append(sheets, sheet{"镇街", towns})
	}
	if len(r.Units) > 0 {
		sheets = append(sheets, sheet{"村社学校", units})
	}
	sheets = append(sheets, sheet{"群", groups})
	return writeSheets(w, r.Title(), sheets)
}

// WriteCampaignCSV writes the unit rows (when the viewer has any), a blank
// line and the group rows, UTF-8 with a byte order mark.
func WriteCampaignCSV(w io.Writer, r *CampaignReport) error {
	if r.Campaign == nil {
		return errors.New("report: no campaign")
	}
	units, towns, groups := campaignRecords(r)
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{inert(r.Title())})
	for _, rows := range [][][]any{towns, units} {
		if len(rows) > 1 {
			cw.WriteAll(texts(rows))
			cw.Write(nil)
		}
	}
	cw.WriteAll(texts(groups))
	cw.Flush()
	return cw.Error()
}

// campaignRecords are the campaign's unit, town and group rows, headers
// first.
func campaignRecords(r *CampaignReport) (units, towns, groups [][]any) {
	c := r.Campaign
	groupHead := []any{"群名", "所属", "发送状态", "失败原因", "群人数", AnswerLabel(c.Kind), "回复率"}
	for _, o := range c.Options {
		groupHead = append(groupHead, "选“"+o+"”")
	}
	units, towns = unitRecordsOf(c, r.Units, "村社/学校"), unitRecordsOf(c, r.Towns, "镇街")
	groups = [][]any{groupHead}
	for _, g := range r.Groups {
		var size, rate, lastErr any
		if g.Group.Size > 0 {
			size, rate = g.Group.Size, pct(g.Rate)
		}
		if g.LastError != "" {
			lastErr = g.LastError
		}
		status := "未安排"
		if g.Post != "" {
			status = g.Post.Label()
		}
		row := []any{g.Group.Name, g.Unit, status, lastErr, size, g.Answers, rate}
		for _, n := range g.ByOption {
			row = append(row, n)
		}
		groups = append(groups, row)
	}
	return units, towns, groups
}

// unitRecordsOf are rows of units (villages and schools, or towns) with
// their header, which names them.
func unitRecordsOf(c *bot.Campaign, rows []CampaignUnitRow, name string) [][]any {
	head := []any{"排名", name, "人口", "群数", "已送达群数", AnswerLabel(c.Kind), "回复率"}
	for _, o := range c.Options {
		head = append(head, "选“"+o+"”")
	}
	if c.Kind == bot.CampaignSurvey {
		head = append(head, "首项占人口")
	}
	out := [][]any{head}
	for _, u := range rows {
		var rank, pop, rate, yes any = "未填人口", nil, nil, nil
		if u.Unit.Population > 0 {
			rank, pop, rate, yes = u.Rank, u.Unit.Population, pct(u.Rate), pct(u.YesRate)
		}
		row := []any{rank, u.Unit.Name, pop, u.Groups, u.Delivered, u.Answers, rate}
		for _, n := range u.ByOption {
			row = append(row, n)
		}
		if c.Kind == bot.CampaignSurvey {
			row = append(row, yes)
		}
		out = append(out, row)
	}
	return out
}
