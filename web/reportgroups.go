package web

import (
	"net/http"
	"strconv"

	"fanzha/bot"
)

// The admin side of 管理群: which group each unit's scheduled reports go
// to, set from the overview (counsellors set it in chat).

type reportGroupRow struct {
	Unit  bot.OrgUnit
	Group *bot.Group
}

// reportGroups lists the viewer's units' report groups, and the units and
// groups an admin may choose from.
func (s *Server) reportGroups(r *http.Request) (rows []reportGroupRow, units []bot.OrgUnit, groups []*bot.Group, err error) {
	if s.Reports == nil || session(r).Account.Role != bot.RoleAdmin {
		return nil, nil, nil, nil
	}
	scope, byID, err := s.reviewScope(r)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := s.Stats.OrgUnits(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	unitByID := map[int64]bot.OrgUnit{}
	for _, u := range all {
		unitByID[u.ID] = u
		if scope.Unit(u.ID) && u.Kind != bot.OrgClass {
			units = append(units, u)
		}
	}
	rgs, err := s.Reports.ReportGroups(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	for _, rg := range rgs {
		if scope.Unit(rg.UnitID) && byID[rg.GroupID] != nil {
			rows = append(rows, reportGroupRow{unitByID[rg.UnitID], byID[rg.GroupID]})
		}
	}
	for _, g := range byID {
		if g.Bound() && g.RemovedAt == nil && scope.Group(g) {
			groups = append(groups, g)
		}
	}
	return rows, units, groups, nil
}

func (s *Server) setReportGroup(w http.ResponseWriter, r *http.Request) {
	_, units, groups, err := s.reportGroups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unit, _ := strconv.ParseInt(r.PostFormValue("unit"), 10, 64)
	group, _ := strconv.ParseInt(r.PostFormValue("group"), 10, 64)
	okUnit, okGroup := false, false
	for _, u := range units {
		okUnit = okUnit || u.ID == unit
	}
	for _, g := range groups {
		okGroup = okGroup || g.ID == group
	}
	if !okUnit || !okGroup {
		s.forbidden(w, r, "设置这个管理群")
		return
	}
	if err := s.Reports.SetReportGroup(r.Context(), unit, group, 0, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("report group set on the web", "unit", unit, "group", group, "user", session(r).Account.Username)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}
