package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/report"
	"fanzha/schedule"
)

var funcs = template.FuncMap{
	"pct":      report.Percent,
	"correct":  report.CorrectText,
	"date":     func(t time.Time) string { return t.Format("01-02") },
	"postKind": bot.PostKindLabel,
	"role":     knowledge.RoleName,
	"kind": func(k bot.GroupKind) string {
		return k.Label()
	},
}

// scope is what the logged-in account may see.
func (s *Server) scope(ctx context.Context, ses *bot.Session) (report.Scope, error) {
	units, err := s.Stats.OrgUnits(ctx)
	if err != nil {
		return report.Scope{}, err
	}
	a := ses.Account
	return report.ScopeFor(units, a.Role, a.OrgUnitID, a.MemberID), nil
}

// week reads ?week=2026-11-16 (any day of the week), default this week.
func (s *Server) week(r *http.Request) time.Time {
	if v := r.URL.Query().Get("week"); v != "" {
		if d, err := time.ParseInLocation("2006-01-02", v, s.Loc); err == nil {
			return bot.WeekStart(d, s.Loc)
		}
	}
	return bot.WeekStart(s.Now(), s.Loc)
}

func (s *Server) weekReport(r *http.Request) (*report.Report, report.Scope, error) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		return nil, scope, err
	}
	rep, err := report.Week(r.Context(), report.Source{Groups: s.Groups, Stats: s.Stats}, scope, s.week(r), s.Campaign)
	return rep, scope, err
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	if err := s.renderStatus(w, r, http.StatusOK, name, data); err != nil {
		s.fail(w, r, fmt.Errorf("rendering %s: %w", name, err))
	}
}

// renderStatus writes template name with status; on an error nothing is
// written.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) error {
	if ses := session(r); ses != nil {
		data["User"], data["Role"], data["CSRF"] = ses.Account.Username, ses.Account.Role, ses.CSRF
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	w.WriteHeader(status)
	buf.WriteTo(w)
	return nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	rep, scope, err := s.weekReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var bottom, unranked []report.UnitRow
	for _, u := range rep.Units {
		if u.Bottom {
			bottom = append(bottom, u)
		}
		if u.Rank == 0 {
			unranked = append(unranked, u)
		}
	}
	rgs, rgUnits, rgGroups, err := s.reportGroups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var must []string
	if s.Cases != nil && scope.Member == 0 {
		flags, err := s.Cases.MustTeach(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		units, err := s.Stats.OrgUnits(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, u := range units {
			if _, ok := flags[u.ID]; ok && scope.Unit(u.ID) {
				must = append(must, u.Name)
			}
		}
	}
	s.render(w, r, "overview.html", map[string]any{"ReportGroups": rgs, "RGUnits": rgUnits, "RGGroups": rgGroups, "MustTeach": must,
		"R": rep, "Bottom": bottom, "Unranked": unranked, "Counsellor": scope.Member != 0, "Locked": s.lockedFor(r),
		"Week": rep.WeekStart.Format("2006-01-02"),
		"Prev": rep.WeekStart.AddDate(0, 0, -7).Format("2006-01-02"), "Next": rep.WeekStart.AddDate(0, 0, 7).Format("2006-01-02"),
	})
}

func pathID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, what string) {
	s.Logger.Warn("out-of-scope page refused", "user", session(r).Account.Username, "path", r.URL.Path)
	s.errorPage(w, r, http.StatusForbidden, "无权查看"+what+"：它不在您负责的范围内。")
}

func (s *Server) unitPage(w http.ResponseWriter, r *http.Request) {
	rep, scope, err := s.weekReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := pathID(r)
	if !scope.Unit(id) {
		s.forbidden(w, r, "这个单位")
		return
	}
	var unit *report.UnitRow
	for i := range rep.Units {
		if rep.Units[i].Unit.ID == id {
			unit = &rep.Units[i]
		}
	}
	if unit == nil {
		s.errorPage(w, r, http.StatusNotFound, "这个单位本周没有绑定的群。")
		return
	}
	units, err := s.Stats.OrgUnits(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	below := report.ScopeFor(units, bot.RoleAdmin, id, 0)
	var groups []report.GroupRow
	for _, g := range rep.Groups {
		if below.Group(g.Group) {
			groups = append(groups, g)
		}
	}
	labels, series, err := s.coverageTrend(r.Context(), unit, units, rep.WeekStart)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "unit.html", map[string]any{"U": unit, "Groups": groups, "Week": rep.WeekStart.Format("2006-01-02"), "R": rep,
		"Charts": unit.Unit.Population > 0, "ChartLabels": labels, "ChartSeries": series})
}

// coverageTrend is the unit's coverage at the end of each of the trend's
// weeks up to ws, against the month's target.
func (s *Server) coverageTrend(ctx context.Context, unit *report.UnitRow, units []bot.OrgUnit, ws time.Time) (string, string, error) {
	reportsTo := map[int64]int64{}
	below := report.ScopeFor(units, bot.RoleAdmin, unit.Unit.ID, 0)
	for _, u := range units {
		if below.Unit(u.ID) {
			reportsTo[u.ID] = unit.Unit.ID
		}
	}
	var labels []string
	cov, target := chartSeries{Label: "覆盖率（%）"}, chartSeries{Label: "本月目标（%）"}
	for i := trendWeeks - 1; i >= 0; i-- {
		end := ws.AddDate(0, 0, 7-7*i)
		reach, err := s.Stats.UnitReach(ctx, s.Campaign.Start, end, "", reportsTo)
		if err != nil {
			return "", "", err
		}
		labels = append(labels, end.AddDate(0, 0, -1).Format("01-02"))
		v := 0.0
		if p := unit.Unit.Population; p > 0 {
			v = math.Round(1000*float64(reach[unit.Unit.ID])/float64(p)) / 10
		}
		cov.Data = append(cov.Data, v)
		target.Data = append(target.Data, s.Campaign.Targets[end.Add(-time.Second).Format("2006-01")])
	}
	l, d := chartJSON(labels, []chartSeries{cov, target})
	return l, d, nil
}

func (s *Server) updateUnit(w http.ResponseWriter, r *http.Request) {
	ses := session(r)
	scope, err := s.scope(r.Context(), ses)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := pathID(r)
	if ses.Account.Role != bot.RoleAdmin || !scope.Unit(id) {
		s.forbidden(w, r, "这个单位")
		return
	}
	pop, err := strconv.Atoi(r.PostFormValue("population"))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "人口数请填写整数。")
		return
	}
	// A village bound from chat without its town sits at the top; a
	// district-wide admin places it, so town admins see it.
	var parent int64
	if town := strings.TrimSpace(r.PostFormValue("town")); town != "" {
		if !scope.All {
			s.forbidden(w, r, "调整上级单位")
			return
		}
		if k, _ := bot.OrgKindOfName(town); k != bot.OrgTown {
			s.errorPage(w, r, http.StatusBadRequest, "上级单位请填写镇、乡或街道的全称，例如 城关镇。")
			return
		}
		u := &bot.OrgUnit{Kind: bot.OrgTown, Name: town}
		if err := s.Units.CreateOrgUnit(r.Context(), u); err != nil {
			s.fail(w, r, err)
			return
		}
		parent = u.ID
	}
	if err := s.Units.UpdateOrgUnit(r.Context(), id, pop, parent); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/units/%d", id), http.StatusSeeOther)
}

