package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// The review queue: what residents reported and said of verdicts, for the
// people who decide. Admins see and act on their unit and below;
// counsellors see their own groups' items and may dismiss what only their
// groups reported; only an admin lists an item.

// Limits of the review page.
const (
	maxQueue    = 500
	digestSpan  = 7 * 24 * time.Hour
	maxListDays = 3650
)

// queueItem is a reported item as the viewer may see it.
type queueItem struct {
	bot.Item
	Reports    int
	Groups     []string
	LastReport time.Time
	Text       string
	Own        bool // every report came from the viewer's groups
}

type feedbackRow struct {
	bot.Feedback
	Group string
	Rule  string
}

type sampleRow struct {
	bot.Sample
	Group string
}

// reviewScope is the viewer's scope and their groups by id.
func (s *Server) reviewScope(r *http.Request) (report.Scope, map[int64]*bot.Group, error) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		return scope, nil, err
	}
	groups, err := s.Groups.FindGroups(r.Context(), bot.GroupFilter{})
	if err != nil {
		return scope, nil, err
	}
	byID := map[int64]*bot.Group{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	return scope, byID, nil
}

// visible reports whether a group's item is the viewer's to see: reports
// from a 1:1 chat only to admins of everything.
func visible(scope report.Scope, byID map[int64]*bot.Group, groupID int64) bool {
	if groupID == 0 {
		return scope.All
	}
	g := byID[groupID]
	return g != nil && scope.Group(g)
}

// queue aggregates the open reports the viewer may see, per item.
func (s *Server) queue(r *http.Request, scope report.Scope, byID map[int64]*bot.Group) ([]*queueItem, error) {
	rows, err := s.Review.ReportedItems(r.Context(), maxQueue)
	if err != nil {
		return nil, err
	}
	items := map[bot.Item]*queueItem{}
	var order []*queueItem
	for _, row := range rows {
		q := items[row.Item]
		if q == nil {
			q = &queueItem{Item: row.Item, Own: true}
			items[row.Item] = q
			order = append(order, q)
		}
		if !visible(scope, byID, row.GroupID) {
			q.Own = false
			continue
		}
		q.Reports += row.Reports
		if g := byID[row.GroupID]; g != nil {
			q.Groups = append(q.Groups, g.Name)
		}
		if row.LastReport.After(q.LastReport) {
			q.LastReport, q.Text = row.LastReport, row.Text
		}
	}
	var out []*queueItem
	for _, q := range order {
		if q.Reports > 0 {
			out = append(out, q)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Reports > out[j].Reports })
	return out, nil
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	scope, byID, err := s.reviewScope(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.queue(r, scope, byID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ix := s.Knowledge.Index()
	fbs, err := s.Review.OpenFeedback(r.Context(), maxQueue)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var feedback []feedbackRow
	weekUseless := 0
	for _, f := range fbs {
		if !visible(scope, byID, f.GroupID) {
			continue
		}
		name := ix.TypeName(f.Rule)
		if name == "" {
			name = f.Rule
		}
		feedback = append(feedback, feedbackRow{Feedback: f, Group: byID[f.GroupID].Name, Rule: name})
		if f.Kind == bot.FeedbackUseless && s.Now().Sub(f.At) < digestSpan {
			weekUseless++
		}
	}
	samples, err := s.Review.Unanswered(r.Context(), s.Now().Add(-digestSpan), maxQueue)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var unanswered []sampleRow
	for _, sm := range samples {
		if visible(scope, byID, sm.GroupID) {
			unanswered = append(unanswered, sampleRow{Sample: sm, Group: byID[sm.GroupID].Name})
		}
	}
	var log []bot.ReviewEntry
	admin := session(r).Account.Role == bot.RoleAdmin
	if admin {
		if log, err = s.Review.ReviewLog(r.Context(), 50); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var types []*typeOption
	for _, e := range ix.Entries {
		if e.Kind != "part" && e.Kind != "context" && e.Kind != "rule" {
			types = append(types, &typeOption{ID: e.ID, Name: e.Name})
		}
	}
	s.render(w, r, "review.html", map[string]any{"Items": items, "Feedback": feedback, "Unanswered": unanswered,
		"WeekUseless": weekUseless, "Log": log, "Admin": admin, "Types": types, "Done": r.URL.Query().Get("done")})
}

type typeOption struct{ ID, Name string }

// formItem is the item a review form names.
func formItem(r *http.Request) (bot.Item, error) {
	it := bot.Item{Kind: bot.ItemKind(r.PostFormValue("kind")), Value: strings.TrimSpace(r.PostFormValue("value"))}
	if it.Kind.Label() == string(it.Kind) || it.Value == "" {
		return it, bot.Errorf(bot.EINVALID, "没有指明要处理哪一项。")
	}
	return it, nil
}

// mayAct reports whether the viewer may decide on item: admins on what
// their scope reported, counsellors on what only their groups reported.
func (s *Server) mayAct(r *http.Request, it bot.Item) (bool, error) {
	scope, byID, err := s.reviewScope(r)
	if err != nil {
		return false, err
	}
	items, err := s.queue(r, scope, byID)
	if err != nil {
		return false, err
	}
	for _, q := range items {
		if q.Item == it {
			return session(r).Account.Role == bot.RoleAdmin || q.Own, nil
		}
	}
	return false, nil
}

// itemToAct is the item a review form names, if the viewer may decide on
// it; otherwise the refusal is written and ok is false.
func (s *Server) itemToAct(w http.ResponseWriter, r *http.Request) (bot.Item, bool) {
	it, err := formItem(r)
	if err != nil {
		s.fail(w, r, err)
		return it, false
	}
	ok, err := s.mayAct(r, it)
	if err != nil {
		s.fail(w, r, err)
		return it, false
	}
	if !ok {
		s.forbidden(w, r, "这一项")
	}
	return it, ok
}

func (s *Server) confirmItem(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "把这一项列入诈骗名单")
		return
	}
	it, ok := s.itemToAct(w, r)
	if !ok {
		return
	}
	li := bot.ListedItem{Item: it, ScamType: r.PostFormValue("scam_type"), Note: strings.TrimSpace(r.PostFormValue("note")), ListedAt: s.Now()}
	if li.ScamType != "" && s.Knowledge.Index().TypeName(li.ScamType) == "" {
		s.errorPage(w, r, http.StatusBadRequest, "诈骗类型不在知识库里。")
		return
	}
	if days := strings.TrimSpace(r.PostFormValue("days")); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > maxListDays {
			s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("有效天数请填写 1 到 %d 的整数。", maxListDays))
			return
		}
		exp := s.Now().AddDate(0, 0, n)
		li.ExpiresAt = &exp
	}
	if err := s.Review.Confirm(r.Context(), li, session(r).Account.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("item confirmed to the blocklist", "kind", it.Kind, "user", session(r).Account.Username)
	http.Redirect(w, r, "/admin/review?done=confirm", http.StatusSeeOther)
}

