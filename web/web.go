// Package web serves fanzha's HTTP side: the JSON API and admin pages, and
// mounts the playground channel's pages.
package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"fanzha/bot"
)

// Server is the HTTP handler of the admin API.
type Server struct {
	Groups bot.GroupStore
	Logger *slog.Logger
	// Mounts are further handlers by pattern, such as the playground.
	Mounts map[string]http.Handler
}

// Handler returns the routes:
//
//	GET /              redirect to the playground when it is on
//	GET /api/groups    the groups the bot is in and their binding
//	GET /healthz       liveness
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/groups", s.listGroups)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	for pattern, h := range s.Mounts {
		mux.Handle(pattern, h)
	}
	if _, ok := s.Mounts["/playground/"]; ok {
		mux.Handle("GET /{$}", http.RedirectHandler("/playground/", http.StatusFound))
	}
	return s.logRequests(mux)
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

// listGroups shows which groups exist and what they are bound to. It holds
// no member data; per-viewer scoping comes with admin login.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{})
	if err != nil {
		s.Logger.Error("listing groups", "err", err)
		http.Error(w, "读取群列表失败", http.StatusInternalServerError)
		return
	}
	out := make([]groupView, 0, len(gs))
	for _, g := range gs {
		v := groupView{ID: g.ID, Channel: g.Channel, Name: g.Name, Kind: string(g.Kind), Bound: g.Bound(), CreatedAt: g.CreatedAt}
		if g.OrgUnit != nil {
			v.OrgUnit, v.OrgKind = g.OrgUnit.Name, string(g.OrgUnit.Kind)
		}
		out = append(out, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"groups": out})
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