// trendWeeks is how many weeks the group page charts.
const trendWeeks = 8

type trendPoint struct {
	Week    time.Time
	Members int
	Tips    int
	Checks  int
	Quiz    int
}

// groupInScope is the group of the request's path if the viewer may see
// it; otherwise the refusal has been written and it returns nil.
func (s *Server) groupInScope(w http.ResponseWriter, r *http.Request, what string) *bot.Group {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{ID: pathID(r)})
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	if len(gs) == 0 || !scope.Group(gs[0]) {
		s.forbidden(w, r, what)
		return nil
	}
	return gs[0]
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request) {
	g := s.groupInScope(w, r, "这个群")
	if g == nil {
		return
	}
	ws := s.week(r)
	var points []trendPoint
	for i := trendWeeks - 1; i >= 0; i-- {
		from := ws.AddDate(0, 0, -7*i)
		figs, err := s.Stats.GroupFigures(r.Context(), from, from.AddDate(0, 0, 7), g.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := trendPoint{Week: from}
		if f := figs[g.ID]; f != nil {
			p.Members, p.Tips, p.Checks, p.Quiz = f.Members, f.TipsSent, f.ScamChecks, f.QuizParticipants
		}
		points = append(points, p)
	}
	posts, err := s.Outbox.FindPosts(r.Context(), bot.PostFilter{GroupID: g.ID, DueSince: ws, DueUntil: ws.AddDate(0, 0, 7)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	last := points[len(points)-1]
	warnings, err := s.warnings(r, g.ID, ws)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month, err := s.monthTips(r, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next, err := s.nextPost(r, g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "group.html", map[string]any{"G": g, "Points": points, "Last": last, "Chart": trendSVG(points),
		"Warnings": warnings, "Month": month, "NextPost": next,
		"Posts": posts, "Schedule": schedule.For(g).Human(), "Status": report.WeekStatus(ws, s.Now(), last.Tips), "Week": ws.Format("2006-01-02"),
		"Current": !s.Now().Before(ws) && s.Now().Before(ws.AddDate(0, 0, 7)), "Unbound": g.BoundAt == nil || !g.BoundAt.Before(ws.AddDate(0, 0, 7)),
		"JustUnbound": r.URL.Query().Get("unbound") != ""})
}

// maxListedWarnings: a group page lists at most this many of a week's
// warnings.
const maxListedWarnings = 50

// warningRow is one unrequested warning: when, and what it looked like.
// The message itself is not kept.
type warningRow struct {
	At   time.Time
	Type string
}

// warnings lists the week's unrequested warnings in group id.
func (s *Server) warnings(r *http.Request, id int64, ws time.Time) ([]warningRow, error) {
	evs, err := s.Events.FindEvents(r.Context(), bot.EventFilter{GroupID: id, Kind: bot.EventWarning, Since: ws, Until: ws.AddDate(0, 0, 7)}, maxListedWarnings)
	if err != nil {
		return nil, err
	}
	ix := s.Knowledge.Index()
	rows := make([]warningRow, 0, len(evs))
	for _, e := range evs {
		name := ix.TypeName(e.Detail)
		if name == "" {
			name = "疑似诈骗消息"
		}
		rows = append(rows, warningRow{At: e.At, Type: name})
	}
	return rows, nil
}

// monthProgress is a group's tips this calendar month against the rule of
// report.RequiredTips a week, for each week that starts in the month.
type monthProgress struct {
	Month        string
	Sent, Target int
	Weeks        int
}

func (s *Server) monthTips(r *http.Request, id int64) (monthProgress, error) {
	now := s.Now().In(s.Loc)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.Loc)
	to := from.AddDate(0, 1, 0)
	figs, err := s.Stats.GroupFigures(r.Context(), from, to, id)
	if err != nil {
		return monthProgress{}, err
	}
	p := monthProgress{Month: fmt.Sprintf("%d 月", now.Month())}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			p.Weeks++
		}
	}
	p.Target = report.RequiredTips * p.Weeks
	if f := figs[id]; f != nil {
		p.Sent = f.TipsSent
	}
	return p, nil
}

// nextPost is when the group's next tip or quiz goes out: the earliest
// post waiting in the outbox, else the next slot of its schedule.
func (s *Server) nextPost(r *http.Request, g *bot.Group) (time.Time, error) {
	now := s.Now()
	if !g.Bound() {
		return time.Time{}, nil // nothing is scheduled for an unbound group
	}
	posts, err := s.Outbox.FindPosts(r.Context(), bot.PostFilter{GroupID: g.ID, Status: bot.PostPending, DueSince: now})
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, p := range posts {
		if next.IsZero() || p.DueAt.Before(next) {
			next = p.DueAt
		}
	}
	if !next.IsZero() {
		return next, nil
	}
	ws := bot.WeekStart(now, s.Loc)
	for _, week := range []time.Time{ws, ws.AddDate(0, 0, 7)} {
		for _, t := range schedule.For(g).Slots(week) {
			if t.After(now) {
				return t, nil
			}
		}
	}
	return time.Time{}, nil
}

// trendSVG draws members reached and tips posted per week as a small
// server-rendered chart: no script, prints as it looks.
func trendSVG(ps []trendPoint) template.HTML {
	const w, h, pad = 560, 180, 30
	top := 1
	for _, p := range ps {
		top = max(top, p.Members, p.Tips)
	}
	x := func(i int) float64 { return pad + float64(i)*float64(w-2*pad)/float64(max(1, len(ps)-1)) }
	y := func(v int) float64 { return float64(h-pad) - float64(v)*float64(h-2*pad)/float64(top) }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="每周趋势">`, w, h)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, pad, h-pad, w-pad, h-pad)
	for i, p := range ps {
		bw := 14.0
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f5b7b1"><title>%s 推送 %d 条</title></rect>`,
			x(i)-bw/2, y(p.Tips), bw, float64(h-pad)-y(p.Tips), p.Week.Format("01-02"), p.Tips)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, x(i), h-pad+14, p.Week.Format("01-02"))
	}
	b.WriteString(`<polyline fill="none" stroke="#c0392b" stroke-width="2" points="`)
	for i, p := range ps {
		fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(p.Members))
	}
	b.WriteString(`"/>`)
	for i, p := range ps {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#c0392b"><title>%s 参与 %d 人</title></circle>`, x(i), y(p.Members), p.Week.Format("01-02"), p.Members)
	}
	fmt.Fprintf(&b, `<text x="%d" y="14" font-size="11" fill="#c0392b">— 参与人数</text><text x="%d" y="14" font-size="11" fill="#d98880">▮ 推送条数</text></svg>`, pad, pad+90)
	return template.HTML(b.String())
}

