package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/knowledge"
)

// Editing a scam type from the web (admins): the form, a preview of what
// the edit would change, saving with a version, and rollback.

// lines splits a textarea into its non-empty lines.
func lines(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// effectRow is a message whose verdict an edit would change.
type effectRow struct {
	Source, Text  string
	Before, After string
}

// maxAddedPhrase: a phrase brought from the review queue is at most this
// long.
const maxAddedPhrase = 20

// maxEffectRows: the preview shows at most this many changed messages.
const maxEffectRows = 20

// effect checks the messages an edit is judged on with the active and the
// staged knowledge: the texts of reports under review, the samples groups
// shared, and fanzha's own tips and quiz explanations (education, which
// must never be warned about).
func (s *Server) effect(r *http.Request, staged *knowledge.Index) (map[string][2]int, []effectRow, error) {
	type msg struct{ source, text string }
	var msgs []msg
	if s.Review != nil {
		reported, err := s.Review.ReportedItems(r.Context(), maxQueue)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range reported {
			if it.Text != "" {
				msgs = append(msgs, msg{"举报", it.Text})
			}
		}
		samples, err := s.Review.Unanswered(r.Context(), time.Time{}, maxQueue)
		if err != nil {
			return nil, nil, err
		}
		for _, sm := range samples {
			msgs = append(msgs, msg{"样本", sm.Text})
		}
	}
	con := s.Knowledge.Content()
	for _, t := range con.Tips {
		msgs = append(msgs, msg{"提示", t.Text})
	}
	for _, q := range con.Questions {
		msgs = append(msgs, msg{"题目解析", q.Explain})
	}
	counts := map[string][2]int{} // source → checked, changed
	var rows []effectRow
	cur := s.Knowledge.Index()
	label := func(v knowledge.Verdict) string {
		l := v.Level.String()
		if v.Warn {
			l += "（会主动提醒）"
		}
		return l
	}
	for _, m := range msgs {
		c := counts[m.source]
		c[0]++
		a, b := cur.Check(m.text), staged.Check(m.text)
		if a.Level != b.Level || a.Warn != b.Warn {
			c[1]++
			if len(rows) < maxEffectRows {
				rows = append(rows, effectRow{m.source, m.text, label(a), label(b)})
			}
		}
		counts[m.source] = c
	}
	return counts, rows, nil
}

func (s *Server) editPage(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "知识库编辑")
		return
	}
	var e *knowledge.Entry
	for _, x := range s.Knowledge.Index().Entries {
		if x.ID == r.PathValue("id") && x.Kind != "part" && x.Kind != "context" {
			e = x
		}
	}
	if e == nil {
		s.errorPage(w, r, http.StatusNotFound, "没有这个诈骗类型。")
		return
	}
	phrases := strings.Join(e.Phrases, "\n")
	if add := strings.TrimSpace(r.URL.Query().Get("add")); add != "" && utf8.RuneCountInString(add) <= maxAddedPhrase {
		phrases += "\n" + add // from the review queue: a reported wording to add
	}
	type tipRow struct {
		ID, Text string
		On       bool
	}
	var tips []tipRow
	for _, t := range s.Knowledge.Content().Tips {
		on := false
		for _, ty := range t.Types {
			on = on || ty == e.ID
		}
		if r.Method == http.MethodPost {
			on = false
			for _, id := range r.PostForm["tip"] {
				on = on || id == t.ID
			}
		}
		tips = append(tips, tipRow{t.ID, t.Text, on})
	}
	data := map[string]any{"E": e, "Phrases": phrases, "Do": strings.Join(e.Advice.Do, "\n"), "Dont": strings.Join(e.Advice.Dont, "\n"), "Tips": tips}
	if r.Method == http.MethodPost {
		edit := knowledge.EntryEdit{ID: e.ID, Phrases: lines(r.PostFormValue("phrases")), Do: lines(r.PostFormValue("do")), Dont: lines(r.PostFormValue("dont"))}
		if r.PostFormValue("tips_shown") != "" {
			edit.Tips = append([]string{}, r.PostForm["tip"]...) // none ticked: no tip teaches it
		}
		data["Phrases"], data["Do"], data["Dont"] = r.PostFormValue("phrases"), r.PostFormValue("do"), r.PostFormValue("dont")
		if err := s.ensureEditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		staged, _, err := s.Editor.Stage(edit)
		if err != nil {
			data["Error"] = err.Error()
			if err := s.renderStatus(w, r, http.StatusBadRequest, "kbedit.html", data); err != nil {
				s.fail(w, r, err)
			}
			return
		}
		if r.PostFormValue("save") != "" {
			v, err := s.Editor.Apply(edit, session(r).Account.Username)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			s.Logger.Info("knowledge edited from the web", "entry", e.ID, "version", v.ID, "user", session(r).Account.Username)
			http.Redirect(w, r, "/admin/knowledge?saved="+e.ID, http.StatusSeeOther)
			return
		}
		counts, rows, err := s.effect(r, staged)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Preview"], data["Counts"], data["Rows"] = true, counts, rows
	}
	s.render(w, r, "kbedit.html", data)
}

// ensureEditable switches an install that runs on the built-in knowledge
// to a copy of it in the data folder, which can be edited.
func (s *Server) ensureEditable() error {
	if s.Editor == nil {
		return bot.Errorf(bot.ECONFLICT, "这个服务没有可写的知识库文件夹，不能在网页上编辑。")
	}
	if s.Knowledge.Dir() != "" {
		return nil
	}
	if _, err := knowledge.Materialize(s.Editor.Dir); err != nil {
		return fmt.Errorf("copying the built-in knowledge to %s: %w", s.Editor.Dir, err)
	}
	return s.Knowledge.UseDir(s.Editor.Dir)
}

func (s *Server) rollbackKnowledge(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin || s.Editor == nil {
		s.forbidden(w, r, "知识库操作")
		return
	}
	v, err := s.Editor.Rollback(r.PathValue("v"), session(r).Account.Username)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "没有恢复："+err.Error())
		return
	}
	s.Logger.Info("knowledge rolled back", "to", r.PathValue("v"), "saved_as", v.ID, "user", session(r).Account.Username)
	http.Redirect(w, r, "/admin/knowledge?restored="+r.PathValue("v"), http.StatusSeeOther)
}
