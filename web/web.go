// Package web serves fanzha's HTTP side: the admin pages (login, weekly
// overview, drill-down, group trends, exports), a small JSON API, and the
// playground channel's pages mounted beside them.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/report"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS holds the pages' scripts: Chart.js (MIT, vendor/) and the code
// that draws the charts.
//
//go:embed static
var staticFS embed.FS

// Server is the HTTP handler.
type Server struct {
	// Ping, if set, checks the database for /healthz: a replica whose
	// database is gone reports 503 so that its balancer sends no one.
	Ping      func(ctx context.Context) error
	Groups    bot.GroupStore
	Stats     bot.StatsStore
	Units     bot.OrgUnitStore
	Outbox    bot.Outbox
	Accounts  bot.SessionStore
	Events    bot.EventReader
	Campaigns bot.CampaignStore
	Tokens    bot.TokenStore
	Review    bot.ReviewStore
	Prizes    bot.PrizeStore
	Cases     bot.CaseStore
	Reports   bot.ReportGroupStore
	// MustTeach is when cases flag a unit 必讲.
	MustTeach bot.MustTeachRule
	// Weights are the composite score's.
	Weights report.ScoreWeights
	// Editor edits the knowledge folder from the web; nil leaves it read
	// only.
	Editor *knowledge.Editor
	// RecallCampaign takes a cancelled campaign's recent posts back where
	// the platform allows it and reports in how many groups; nil: never.
	RecallCampaign func(ctx context.Context, id int64) (int, error)
	// PlanCampaigns puts a new or widened campaign into the outbox at once;
	// nil leaves it to the next planning tick.
	PlanCampaigns func(context.Context) error
	Knowledge     *knowledge.Base
	Loc           *time.Location
	Campaign      report.Campaign
	Logger        *slog.Logger
	Now           func() time.Time
	// SecureCookies marks cookies Secure; on whenever the site is served
	// over HTTPS (behind a proxy, say).
	SecureCookies bool
	// OpenGroupsAPI serves /api/groups without login: only for the local
	// playground demo.
	OpenGroupsAPI bool
	// Mounts are further handlers by pattern, such as the playground.
	Mounts map[string]http.Handler
	// LoopbackOnly: the server listens on this machine only, so a request
	// naming another host (a DNS-rebinding page in the user's browser) is
	// refused.
	LoopbackOnly bool

	tmpl   *template.Template
	logins throttle
}

