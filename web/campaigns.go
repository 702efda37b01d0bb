package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// maxPickedGroups: up to this many groups in scope, the compose form lists
// them to pick by hand; beyond, units (or the API) choose.
const maxPickedGroups = 300

// campaignForm is what the compose form and the API accept.
type campaignForm struct {
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	ImageURL string   `json:"image_url"`
	Options  []string `json:"options"`
	Target   float64  `json:"target"`
	RepeatOf int64    `json:"repeat_of"`
	Units    []string `json:"units"`  // unit names or ids
	Groups   []int64  `json:"groups"` // group ids
	SendAt   string   `json:"send_at"`
	ClosesAt string   `json:"closes_at"`
	Urgent   bool     `json:"urgent"`
}

// campaign turns a form into a campaign the account may send: every unit
// and group within its scope, a scope with at least one bound group.
func (s *Server) campaign(ctx context.Context, a *bot.Account, f campaignForm) (*bot.Campaign, error) {
	if a.Role != bot.RoleAdmin {
		return nil, bot.Errorf(bot.EFORBIDDEN, "只有管理员可以发起活动；老师和网格员可以把上级的活动转发到自己的群。")
	}
	units, err := s.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	scope := report.ScopeFor(units, a.Role, a.OrgUnitID, a.MemberID)
	c := &bot.Campaign{Kind: bot.CampaignKind(f.Kind), Title: f.Title, Text: f.Text, ImageURL: f.ImageURL, Options: f.Options,
		Target: f.Target, RepeatOf: f.RepeatOf, Urgent: f.Urgent, CreatedBy: a.ID}
	for _, name := range f.Units {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, found := int64(0), false
		for _, u := range units {
			if u.Name == name || strconv.FormatInt(u.ID, 10) == name {
				id, found = u.ID, true
				break
			}
		}
		if !found {
			return nil, bot.Errorf(bot.EINVALID, "没有找到单位“%s”。", name)
		}
		if !scope.Unit(id) {
			return nil, bot.Errorf(bot.EFORBIDDEN, "单位“%s”不在您负责的范围内。", name)
		}
		c.Units = append(c.Units, id)
	}
	groups, err := s.Groups.FindGroups(ctx, bot.GroupFilter{})
	if err != nil {
		return nil, err
	}
	byID := map[int64]*bot.Group{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	for _, id := range f.Groups {
		g := byID[id]
		if g == nil {
			return nil, bot.Errorf(bot.EINVALID, "没有编号为 %d 的群。", id)
		}
		if !scope.Group(g) {
			return nil, bot.Errorf(bot.EFORBIDDEN, "群“%s”不在您负责的范围内。", g.Name)
		}
		c.Groups = append(c.Groups, id)
	}
	now := s.Now()
	for _, t := range []struct {
		v   string
		dst *time.Time
	}{{f.SendAt, &c.SendAt}, {f.ClosesAt, &c.ClosesAt}} {
		if v := strings.TrimSpace(t.v); v != "" {
			at, err := parseLocalTime(v, s.Loc)
			if err != nil {
				return nil, err
			}
			*t.dst = at
		}
	}
	if err := bot.ValidateCampaign(c, now); err != nil {
		return nil, err
	}
	if c.RepeatOf != 0 {
		prev, err := s.Campaigns.Campaign(ctx, c.RepeatOf)
		if err != nil {
			return nil, err
		}
		if prev.Kind != bot.CampaignSurvey || c.Kind != bot.CampaignSurvey {
			return nil, bot.Errorf(bot.EINVALID, "回头看只能重复一份问卷。")
		}
	}
	bound := true
	boundGroups, err := s.Groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return nil, err
	}
	if len(bot.CampaignScope(c, boundGroups, units)) == 0 {
		return nil, bot.Errorf(bot.EINVALID, "所选范围内还没有绑定的群，没有可以发送的对象。")
	}
	return c, nil
}

// parseLocalTime reads "2026-11-25 09:30" or the browser's
// "2026-11-25T09:30" in loc, or RFC 3339.
func parseLocalTime(v string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, bot.Errorf(bot.EINVALID, "时间“%s”看不懂，请写成 2026-11-25 09:30。", v)
}