func (s *Server) dismissItem(w http.ResponseWriter, r *http.Request) {
	it, ok := s.itemToAct(w, r)
	if !ok {
		return
	}
	if err := s.Review.Dismiss(r.Context(), it, session(r).Account.ID, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/review?done=dismiss", http.StatusSeeOther)
}

func (s *Server) closeFeedback(w http.ResponseWriter, r *http.Request) {
	scope, byID, err := s.reviewScope(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fbs, err := s.Review.OpenFeedback(r.Context(), maxQueue)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := pathID(r)
	for _, f := range fbs {
		if f.ID == id {
			if !visible(scope, byID, f.GroupID) {
				break
			}
			if err := s.Review.CloseFeedback(r.Context(), id, session(r).Account.ID, s.Now()); err != nil {
				s.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/admin/review?done=feedback", http.StatusSeeOther)
			return
		}
	}
	s.forbidden(w, r, "这条反馈")
}

func (s *Server) blocklistPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.Review.Blocklist(r.Context(), s.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ix := s.Knowledge.Index()
	names := map[string]string{}
	for _, it := range list {
		names[it.ScamType] = ix.TypeName(it.ScamType)
	}
	s.render(w, r, "blocklist.html", map[string]any{"List": list, "Names": names, "Admin": session(r).Account.Role == bot.RoleAdmin,
		"Header": strings.Join(bot.BlocklistHeader, ","), "Imported": r.URL.Query().Get("imported")})
}

func (s *Server) unlistItem(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "移出诈骗名单")
		return
	}
	it, err := formItem(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Review.Unlist(r.Context(), it, session(r).Account.ID, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/blocklist", http.StatusSeeOther)
}

// importBlocklist reads CSV text and lists every row, or none.
func (s *Server) importBlocklist(ctx context.Context, a *bot.Account, text string) (int, error) {
	if a.Role != bot.RoleAdmin {
		return 0, bot.Errorf(bot.EFORBIDDEN, "只有管理员可以导入诈骗名单。")
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return 0, bot.Errorf(bot.EINVALID, "CSV 格式不对：%v", err)
	}
	ix := s.Knowledge.Index()
	rows, err := bot.ParseBlocklist(records, func(id string) bool { return ix.TypeName(id) != "" }, s.Now(), s.Loc)
	if err != nil {
		return 0, err
	}
	return s.Review.ImportBlocklist(ctx, rows, a.ID)
}

// maxImportBytes bounds a pasted or posted blocklist.
const maxImportBytes = 512 << 10

func (s *Server) importBlocklistForm(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("csv")
	if len(text) > maxImportBytes {
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "名单太大了，请分批导入。")
		return
	}
	n, err := s.importBlocklist(r.Context(), session(r).Account, text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("blocklist imported", "rows", n, "user", session(r).Account.Username)
	http.Redirect(w, r, fmt.Sprintf("/admin/blocklist?imported=%d", n), http.StatusSeeOther)
}

func (s *Server) exportBlocklist(w http.ResponseWriter, r *http.Request) {
	list, err := s.Review.Blocklist(r.Context(), s.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBF")
	cw := csv.NewWriter(&b)
	cw.Write(bot.BlocklistHeader)
	for _, it := range list {
		exp := ""
		if it.ExpiresAt != nil {
			exp = it.ExpiresAt.In(s.Loc).AddDate(0, 0, -1).Format("2006-01-02")
		}
		cw.Write([]string{it.Kind.Label(), inertCell(it.Value), it.ScamType, inertCell(it.Note), exp})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="blocklist.csv"`)
	b.WriteTo(w)
}

// inertCell keeps a cell a spreadsheet would run as a formula a text.
func inertCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// apiImportBlocklist takes the CSV of an anti-fraud centre's list.
func (s *Server) apiImportBlocklist(w http.ResponseWriter, r *http.Request, a *bot.Account) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, maxImportBytes)); err != nil {
		apiJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "名单太大了，请分批导入。"})
		return
	}
	n, err := s.importBlocklist(r.Context(), a, b.String())
	if err != nil {
		s.apiFail(w, err)
		return
	}
	s.Logger.Info("blocklist imported through the API", "rows", n, "user", a.Username)
	apiJSON(w, http.StatusOK, map[string]int{"imported": n})
}