// Handler returns every route.
func (s *Server) Handler() http.Handler {
	loc := s.Loc
	if loc == nil {
		loc = time.UTC
	}
	// Times are shown in the campaign's time zone: a post at 21:43 Beijing
	// time reads 21:43, not 13:43.
	clock := template.FuncMap{"clock": func(t time.Time) string { return t.In(loc).Format("01-02 15:04") }}
	s.tmpl = template.Must(template.New("").Funcs(funcs).Funcs(clock).ParseFS(templateFS, "templates/*.html"))
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.form(s.login))
	mux.HandleFunc("POST /logout", s.form(s.logout))
	mux.HandleFunc("GET /api/groups", s.listGroups)
	mux.HandleFunc("GET /admin/{$}", s.requireLogin(s.overview))
	mux.HandleFunc("GET /admin/units/{id}", s.requireLogin(s.unitPage))
	mux.HandleFunc("POST /admin/units/{id}", s.form(s.requireLogin(s.updateUnit)))
	mux.HandleFunc("GET /admin/groups/{id}", s.requireLogin(s.groupPage))
	mux.HandleFunc("POST /admin/groups/{id}/unbind", s.form(s.requireLogin(s.unbindGroup)))
	mux.HandleFunc("GET /admin/knowledge", s.requireLogin(s.knowledgePage))
	mux.HandleFunc("POST /admin/knowledge/reload", s.form(s.requireLogin(s.reloadKnowledge)))
	mux.HandleFunc("GET /admin/knowledge/types/{id}", s.requireLogin(s.editPage))
	mux.HandleFunc("GET /admin/knowledge/to", s.requireLogin(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/knowledge/types/"+url.PathEscape(r.URL.Query().Get("id"))+"?add="+url.QueryEscape(r.URL.Query().Get("add")), http.StatusSeeOther)
	}))
	mux.HandleFunc("POST /admin/knowledge/types/{id}", s.form(s.requireLogin(s.editPage)))
	mux.HandleFunc("POST /admin/knowledge/rollback/{v}", s.form(s.requireLogin(s.rollbackKnowledge)))
	mux.HandleFunc("GET /admin/schedule", s.requireLogin(s.schedulePage))
	mux.HandleFunc("GET /admin/export.csv", s.requireLogin(s.exportCSV))
	mux.HandleFunc("GET /admin/campaigns", s.requireLogin(s.campaignsPage))
	mux.HandleFunc("POST /admin/campaigns", s.form(s.requireLogin(s.createCampaign)))
	mux.HandleFunc("GET /admin/campaigns/{id}", s.requireLogin(s.campaignPage))
	mux.HandleFunc("POST /admin/campaigns/{id}/cancel", s.form(s.requireLogin(s.cancelCampaign)))
	mux.HandleFunc("POST /admin/campaigns/{id}/relay", s.form(s.requireLogin(s.relayCampaign)))
	mux.HandleFunc("GET /admin/campaigns/{id}/export.xlsx", s.requireLogin(s.exportCampaign("xlsx")))
	mux.HandleFunc("GET /admin/campaigns/{id}/export.csv", s.requireLogin(s.exportCampaign("csv")))
	mux.HandleFunc("GET /admin/export.xlsx", s.requireLogin(s.exportXLSX))
	mux.HandleFunc("POST /admin/report-group", s.form(s.requireLogin(s.setReportGroup)))
	mux.HandleFunc("GET /admin/scores", s.requireLogin(s.scoresPage))
	mux.HandleFunc("GET /admin/scores.xlsx", s.requireLogin(s.exportScores))
	mux.HandleFunc("GET /admin/cases", s.requireLogin(s.casesPage))
	mux.HandleFunc("GET /admin/cases.xlsx", s.requireLogin(s.exportCases))
	mux.HandleFunc("POST /admin/cases", s.form(s.requireLogin(s.addCase)))
	mux.HandleFunc("POST /admin/cases/import", s.requireLogin(s.importCases))
	mux.HandleFunc("GET /admin/cases/{id}", s.requireLogin(s.casePage))
	mux.HandleFunc("POST /admin/cases/flags/{id}/clear", s.form(s.requireLogin(s.clearFlag)))
	mux.HandleFunc("GET /admin/prizes", s.requireLogin(s.prizesPage))
	mux.HandleFunc("GET /admin/prizes.xlsx", s.requireLogin(s.exportPrizes))
	mux.HandleFunc("POST /admin/prizes/rules", s.form(s.requireLogin(s.createPrizeRule)))
	mux.HandleFunc("POST /admin/prizes/rules/{id}/toggle", s.form(s.requireLogin(s.togglePrizeRule)))
	mux.HandleFunc("POST /admin/prizes/draws/{id}/handed", s.form(s.requireLogin(s.markHanded)))
	mux.HandleFunc("GET /admin/review", s.requireLogin(s.reviewPage))
	mux.HandleFunc("POST /admin/review/confirm", s.form(s.requireLogin(s.confirmItem)))
	mux.HandleFunc("POST /admin/review/dismiss", s.form(s.requireLogin(s.dismissItem)))
	mux.HandleFunc("POST /admin/review/feedback/{id}/close", s.form(s.requireLogin(s.closeFeedback)))
	mux.HandleFunc("GET /admin/blocklist", s.requireLogin(s.blocklistPage))
	mux.HandleFunc("GET /admin/blocklist.csv", s.requireLogin(s.exportBlocklist))
	mux.HandleFunc("POST /admin/blocklist/unlist", s.form(s.requireLogin(s.unlistItem)))
	mux.HandleFunc("POST /admin/blocklist/import", s.form(s.requireLogin(s.importBlocklistForm)))
	mux.HandleFunc("POST /api/v1/blocklist", s.requireToken(s.apiImportBlocklist))
	mux.HandleFunc("POST /api/v1/campaigns", s.requireToken(s.apiCreateCampaign))
	mux.HandleFunc("GET /api/v1/campaigns/{id}", s.requireToken(s.apiGetCampaign))
	for pattern, h := range s.Mounts {
		mux.Handle(pattern, h)
	}
	home := "/admin/"
	if _, ok := s.Mounts["/playground/"]; ok {
		home = "/playground/"
	}
	mux.Handle("GET /{$}", http.RedirectHandler(home, http.StatusFound))
	return s.logRequests(s.checkHost(mux))
}

