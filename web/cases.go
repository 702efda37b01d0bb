package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"fanzha/bot"
	"fanzha/report"
)

// Fraud cases (发案): entered by admins by form or workbook, counted per
// unit and month, checked back (倒查) against what the unit's groups were
// sent before, and turned into 必讲 flags.

// caseUnits are the units a case can belong to within the admin's scope.
func (s *Server) caseUnits(r *http.Request) ([]bot.OrgUnit, map[int64]bot.OrgUnit, report.Scope, error) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		return nil, nil, scope, err
	}
	units, err := s.Stats.OrgUnits(r.Context())
	if err != nil {
		return nil, nil, scope, err
	}
	byID := map[int64]bot.OrgUnit{}
	var mine []bot.OrgUnit
	for _, u := range units {
		byID[u.ID] = u
		if scope.Unit(u.ID) && u.Kind != bot.OrgTown && u.Kind != bot.OrgDistrict {
			mine = append(mine, u)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Name < mine[j].Name })
	return mine, byID, scope, nil
}

// caseMonth is one unit's cases in one month.
type caseMonth struct {
	Month, Unit string
	Cases       int
	Loss        int64
	Types       string
}

// yearCases is the last year's cases and the units an admin may see; for
// anyone else, or on an error, the answer is written and ok is false.
func (s *Server) yearCases(w http.ResponseWriter, r *http.Request) (cases []*bot.Case, units []bot.OrgUnit, byID map[int64]bot.OrgUnit, scope report.Scope, ok bool) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "案件登记")
		return nil, nil, nil, scope, false
	}
	units, byID, scope, err := s.caseUnits(r)
	if err == nil {
		now := s.Now()
		cases, err = s.Cases.Cases(r.Context(), now.AddDate(-1, 0, 0), now.AddDate(0, 0, 1))
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, nil, scope, false
	}
	return cases, units, byID, scope, true
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request) {
	cases, units, byID, scope, ok := s.yearCases(w, r)
	if !ok {
		return
	}
	now := s.Now()
	ix := s.Knowledge.Index()
	var mine []*bot.Case
	months := map[string]*caseMonth{}
	var order []*caseMonth
	typeCount := map[string]map[string]int{}
	for _, c := range cases {
		if !scope.Unit(c.UnitID) {
			continue
		}
		mine = append(mine, c)
		k := c.Date.Format("2006-01") + "|" + byID[c.UnitID].Name
		m := months[k]
		if m == nil {
			m = &caseMonth{Month: c.Date.Format("2006-01"), Unit: byID[c.UnitID].Name}
			months[k] = m
			order = append(order, m)
			typeCount[k] = map[string]int{}
		}
		m.Cases++
		m.Loss += c.Loss
		typeCount[k][ix.TypeName(c.ScamType)]++
	}
	for k, m := range months {
		var names []string
		for n := range typeCount[k] {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return typeCount[k][names[i]] > typeCount[k][names[j]] })
		m.Types = strings.Join(names, "、")
	}
	flags, err := s.Cases.MustTeach(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type flagRow struct {
		Unit  bot.OrgUnit
		Types string
	}
	var flagged []flagRow
	for id, types := range flags {
		if scope.Unit(id) {
			var names []string
			for _, t := range types {
				names = append(names, ix.TypeName(t))
			}
			flagged = append(flagged, flagRow{byID[id], strings.Join(names, "、")})
		}
	}
	sort.Slice(flagged, func(i, j int) bool { return flagged[i].Unit.Name < flagged[j].Unit.Name })
	var types []*typeOption
	for _, e := range ix.Entries {
		if e.Kind == "type" || e.Kind == "" {
			types = append(types, &typeOption{ID: e.ID, Name: e.Name})
		}
	}
	labels, series := casesChart(order)
	s.render(w, r, "cases.html", map[string]any{"Charts": true, "ChartLabels": labels, "ChartSeries": series, "Cases": mine, "Units": units, "ByID": byID, "Months": order, "Flags": flagged,
		"Types": types, "AgeBands": bot.AgeBands, "Roles": bot.VictimRoles, "Header": strings.Join(bot.CaseHeader, "、"),
		"Added": r.URL.Query().Get("added"), "TypeName": ix.TypeName, "Today": now.In(s.Loc).Format("2006-01-02")})
}

