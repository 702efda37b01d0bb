package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"fanzha/bot"
)

// loggedIn is a client logged in to base as user, and its CSRF token.
func loggedIn(t *testing.T, base, user, pw string) (*http.Client, string) {
	t.Helper()
	f := &webFixture{base: base}
	c, csrf := f.client(t, user, pw)
	if csrf == "" {
		t.Fatalf("%s could not log in", user)
	}
	return c, csrf
}

// TestPrizeDrawThroughTheWeek: an admin sets a weekly draw for a town on
// the web; the commitment reaches both groups; people answer a quiz; after
// the week the winner is announced once, also across a restart; fanzha
// draw verify recomputes it; the winner's counsellor marks the prize handed
// out, another cannot; the workbook lists it.
func TestPrizeDrawThroughTheWeek(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FANZHA_DATA_DIR", dir)
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)} // a Monday
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	createGroup(t, base, "c2", "东风村村民群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 城关镇 幸福社区")
	sayAs(t, base, "c2", "zhao", "赵书记", "b2", "绑定 城关镇 东风村")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create", "-username", "town"}, strings.NewReader("town-admin-secret\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"admin", "create", "-username", "wang", "-role", "counsellor"}, strings.NewReader("counsellor-secret\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`关联账号 ([A-Z0-9]{8})`).FindStringSubmatch(out.String())
	sayAs(t, base, "c1", "wang", "王老师", "link", "关联账号 "+code[1])

	town, csrf := loggedIn(t, base, "town", "town-admin-secret")
	resp, err := town.PostForm(base+"/admin/prizes/rules", url.Values{"csrf": {csrf}, "scope": {fmt.Sprint("u", unitID(t, m, "城关镇"))},
		"period": {"week"}, "min_answers": {"1"}, "min_correct": {"50"}, "winners": {"1"}, "prize": {"反诈雨伞一把"}, "once": {"1"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("creating the rule: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	wang, wcsrf := loggedIn(t, base, "wang", "counsellor-secret")
	if r, _ := wang.PostForm(base+"/admin/prizes/rules", url.Values{"csrf": {wcsrf}, "scope": {fmt.Sprint("u", unitID(t, m, "城关镇"))},
		"period": {"week"}, "winners": {"1"}, "prize": {"x"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a counsellor set a rule for the town: %d", r.StatusCode)
	}

	tick(t, m, c.Now())
	tick(t, m, c.Now().Add(time.Second))
	for _, g := range []string{"c1", "c2"} {
		if posts := botPosts(t, base, g, bot.PostPrize); len(posts) != 1 || !strings.Contains(posts[0], "抽奖承诺值") {
			t.Fatalf("%s commitment: %q", g, posts)
		}
	}

	// Tuesday evening: a one-question round in 幸福社区; 张阿姨 right.
	c.Set(time.Date(2026, 11, 24, 20, 0, 0, 0, shanghai))
	sayAs(t, base, "c1", "wang", "王老师", "start", "开始答题 1")
	tick(t, m, c.Now())
	_, q := quizState(t, m, "c1")
	c.Add(5 * time.Second)
	sayAs(t, base, "c1", "zhang", "张阿姨", "ans1", answerText(q, true, 1))
	c.Add(2 * time.Minute)
	tick(t, m, c.Now())

	// The next Monday: drawn and announced in both groups.
	c.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, shanghai))
	tick(t, m, c.Now())
	tick(t, m, c.Now().Add(time.Second))
	m.Close()
	m, base = runClocked(t, dir, c) // a restart right after the draw
	tick(t, m, c.Now().Add(time.Minute))
	for _, g := range []string{"c1", "c2"} {
		var results []string
		for _, p := range botPosts(t, base, g, bot.PostPrize) {
			if strings.Contains(p, "开奖】") {
				results = append(results, p)
			}
		}
		if len(results) != 1 || !strings.Contains(results[0], "张阿姨") || !strings.Contains(results[0], "反诈雨伞一把") {
			t.Fatalf("%s results: %q", g, results)
		}
	}
	draws, _ := m.DB.Prizes().Draws(context.Background())
	var id int64
	for _, d := range draws {
		if d.Period == "week:2026-11-23" {
			id = d.ID
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"draw", "verify", fmt.Sprint(id)}, strings.NewReader(""), &out, io.Discard); err != nil || !strings.Contains(out.String(), "核对无误") {
		t.Fatalf("draw verify: %v\n%s", err, out.String())
	}

	wang, wcsrf = loggedIn(t, base, "wang", "counsellor-secret")
	_, page := get(t, wang, base+"/admin/prizes")
	if !strings.Contains(page, "张阿姨") || !strings.Contains(page, "标记已发放") || !strings.Contains(page, "✓ 可复算") {
		t.Fatalf("the counsellor's prize page:\n%s", page)
	}
	member := regexp.MustCompile(`name="member" value="(\d+)"`).FindStringSubmatch(page)
	r, _ := wang.PostForm(fmt.Sprintf("%s/admin/prizes/draws/%d/handed", base, id), url.Values{"csrf": {wcsrf}, "member": {member[1]}})
	r.Body.Close()
	if _, page = get(t, wang, base+"/admin/prizes"); !strings.Contains(page, "已发放（wang）") {
		t.Fatal("the prize is not marked handed out")
	}
	town, _ = loggedIn(t, base, "town", "town-admin-secret")
	resp, err = town.Get(base + "/admin/prizes.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.GetRows("按单位")
	if len(rows) < 3 || rows[2][1] != "幸福社区" || rows[2][2] != "1" || rows[2][3] != "1" {
		t.Fatalf("prizes by unit: %v", rows)
	}
}
