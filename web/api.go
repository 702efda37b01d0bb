package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// The campaign API, for the anti-fraud centre's own systems: an account's
// API token (fanzha admin token) in "Authorization: Bearer …", JSON in and
// out, the account's scope as in the web.

// apiJSON writes v as JSON with status.
func apiJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiFail answers an API error in JSON: the message for what the caller
// can fix, a general one (and a log line) for the rest.
func (s *Server) apiFail(w http.ResponseWriter, err error) {
	status, msg := s.status(err)
	apiJSON(w, status, map[string]string{"error": msg})
}

// requireToken runs h with the account of the request's bearer token, or
// answers 401.
func (s *Server) requireToken(h func(http.ResponseWriter, *http.Request, *bot.Account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" || s.Tokens == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fanzha"`)
			apiJSON(w, http.StatusUnauthorized, map[string]string{"error": "缺少 API 令牌：请在 Authorization 头里写 Bearer 令牌。"})
			return
		}
		a, err := s.Tokens.FindToken(r.Context(), strings.TrimSpace(token))
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fanzha", error="invalid_token"`)
			apiJSON(w, http.StatusUnauthorized, map[string]string{"error": bot.ErrorMessage(err)})
			return
		}
		if err != nil {
			s.apiFail(w, err)
			return
		}
		h(w, r, a)
	}
}

// apiCampaign is a campaign as the API returns it.
type apiCampaign struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	SendAt   time.Time `json:"send_at"`
	ClosesAt time.Time `json:"closes_at"`
	URL      string    `json:"url"`
	// Figures over the caller's groups.
	Planned  int   `json:"planned"`
	Sent     int   `json:"sent"`
	Failed   int   `json:"failed"`
	Queued   int   `json:"queued"`
	Answers  int   `json:"answers"`
	ByOption []int `json:"by_option,omitempty"`
}

func (s *Server) apiCreateCampaign(w http.ResponseWriter, r *http.Request, a *bot.Account) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		apiJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "请用 Content-Type: application/json 发送。"})
		return
	}
	var f campaignForm
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "请求太大了。"})
			return
		}
		apiJSON(w, http.StatusBadRequest, map[string]string{"error": "JSON 格式不对：" + err.Error()})
		return
	}
	c, err := s.campaign(r.Context(), a, f)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	if err := s.Campaigns.CreateCampaign(r.Context(), c); err != nil {
		s.apiFail(w, err)
		return
	}
	s.Logger.Info("campaign created through the API", "campaign", c.ID, "kind", c.Kind, "user", a.Username)
	s.plan(r.Context())
	apiJSON(w, http.StatusCreated, apiCampaign{ID: c.ID, Kind: string(c.Kind), Title: c.Title, SendAt: c.SendAt, ClosesAt: c.ClosesAt,
		URL: fmt.Sprintf("/admin/campaigns/%d", c.ID)})
}

func (s *Server) apiGetCampaign(w http.ResponseWriter, r *http.Request, a *bot.Account) {
	units, err := s.Stats.OrgUnits(r.Context())
	if err != nil {
		s.apiFail(w, err)
		return
	}
	scope := report.ScopeFor(units, a.Role, a.OrgUnitID, a.MemberID)
	rep, err := report.BuildCampaign(r.Context(), report.CampaignSource{Campaigns: s.Campaigns, Groups: s.Groups, Stats: s.Stats}, scope, pathID(r))
	if err != nil {
		s.apiFail(w, err)
		return
	}
	c := rep.Campaign
	apiJSON(w, http.StatusOK, apiCampaign{ID: c.ID, Kind: string(c.Kind), Title: c.Title, SendAt: c.SendAt, ClosesAt: c.ClosesAt,
		URL: fmt.Sprintf("/admin/campaigns/%d", c.ID), Planned: rep.Planned, Sent: rep.Sent, Failed: rep.Failed, Queued: rep.Queued,
		Answers: rep.Answers, ByOption: rep.ByOption})
}