// chartSeries is one dataset of a chart.
type chartSeries struct {
	Label string    `json:"label"`
	Data  []float64 `json:"data"`
}

// chartJSON is a chart's labels and datasets as the data attributes carry
// them.
func chartJSON(labels []string, series []chartSeries) (string, string) {
	l, _ := json.Marshal(labels)
	s, _ := json.Marshal(series)
	return string(l), string(s)
}

// casesChart is cases and losses (in 10,000 yuan) by month, oldest first.
func casesChart(months []*caseMonth) (string, string) {
	count, loss := map[string]float64{}, map[string]float64{}
	var labels []string
	for _, m := range months {
		if _, ok := count[m.Month]; !ok {
			labels = append(labels, m.Month)
		}
		count[m.Month] += float64(m.Cases)
		loss[m.Month] += float64(m.Loss) / 10000
	}
	sort.Strings(labels)
	series := []chartSeries{{Label: "案件数"}, {Label: "损失（万元）"}}
	for _, l := range labels {
		series[0].Data = append(series[0].Data, count[l])
		series[1].Data = append(series[1].Data, loss[l])
	}
	return chartJSON(labels, series)
}

// addCases stores cases and raises the 必讲 flags they cause.
func (s *Server) addCases(ctx context.Context, cs []*bot.Case) error {
	if err := s.Cases.AddCases(ctx, cs); err != nil {
		return err
	}
	now := s.Now()
	all, err := s.Cases.Cases(ctx, now.AddDate(-1, 0, 0), now.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, c := range cs {
		if seen[c.UnitID] {
			continue
		}
		seen[c.UnitID] = true
		cleared, err := s.Cases.ClearedAt(ctx, c.UnitID)
		if err != nil {
			return err
		}
		var unit []*bot.Case
		for _, x := range all {
			if x.UnitID == c.UnitID && x.At.After(cleared) {
				unit = append(unit, x)
			}
		}
		if types := s.MustTeach.MustTeachTypes(unit); types != nil {
			if err := s.Cases.Flag(ctx, c.UnitID, types, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) addCase(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "案件登记")
		return
	}
	_, _, scope, err := s.caseUnits(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := &bot.Case{ScamType: r.PostFormValue("type"), AgeBand: r.PostFormValue("age"), Role: r.PostFormValue("role"),
		By: session(r).Account.ID, At: s.Now()}
	c.Date, _ = time.ParseInLocation("2006-01-02", r.PostFormValue("date"), s.Loc)
	c.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit"), 10, 64)
	loss, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("loss")), ",", ""), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "损失金额请填写整数（元）。")
		return
	}
	c.Loss = loss
	if c.UnitID != 0 && !scope.Unit(c.UnitID) {
		s.forbidden(w, r, "这个单位")
		return
	}
	if err := bot.ValidateCase(c, s.Now(), func(id string) bool { return s.Knowledge.Index().TypeName(id) != "" }); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.addCases(r.Context(), []*bot.Case{c}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/cases?added=1", http.StatusSeeOther)
}

// maxCaseImport bounds a case workbook.
const maxCaseImport = 1 << 20