// cacheFor lets browsers keep the static scripts a day.
func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// checkHost refuses, on a loopback-only server, requests for another host.
func (s *Server) checkHost(h http.Handler) http.Handler {
	if !s.LoopbackOnly {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "只接受本机访问。", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// form reads a posted form before h sees it: one too large (beyond the
// server's body limit) or malformed is refused in words.
func (s *Server) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				s.errorPage(w, r, http.StatusRequestEntityTooLarge, "提交的内容太大了。")
				return
			}
			s.errorPage(w, r, http.StatusBadRequest, "提交的内容无法读取，请刷新页面后重试。")
			return
		}
		h(w, r)
	}
}

type groupView struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Bound     bool      `json:"bound"`
	OrgUnit   string    `json:"org_unit,omitempty"`
	OrgKind   string    `json:"org_kind,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// listGroups lists the groups the viewer may see and their binding. It
// holds no member data.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	scope := report.Scope{All: true}
	if !s.OpenGroupsAPI {
		ses := s.currentSession(r)
		if ses == nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "请先登录。"})
			return
		}
		var err error
		if scope, err = s.scope(r.Context(), ses); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []groupView{}
	for _, g := range gs {
		if !scope.All && !scope.Group(g) {
			continue
		}
		v := groupView{ID: g.ID, Channel: g.Channel, Name: g.Name, Kind: string(g.Kind), Bound: g.Bound(), CreatedAt: g.CreatedAt}
		if g.OrgUnit != nil {
			v.OrgUnit, v.OrgKind = g.OrgUnit.Name, string(g.OrgUnit.Kind)
		}
		out = append(out, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"groups": out})
}

// fail answers a failed request: with the error's own words for what the
// user can fix, with a general apology (and a log line) for the rest.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.status(err)
	s.errorPage(w, r, status, msg)
}

// status is the HTTP status and message of an error: its own words for
// what the user can fix, a general apology (and a log line) for the rest.
func (s *Server) status(err error) (int, string) {
	switch bot.ErrorCode(err) {
	case bot.EINVALID:
		return http.StatusBadRequest, bot.ErrorMessage(err)
	case bot.ENOTFOUND:
		return http.StatusNotFound, bot.ErrorMessage(err)
	case bot.EFORBIDDEN:
		return http.StatusForbidden, bot.ErrorMessage(err)
	case bot.ECONFLICT:
		return http.StatusConflict, bot.ErrorMessage(err)
	}
	s.Logger.Error("web request failed", "err", err)
	return http.StatusInternalServerError, "服务器出错了，请稍后再试。"
}

// errorPage shows msg in the admin layout with a way back: the page the
// user came from on this site (the form, after a bad post), and the
// overview. The API answers in plain
// text.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		http.Error(w, msg, status)
		return
	}
	back := "/admin/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && (ref.Path != r.URL.Path || r.Method == http.MethodPost) {
		back = ref.RequestURI()
	}
	data := map[string]any{"Status": status, "Message": msg, "Back": back}
	if err := s.renderStatus(w, r, status, "error.html", data); err != nil {
		s.Logger.Error("rendering the error page", "err", err)
		http.Error(w, msg, status)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(sw, r)
		s.Logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
	})
}

// health answers load balancers and supervisors: 200 "ok" while the
// database answers within two seconds, 503 otherwise.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if s.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			s.Logger.Error("health check: database not answering", "err", err)
			http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ok\n"))
}