func (s *Server) knowledgePage(w http.ResponseWriter, r *http.Request) {
	ix, con := s.Knowledge.Index(), s.Knowledge.Content()
	var types, parts []*knowledge.Entry
	for _, e := range ix.Entries {
		switch e.Kind {
		case "part":
			parts = append(parts, e)
		case "context":
		default:
			types = append(types, e)
		}
	}
	var versions []knowledge.Version
	if s.Editor != nil {
		var err error
		if versions, err = s.Editor.Versions(); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, "knowledge.html", map[string]any{"Entries": types, "Parts": parts, "Patterns": ix.PatternSummaries(),
		"Tips": len(con.Tips), "Questions": len(con.Questions), "Versions": versions,
		"Saved": r.URL.Query().Get("saved"), "Restored": r.URL.Query().Get("restored"),
		"Error": r.URL.Query().Get("error"), "Reloaded": r.URL.Query().Get("reloaded") != ""})
}

func (s *Server) reloadKnowledge(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "知识库操作")
		return
	}
	if err := s.Knowledge.Reload(); err != nil {
		http.Redirect(w, r, "/admin/knowledge?error="+template.URLQueryEscaper(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/knowledge?reloaded=1", http.StatusSeeOther)
}

type scheduleRow struct {
	G        *bot.Group
	Schedule string
	Sent     int
}

func (s *Server) schedulePage(w http.ResponseWriter, r *http.Request) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ws := bot.WeekStart(s.Now(), s.Loc)
	bound := true
	gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{Bound: &bound})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	week, err := s.Outbox.FindPosts(r.Context(), bot.PostFilter{DueSince: ws.Add(-bot.LateSend)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sent := map[int64]int{}
	for _, p := range week {
		if p.TipSentIn(ws, ws.AddDate(0, 0, 7)) {
			sent[p.GroupID]++
		}
	}
	var rows []scheduleRow
	inScope := map[int64]bool{}
	for _, g := range gs {
		if scope.Group(g) {
			inScope[g.ID] = true
			rows = append(rows, scheduleRow{G: g, Schedule: schedule.For(g).Human(), Sent: sent[g.ID]})
		}
	}
	// Posts that did not go out are shown, never silently dropped.
	var problems []*bot.OutboxPost
	for _, st := range []bot.PostStatus{bot.PostFailed, bot.PostUnconfirmed} {
		ps, err := s.Outbox.FindPosts(r.Context(), bot.PostFilter{Status: st})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range ps {
			if inScope[p.GroupID] {
				problems = append(problems, p)
			}
		}
	}
	s.render(w, r, "schedule.html", map[string]any{"Rows": rows, "Problems": problems, "Required": report.RequiredTips})
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, ext, mime string, write func(*bytes.Buffer, *report.Report) error) {
	rep, _, err := s.weekReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := write(&buf, rep); err != nil {
		s.fail(w, r, err)
		return
	}
	name := "fanzha-weekly-" + rep.WeekStart.Format("2006-01-02") + "." + ext
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	buf.WriteTo(w)
}

func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "csv", "text/csv; charset=utf-8", func(b *bytes.Buffer, rep *report.Report) error { return report.WriteCSV(b, rep) })
}

func (s *Server) exportXLSX(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		func(b *bytes.Buffer, rep *report.Report) error { return report.WriteXLSX(b, rep) })
}

// lockedFor lists, for an admin, the accounts locked now after too many
// wrong passwords.
func (s *Server) lockedFor(r *http.Request) []string {
	if session(r).Account.Role != bot.RoleAdmin {
		return nil
	}
	names := s.logins.locked(s.Now())
	sort.Strings(names)
	return names
}

// unbindGroup lets an admin undo a binding made by the wrong person (a
// student who got there first); the group's real counsellor then binds it
// again from chat.
func (s *Server) unbindGroup(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "这个群的绑定")
		return
	}
	g := s.groupInScope(w, r, "这个群的绑定")
	if g == nil {
		return
	}
	if err := s.Groups.UnbindGroup(r.Context(), g.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("group unbound by admin", "group", g.ID, "user", session(r).Account.Username)
	http.Redirect(w, r, fmt.Sprintf("/admin/groups/%d?unbound=1", g.ID), http.StatusSeeOther)
}