func (s *Server) importCases(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "案件登记")
		return
	}
	if err := r.ParseMultipartForm(maxCaseImport); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "请选择一个 Excel 文件（.xlsx）再导入。")
		return
	}
	if r.FormValue("csrf") != session(r).CSRF {
		s.errorPage(w, r, http.StatusForbidden, "页面已过期，请刷新后重试。")
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "请选择一个 Excel 文件（.xlsx）再导入。")
		return
	}
	defer f.Close()
	book, err := excelize.OpenReader(f)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "这不是一个能读取的 Excel 文件（.xlsx）。")
		return
	}
	defer book.Close()
	rows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "读不出表格的第一个工作表。")
		return
	}
	units, _, _, err := s.caseUnits(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ix := s.Knowledge.Index()
	unitByName := func(name string) (int64, bool) {
		for _, u := range units {
			if u.Name == name {
				return u.ID, true
			}
		}
		return 0, false
	}
	typeID := func(v string) (string, bool) {
		for _, e := range ix.Entries {
			if (e.ID == v || e.Name == v) && (e.Kind == "type" || e.Kind == "") {
				return e.ID, true
			}
		}
		return "", false
	}
	cs, err := bot.ParseCases(rows, unitByName, typeID, s.Now(), s.Loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range cs {
		c.By = session(r).Account.ID
	}
	if err := s.addCases(r.Context(), cs); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/cases?added=%d", len(cs)), http.StatusSeeOther)
}

func (s *Server) clearFlag(w http.ResponseWriter, r *http.Request) {
	_, _, scope, err := s.caseUnits(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if session(r).Account.Role != bot.RoleAdmin || !scope.Unit(pathID(r)) {
		s.forbidden(w, r, "这个单位")
		return
	}
	if err := s.Cases.Clear(r.Context(), pathID(r), session(r).Account.ID, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/cases", http.StatusSeeOther)
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "案件登记")
		return
	}
	_, byID, scope, err := s.caseUnits(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Cases.Case(r.Context(), pathID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !scope.Unit(c.UnitID) {
		s.forbidden(w, r, "这个案件")
		return
	}
	con := s.Knowledge.Content()
	bc, err := report.Backcheck(r.Context(), report.BackcheckSource{Groups: s.Groups, Outbox: s.Outbox, Stats: s.Stats}, c,
		func(id string) []string {
			if t := con.Tip(id); t != nil {
				return t.Types
			}
			return nil
		})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ix := s.Knowledge.Index()
	s.render(w, r, "case.html", map[string]any{"C": c, "Unit": byID[c.UnitID], "Type": ix.TypeName(c.ScamType), "B": bc, "TypeName": ix.TypeName})
}

// exportCases downloads the year's cases with their 倒查: what the unit's
// groups were sent in the 30 and 90 days before, and whether a tip of the
// case's type was among it.
func (s *Server) exportCases(w http.ResponseWriter, r *http.Request) {
	cases, _, byID, scope, ok := s.yearCases(w, r)
	if !ok {
		return
	}
	ix, con := s.Knowledge.Index(), s.Knowledge.Content()
	tipTypes := func(id string) []string {
		if t := con.Tip(id); t != nil {
			return t.Types
		}
		return nil
	}
	rows := [][]any{{"发案日期", "单位", "诈骗类型", "损失金额", "年龄段", "身份", "30天内推送", "30天内讲这一类", "90天内推送", "90天内讲这一类",
		"90天内宣传活动", "90天内答题轮数", "90天内参与人数", "案发前讲过这一类"}}
	for _, c := range cases {
		if !scope.Unit(c.UnitID) {
			continue
		}
		bc, err := report.Backcheck(r.Context(), report.BackcheckSource{Groups: s.Groups, Outbox: s.Outbox, Stats: s.Stats}, c, tipTypes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w30, w90 := bc.Windows[0], bc.Windows[1]
		covered := "否"
		if bc.Covered {
			covered = "是"
		}
		rows = append(rows, []any{c.Date.Format("2006-01-02"), byID[c.UnitID].Name, ix.TypeName(c.ScamType), int(c.Loss), c.AgeBand, c.Role,
			w30.Tips, w30.TipsOfType, w90.Tips, w90.TipsOfType, w90.Campaigns, w90.QuizRounds, w90.Reached, covered})
	}
	var b bytes.Buffer
	if err := report.WriteWorkbook(&b, "案件与倒查", []string{"案件"}, [][][]any{rows}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="cases.xlsx"`)
	b.WriteTo(w)
}