// plan puts a new or widened campaign into the outbox now rather than at
// the next planning tick.
func (s *Server) plan(ctx context.Context) {
	if s.PlanCampaigns == nil {
		return
	}
	if err := s.PlanCampaigns(ctx); err != nil {
		s.Logger.Error("planning campaigns", "err", err)
	}
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Campaigns.Campaigns(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ses := session(r)
	data := map[string]any{"Campaigns": cs, "Now": s.Now(), "Admin": ses.Account.Role == bot.RoleAdmin}
	if ses.Account.Role == bot.RoleAdmin {
		scope, err := s.scope(r.Context(), ses)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		units, err := s.Stats.OrgUnits(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var mine []bot.OrgUnit
		for _, u := range units {
			if scope.Unit(u.ID) {
				mine = append(mine, u)
			}
		}
		var surveys []*bot.Campaign
		for _, c := range cs {
			if c.Kind == bot.CampaignSurvey {
				surveys = append(surveys, c)
			}
		}
		bound := true
		gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{Bound: &bound, Active: true})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var groups []*bot.Group
		for _, g := range gs {
			if scope.Group(g) {
				groups = append(groups, g)
			}
		}
		data["Units"], data["Surveys"] = mine, surveys
		if len(groups) <= maxPickedGroups {
			data["Groups"] = groups
		}
	}
	s.render(w, r, "campaigns.html", data)
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	f := campaignForm{Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Text: r.PostFormValue("text"),
		ImageURL: r.PostFormValue("image_url"), Options: strings.Split(r.PostFormValue("options"), "\n"),
		Units: r.PostForm["unit"], SendAt: r.PostFormValue("send_at"), ClosesAt: r.PostFormValue("closes_at"), Urgent: r.PostFormValue("urgent") != ""}
	if v := strings.TrimSpace(r.PostFormValue("target")); v != "" {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "目标比例请填写数字，例如 60。")
			return
		}
		f.Target = t
	}
	if v := r.PostFormValue("repeat_of"); v != "" {
		f.RepeatOf, _ = strconv.ParseInt(v, 10, 64)
	}
	for _, v := range r.PostForm["group"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			f.Groups = append(f.Groups, id)
		}
	}
	c, err := s.campaign(r.Context(), session(r).Account, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Campaigns.CreateCampaign(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("campaign created", "campaign", c.ID, "kind", c.Kind, "user", session(r).Account.Username)
	s.plan(r.Context())
	http.Redirect(w, r, fmt.Sprintf("/admin/campaigns/%d", c.ID), http.StatusSeeOther)
}

// campaignReport is campaign {id} as the viewer may see it.
func (s *Server) campaignReport(r *http.Request) (*report.CampaignReport, report.Scope, error) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		return nil, scope, err
	}
	rep, err := report.BuildCampaign(r.Context(), report.CampaignSource{Campaigns: s.Campaigns, Groups: s.Groups, Stats: s.Stats}, scope, pathID(r))
	return rep, scope, err
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	rep, scope, err := s.campaignReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A counsellor may relay the campaign to their own groups not yet in it.
	var relay []*bot.Group
	if session(r).Account.Role == bot.RoleCounsellor && rep.Campaign.Open(s.Now()) {
		in := map[int64]bool{}
		for _, g := range rep.Groups {
			in[g.Group.ID] = true
		}
		bound := true
		gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{Bound: &bound, Active: true})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, g := range gs {
			if scope.Group(g) && !in[g.ID] {
				relay = append(relay, g)
			}
		}
	}
	s.render(w, r, "campaign.html", map[string]any{"R": rep, "C": rep.Campaign, "Relay": relay,
		"Open": rep.Campaign.Open(s.Now()), "Scheduled": rep.Campaign.CancelledAt == nil && s.Now().Before(rep.Campaign.SendAt),
		"Answer": report.AnswerLabel(rep.Campaign.Kind), "Preview": bot.ComposeCampaign(rep.Campaign), "Cancelled": r.URL.Query().Get("cancelled")})
}

func (s *Server) cancelCampaign(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "撤回这个活动")
		return
	}
	n, err := s.Campaigns.CancelCampaign(r.Context(), pathID(r), s.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recalled := 0
	if s.RecallCampaign != nil {
		// What went out in the last 24 hours is taken back where the
		// platform allows it (DingTalk).
		if recalled, err = s.RecallCampaign(r.Context(), pathID(r)); err != nil {
			s.Logger.Error("recalling a cancelled campaign", "campaign", pathID(r), "err", err)
		}
	}
	s.Logger.Info("campaign cancelled", "campaign", pathID(r), "unsent", n, "recalled", recalled, "user", session(r).Account.Username)
	http.Redirect(w, r, fmt.Sprintf("/admin/campaigns/%d?cancelled=%d", pathID(r), n), http.StatusSeeOther)
}

// relayCampaign adds a counsellor's own groups to a campaign.
func (s *Server) relayCampaign(w http.ResponseWriter, r *http.Request) {
	ses := session(r)
	scope, err := s.scope(r.Context(), ses)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Campaigns.Campaign(r.Context(), pathID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !c.Open(s.Now()) {
		s.errorPage(w, r, http.StatusConflict, "这个活动已经截止或撤回，不能再转发。")
		return
	}
	groups, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byID := map[int64]*bot.Group{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	var ids []int64
	for _, v := range r.PostForm["group"] {
		id, _ := strconv.ParseInt(v, 10, 64)
		g := byID[id]
		if g == nil || !scope.Group(g) || !g.Bound() {
			s.forbidden(w, r, "转发到这个群")
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "请选择要转发到的群。")
		return
	}
	if err := s.Campaigns.AddCampaignGroups(r.Context(), c.ID, ids); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("campaign relayed", "campaign", c.ID, "groups", len(ids), "user", ses.Account.Username)
	s.plan(r.Context())
	http.Redirect(w, r, fmt.Sprintf("/admin/campaigns/%d", c.ID), http.StatusSeeOther)
}

// exportCampaign downloads the campaign's figures as ext, "xlsx" or "csv".
func (s *Server) exportCampaign(ext string) http.HandlerFunc {
	ctype, write := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report.WriteCampaignXLSX
	if ext == "csv" {
		ctype, write = "text/csv; charset=utf-8", report.WriteCampaignCSV
	}
	return func(w http.ResponseWriter, r *http.Request) { s.writeCampaign(w, r, ext, ctype, write) }
}

func (s *Server) writeCampaign(w http.ResponseWriter, r *http.Request, ext, ctype string, write func(io.Writer, *report.CampaignReport) error) {
	rep, _, err := s.campaignReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := write(&b, rep); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="campaign-%d.%s"`, rep.Campaign.ID, ext))
	b.WriteTo(w)
}
