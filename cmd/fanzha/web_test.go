package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"fanzha/bot"
)

// webFixture is a running bot with two villages, a counsellor for each,
// some activity, a town admin and a counsellor account linked to 王老师.
type webFixture struct {
	m              *Main
	base           string
	mine, theirs   int64 // group IDs: 王老师's and 赵书记's
	adminPW, couPW string
}

func newWebFixture(t *testing.T) *webFixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("FANZHA_DATA_DIR", dir)
	m, base, _ := runMain(t, dir)
	createGroup(t, base, "c1", "幸福社区居民群")
	createGroup(t, base, "c2", "东风村村民群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 城关镇 幸福社区")
	sayAs(t, base, "c2", "zhao", "赵书记", "b2", "绑定 城关镇 东风村")
	sayAs(t, base, "c1", "zhang", "张阿姨", "q1", "这是诈骗吗 请把钱转到安全账户配合资金核查")
	sayAs(t, base, "c2", "liu", "刘大妈", "q2", "这是诈骗吗 恭喜您中奖，先交税才能领奖")
	f := &webFixture{m: m, base: base, adminPW: "town-admin-secret", couPW: "counsellor-secret"}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create", "-username", "town"}, strings.NewReader(f.adminPW+"\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"admin", "create", "-username", "wang", "-role", "counsellor"}, strings.NewReader(f.couPW+"\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`关联账号 ([A-Z0-9]{8})`).FindStringSubmatch(out.String())
	if code == nil {
		t.Fatalf("no link code in %q", out.String())
	}
	if r := sayAs(t, base, "c1", "wang", "王老师", "link", "关联账号 "+code[1]); len(r) != 1 || !strings.Contains(r[0], "已关联") {
		t.Fatalf("关联账号: %q", r)
	}
	for _, g := range []struct {
		pid string
		id  *int64
	}{{"c1", &f.mine}, {"c2", &f.theirs}} {
		gs, _ := m.DB.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: "playground", PlatformID: g.pid})
		*g.id = gs[0].ID
	}
	return f
}

// client logs in over plain HTTP and returns a client holding the session.
func (f *webFixture) client(t *testing.T, user, pw string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(f.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page)
	resp, err = c.PostForm(f.base+"/login", url.Values{"csrf": {string(csrf[1])}, "username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/admin/" {
		return c, "" // back on the login page
	}
	sessionCSRF := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page)
	return c, string(sessionCSRF[1])
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminScopeAndForms(t *testing.T) {
	f := newWebFixture(t)
	// Not logged in: to the login page.
	if code, body := get(t, http.DefaultClient, f.base+"/admin/"); code != 200 || !strings.Contains(body, "登录") {
		t.Fatalf("anonymous /admin/: %d", code)
	}
	if _, csrf := f.client(t, "town", "wrong password"); csrf != "" {
		t.Fatal("logged in with a wrong password")
	}
	town, csrf := f.client(t, "town", f.adminPW)
	if code, body := get(t, town, f.base+"/admin/"); code != 200 || !strings.Contains(body, "幸福社区居民群") || !strings.Contains(body, "东风村村民群") {
		t.Fatalf("town admin overview: %d", code)
	}
	// A form post without the session's CSRF token is refused.
	units, _ := f.m.DB.Stats().OrgUnits(context.Background())
	var xingfu int64
	for _, u := range units {
		if u.Name == "幸福社区" {
			xingfu = u.ID
		}
	}
	resp, _ := town.PostForm(fmt.Sprintf("%s/admin/units/%d", f.base, xingfu), url.Values{"population": {"3000"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("post without CSRF: %d", resp.StatusCode)
	}
	resp, _ = town.PostForm(fmt.Sprintf("%s/admin/units/%d", f.base, xingfu), url.Values{"population": {"3000"}, "csrf": {csrf}})
	resp.Body.Close()
	if _, body := get(t, town, fmt.Sprintf("%s/admin/units/%d", f.base, xingfu)); !strings.Contains(body, `value="3000"`) {
		t.Fatal("population not saved")
	}

	// A village bound without its town is placed under one by the top
	// admin, and then an admin of that town sees it.
	resp, _ = town.PostForm(fmt.Sprintf("%s/admin/units/%d", f.base, xingfu), url.Values{"population": {"3000"}, "town": {"新城街道"}, "csrf": {csrf}})
	resp.Body.Close()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create", "-username", "xincheng", "-org", "新城街道"}, strings.NewReader("xincheng-secret\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	xc, _ := f.client(t, "xincheng", "xincheng-secret")
	if _, body := get(t, xc, f.base+"/admin/"); !strings.Contains(body, "幸福社区居民群") || strings.Contains(body, "东风村村民群") {
		t.Fatal("the street admin does not see exactly the community placed under it")
	}

	wang, _ := f.client(t, "wang", f.couPW)
	code, body := get(t, wang, f.base+"/admin/")
	if code != 200 || !strings.Contains(body, "幸福社区居民群") || strings.Contains(body, "东风村") {
		t.Fatalf("counsellor overview shows other groups or units: %d", code)
	}
	// One term for the role everywhere: 老师/网格员 (辅导员 is a university word).
	if !strings.Contains(body, "wang（老师/网格员）") {
		t.Fatal("the counsellor's role is not shown as 老师/网格员")
	}
	if code, body := get(t, wang, fmt.Sprintf("%s/admin/groups/%d", f.base, f.theirs)); code != http.StatusForbidden || !strings.Contains(body, "无权查看") ||
		!strings.Contains(body, `id="back" href="/admin/"`) || !strings.Contains(body, "退出") {
		t.Fatalf("counsellor opened another counsellor's group, or the refusal has no way back: %d\n%s", code, body)
	}
	// A form error sends the user back to the form they came from.
	unitURL := fmt.Sprintf("%s/admin/units/%d", f.base, xingfu)
	req, _ := http.NewRequest("POST", unitURL, strings.NewReader(url.Values{"population": {"三千"}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", unitURL)
	if resp, err := town.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "人口数请填写整数") || !strings.Contains(string(b), fmt.Sprintf(`href="/admin/units/%d"`, xingfu)) {
			t.Fatalf("a bad population: %d\n%s", resp.StatusCode, b)
		}
	}
	if code, _ := get(t, wang, fmt.Sprintf("%s/admin/units/%d", f.base, xingfu)); code != http.StatusForbidden {
		t.Fatalf("counsellor opened a village page: %d", code)
	}
	if _, csv := get(t, wang, f.base+"/admin/export.csv"); strings.Contains(csv, "东风村") || !strings.Contains(csv, "幸福社区居民群") {
		t.Fatalf("counsellor's export holds other groups:\n%s", csv)
	}
}

// chromium finds the browser; CI installs Debian's chromium and sets
// FANZHA_REQUIRE_BROWSER so the test cannot quietly skip there.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FANZHA_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH, and FANZHA_REQUIRE_BROWSER is set")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	// The profile is removed after the browser is gone; Chromium's helper
	// processes may still be writing to it for a moment after it is told
	// to quit, so removal is retried (t.TempDir would fail the test).
	profile, err := os.MkdirTemp("", "fanzha-chrome-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second) // a hang bound, not a speed assertion
	t.Cleanup(cancel3)
	return ctx
}

func loginSteps(base, user, pw string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		return chromedp.Run(ctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible("#username", chromedp.ByID),
			chromedp.SendKeys("#username", user, chromedp.ByID),
			chromedp.SendKeys("#password", pw, chromedp.ByID),
			chromedp.Click("#login", chromedp.ByID),
			chromedp.WaitVisible("#title", chromedp.ByID))
	})
}

func TestAdminInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newWebFixture(t)
	downloads := t.TempDir()

	ctx := newBrowser(t, exe)
	var title, groups, groupName, chart string
	err := chromedp.Run(ctx,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads),
		loginSteps(f.base, "town", f.adminPW),
		chromedp.Text("#title", &title, chromedp.ByID),
		chromedp.Text("#groups", &groups, chromedp.ByID),
		chromedp.Navigate(fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine)),
		chromedp.WaitVisible("#group-name", chromedp.ByID),
		chromedp.Text("#group-name", &groupName, chromedp.ByID),
		chromedp.OuterHTML("#trend svg", &chart, chromedp.ByQuery),
		chromedp.Navigate(f.base+"/admin/"),
		chromedp.WaitVisible("#export-xlsx", chromedp.ByID),
		chromedp.Click("#export-xlsx", chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "本周概览") || !strings.Contains(groups, "幸福社区居民群") || !strings.Contains(groups, "东风村村民群") {
		t.Fatalf("overview: %q / %q", title, groups)
	}
	if groupName != "幸福社区居民群" || !strings.Contains(chart, "<polyline") {
		t.Fatalf("group page: %q, chart %.80q", groupName, chart)
	}
	xlsx := waitForFile(t, downloads, ".xlsx")
	book, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatalf("downloaded report is not a workbook: %v", err)
	}
	rows, err := book.GetRows("村社学校")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows[2:] {
		names = append(names, r[1])
	}
	if len(rows) < 4 || rows[1][1] != "村社/学校" || !strings.Contains(strings.Join(names, ","), "幸福社区") {
		t.Fatalf("report rows: %v", rows)
	}

	// A counsellor, in a browser of their own, cannot open another's group.
	ctx2 := newBrowser(t, exe)
	var mine, refused string
	err = chromedp.Run(ctx2,
		loginSteps(f.base, "wang", f.couPW),
		chromedp.Text("#groups", &mine, chromedp.ByID),
		chromedp.Navigate(fmt.Sprintf("%s/admin/groups/%d", f.base, f.theirs)),
		chromedp.Text("body", &refused, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mine, "幸福社区居民群") || strings.Contains(mine, "东风村") {
		t.Fatalf("counsellor sees: %q", mine)
	}
	if !strings.Contains(refused, "无权查看") || strings.Contains(refused, "东风村村民群") {
		t.Fatalf("counsellor opened another's group: %q", refused)
	}
}

// waitForFile waits for the browser to finish a download into dir.
func waitForFile(t *testing.T, dir, ext string) string {
	t.Helper()
	for i := 0; i < 300; i++ {
		matches, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		if len(matches) == 1 {
			return matches[0]
		}
		time.Sleep(100 * time.Millisecond) // waiting for the download, not measuring it
	}
	t.Fatalf("no %s file downloaded into %s", ext, dir)
	return ""
}

func TestStatsInChat(t *testing.T) {
	f := newWebFixture(t)
	if r := sayAs(t, f.base, "c1", "zhang", "张阿姨", "s1", "本周统计"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident asked for the counsellor's figures: %q", r)
	}
	if r := sayAs(t, f.base, "c1", "wang", "王老师", "s2", "群人数 40"); len(r) != 1 || !strings.Contains(r[0], "40") {
		t.Fatalf("群人数: %q", r)
	}
	r := sayAs(t, f.base, "c1", "wang", "王老师", "s3", "本周统计")
	if len(r) != 1 || !strings.Contains(r[0], "反诈推送：0 条") || !strings.Contains(r[0], "参与人数：2 人，活跃率 5.0%") || !strings.Contains(r[0], "高风险 1") {
		t.Fatalf("本周统计: %q", r)
	}
	r = sayAs(t, f.base, "c2", "liu", "刘大妈", "s4", "本群排行")
	if len(r) != 1 || !strings.Contains(r[0], "2 个群中排第") {
		t.Fatalf("本群排行: %q", r)
	}
}

// TestAdminTimesInCampaignZone: a post due at 21:43 Beijing time reads
// 21:43 on the group page, not the UTC 13:43.
func TestAdminTimesInCampaignZone(t *testing.T) {
	f := newWebFixture(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	// This week's Monday, 21:43 Beijing time: 13:43 UTC.
	due := bot.WeekStart(f.m.Now(), loc).Add(21*time.Hour + 43*time.Minute)
	want, utc := due.In(loc).Format("01-02 15:04"), due.UTC().Format("01-02 15:04")
	if _, err := f.m.DB.Outbox().EnqueuePosts(context.Background(), []*bot.OutboxPost{
		{GroupID: f.mine, Kind: "tip", Ref: "t001", Key: "zone-test", Text: "时区测试", DueAt: due},
	}); err != nil {
		t.Fatal(err)
	}
	admin, _ := f.client(t, "town", f.adminPW)
	code, body := get(t, admin, fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine))
	if code != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, utc) {
		t.Fatalf("group page (%d) does not show the post at %s Beijing time (not %s UTC)", code, want, utc)
	}
}

// TestAdminWeekStatusAndLabels: this week's groups short of tips are
// 进行中, not ✗; a week before the groups were bound lists none; nobody
// answering shows 答对率 –; posts show their kind and status in Chinese.
func TestAdminWeekStatusAndLabels(t *testing.T) {
	f := newWebFixture(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	due := f.m.Now().Add(time.Hour)
	if _, err := f.m.DB.Outbox().EnqueuePosts(context.Background(), []*bot.OutboxPost{
		{GroupID: f.mine, Kind: bot.PostTipExtra, Ref: "t001", Key: "label-test", Text: "标签测试", DueAt: due},
	}); err != nil {
		t.Fatal(err)
	}
	admin, _ := f.client(t, "town", f.adminPW)
	_, body := get(t, admin, f.base+"/admin/")
	if !strings.Contains(body, "本周概览") || !strings.Contains(body, "进行中") || strings.Contains(body, "✗") || !strings.Contains(body, "答对率 –") {
		t.Fatalf("this week's overview marks groups short of tips as missed, or shows a rate nobody earned:\n%s", body)
	}
	// No unit has a population yet: none is ranked, all are listed apart.
	if !strings.Contains(body, `id="unranked"`) || !strings.Contains(body, "未填人口（不参与排名") {
		t.Fatalf("units without population are not listed apart:\n%s", body)
	}
	old := bot.WeekStart(f.m.Now(), loc).AddDate(0, 0, -14).Format("2006-01-02")
	_, body = get(t, admin, f.base+"/admin/?week="+old)
	if !strings.Contains(body, "周概览") || strings.Contains(body, "本周概览 ") || strings.Contains(body, "幸福社区居民群") {
		t.Fatalf("a week before the groups were bound:\n%s", body)
	}
	_, body = get(t, admin, fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine))
	if !strings.Contains(body, "加发提示") || !strings.Contains(body, "待发送") || strings.Contains(body, "tip_extra") || strings.Contains(body, ">pending<") {
		t.Fatalf("group page shows internal labels:\n%s", body)
	}
	_, body = get(t, admin, fmt.Sprintf("%s/admin/groups/%d?week=%s", f.base, f.mine, old))
	if !strings.Contains(body, "这一周本群还没有绑定") {
		t.Fatalf("group page of a week before binding:\n%s", body)
	}
}

// TestTipCountsAgree: an asked-for tip counts the same everywhere: in
// 推送计划 and 本周统计 in chat, and on the admin schedule page.
func TestTipCountsAgree(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FANZHA_DATA_DIR", dir)
	c := &clock{now: time.Date(2026, 11, 24, 15, 0, 0, 0, shanghai)} // Tuesday afternoon
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "t1", "幸福社区居民群")
	sayAs(t, base, "t1", "wang", "王老师", "b1", "绑定 城关镇 幸福社区")
	if r := sayAs(t, base, "t1", "wang", "王老师", "x1", "来一条提示"); len(r) != 1 || !strings.Contains(r[0], "这就发") {
		t.Fatalf("来一条提示: %q", r)
	}
	m.Tick(context.Background(), c.Now())
	c.Add(time.Minute)
	if r := sayAs(t, base, "t1", "wang", "王老师", "x2", "推送计划"); len(r) != 1 || !strings.Contains(r[0], "本周已推送 1 条") {
		t.Fatalf("推送计划 after one asked-for tip: %q", r)
	}
	if r := sayAs(t, base, "t1", "wang", "王老师", "x3", "本周统计"); len(r) != 1 || !strings.Contains(r[0], "反诈推送：1 条") {
		t.Fatalf("本周统计 after one asked-for tip: %q", r)
	}
	f := &webFixture{m: m, base: base, adminPW: "town-admin-secret"}
	if err := run(context.Background(), []string{"admin", "create", "-username", "town"}, strings.NewReader(f.adminPW+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	admin, _ := f.client(t, "town", f.adminPW)
	_, body := get(t, admin, base+"/admin/schedule")
	if !regexp.MustCompile(`幸福社区居民群</a></td><td>[^<]*</td><td>[^<]*</td>\s*<td[^>]*>1/2<`).MatchString(body) {
		t.Fatalf("the schedule page does not count the asked-for tip:\n%s", body)
	}
}

// TestPagesOnAPhone: at 390 px no table cell is narrower than two
// characters (tables scroll sideways instead), the export buttons keep to
// one line, and the playground gives the chat the screen's width.
func TestPagesOnAPhone(t *testing.T) {
	exe := chromium(t)
	f := newWebFixture(t)
	ctx := newBrowser(t, exe)
	// narrowest: the narrowest cell's width in characters of its font.
	const narrowest = `(() => { let m = 1e9, what = "";
		for (const c of document.querySelectorAll("th, td")) {
			const w = c.getBoundingClientRect().width / parseFloat(getComputedStyle(c).fontSize);
			if (w < m) { m = w; what = c.textContent; } }
		return [m, what]; })()`
	const buttons = `Math.max(...[...document.querySelectorAll(".btn")].map(b => b.getBoundingClientRect().height / parseFloat(getComputedStyle(b).fontSize)))`
	var overview, group []any
	var btnLines float64
	var chatWidth float64
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844),
		loginSteps(f.base, "town", f.adminPW),
		chromedp.Evaluate(narrowest, &overview),
		chromedp.Evaluate(buttons, &btnLines),
		chromedp.Navigate(fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine)),
		chromedp.WaitVisible("#group-name", chromedp.ByID),
		chromedp.Evaluate(narrowest, &group),
		chromedp.Navigate(f.base+"/playground/"),
		chromedp.WaitVisible("#chat", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector("#chat").getBoundingClientRect().width`, &chatWidth),
	)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]any{"overview": overview, "group page": group} {
		if w := got[0].(float64); w < 2 {
			t.Errorf("%s at 390 px: a cell is %.1f characters wide (%q)", name, w, got[1])
		}
	}
	if btnLines > 2.5 {
		t.Errorf("export buttons wrap: %.1f lines of text high", btnLines)
	}
	if chatWidth < 350 {
		t.Errorf("the playground leaves %.0f px for the chat at 390 px", chatWidth)
	}
}

// TestKnowledgePageSpeaksChinese: the knowledge page names types, parts
// and patterns in words, never shows internal ids as text, and does not
// list the parts of a scam as scam types.
func TestKnowledgePageSpeaksChinese(t *testing.T) {
	f := newWebFixture(t)
	admin, _ := f.client(t, "town", f.adminPW)
	code, body := get(t, admin, f.base+"/admin/knowledge")
	if code != http.StatusOK || !strings.Contains(body, "钓鱼短信") || !strings.Contains(body, "自称银行或支付平台") || !strings.Contains(body, "组合判断") {
		t.Fatalf("knowledge page (%d) lacks the patterns and parts:\n%s", code, body)
	}
	if m := regexp.MustCompile(`>[a-z]+_[a-z_]+<`).FindString(body); m != "" {
		t.Fatalf("knowledge page shows an internal id: %s", m)
	}
	types := body[strings.Index(body, `id="types"`):strings.Index(body, `id="patterns"`)]
	if strings.Contains(types, "自称银行或支付平台") {
		t.Fatal("a part is listed among the scam types")
	}
}

// TestAccountsFromTheCommandLine: list, reset a password (the old one and
// its browsers stop working), disable (no login, sessions end) and enable.
func TestAccountsFromTheCommandLine(t *testing.T) {
	f := newWebFixture(t)
	admin := func(args string, stdin string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"admin"}, strings.Fields(args)...), strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	out, err := admin("list", "")
	if err != nil || !strings.Contains(out, "town\t管理员\t全部范围") || !strings.Contains(out, "wang\t老师/网格员\t已关联") {
		t.Fatalf("admin list: %v\n%s", err, out)
	}
	browser, _ := f.client(t, "wang", f.couPW)
	if _, err := admin("passwd -username wang", "a-new-password-2026\n"); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, browser, f.base+"/admin/"); code != http.StatusOK || !strings.Contains(body, `id="username"`) {
		t.Fatalf("a browser logged in before the reset still sees the admin pages: %d", code)
	}
	if _, err := admin("passwd -username nobody", "a-new-password-2026\n"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("passwd of an unknown account: %v", err)
	}
	browser, _ = f.client(t, "wang", "a-new-password-2026")
	if _, err := admin("disable -username wang", ""); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, browser, f.base+"/admin/"); !strings.Contains(body, `id="username"`) {
		t.Fatal("a disabled account's browser still sees the admin pages")
	}
	if out, _ := admin("list", ""); !strings.Contains(out, "wang\t老师/网格员\t已关联\t已停用") {
		t.Fatalf("list after disable:\n%s", out)
	}
	if _, body := login(t, f.base, "wang", "a-new-password-2026"); !strings.Contains(body, "这个账号已停用") {
		t.Fatalf("login to a disabled account:\n%s", body)
	}
	if _, err := admin("enable -username wang", ""); err != nil {
		t.Fatal(err)
	}
	if code, body := login(t, f.base, "wang", "a-new-password-2026"); code != http.StatusOK || !strings.Contains(body, "幸福社区居民群") {
		t.Fatalf("login after enable: %d", code)
	}
}

// login posts the login form in a fresh client and returns where it ends.
func login(t *testing.T, base, user, pw string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, page := get(t, c, base+"/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the login page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pw}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminUnbindsAGroup: an admin can undo a binding made by the wrong
// person; a counsellor cannot use the admin's button.
func TestAdminUnbindsAGroup(t *testing.T) {
	f := newWebFixture(t)
	wang, wcsrf := f.client(t, "wang", f.couPW)
	resp, err := wang.PostForm(fmt.Sprintf("%s/admin/groups/%d/unbind", f.base, f.mine), url.Values{"csrf": {wcsrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a counsellor unbound a group from the web: %d", resp.StatusCode)
	}
	admin, csrf := f.client(t, "town", f.adminPW)
	if _, body := get(t, admin, fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine)); !strings.Contains(body, `id="unbind"`) {
		t.Fatal("no unbind button for the admin")
	}
	resp, err = admin.PostForm(fmt.Sprintf("%s/admin/groups/%d/unbind", f.base, f.mine), url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "已解除绑定") {
		t.Fatalf("after unbind:\n%s", page)
	}
	gs, _ := f.m.DB.Groups().FindGroups(context.Background(), bot.GroupFilter{ID: f.mine})
	if gs[0].Bound() {
		t.Fatal("the group is still bound")
	}
}

// TestCounsellorSeesWhatToDoNext: a counsellor's pages rank their own
// groups, say when and as what a warning went off (never the message),
// how the month's posts stand against the rule, and when the next post
// goes out (issue 19, item 18).
func TestCounsellorSeesWhatToDoNext(t *testing.T) {
	f := newWebFixture(t)
	createGroup(t, f.base, "c3", "幸福社区二群")
	sayAs(t, f.base, "c3", "wang", "王老师", "b3", "绑定 城关镇 幸福社区")
	sayAs(t, f.base, "c3", "sun", "孙大爷", "talk", "今天社区活动几点开始？")
	phishing := "【中国移动】您的积分将于今日清零，请登录 http://10086-jf.top 兑换现金"
	if r := sayAs(t, f.base, "c1", "chen", "陈大姐", "p1", phishing); len(r) != 1 || !strings.Contains(r[0], "⚠️") {
		t.Fatalf("the phishing SMS was not warned about: %q", r)
	}

	wang, _ := f.client(t, "wang", f.couPW)
	_, overview := get(t, wang, f.base+"/admin/")
	rows := regexp.MustCompile(`<tr><td>(\d+)</td><td><a href="/admin/groups/\d+[^"]*">([^<]+)</a>`).FindAllStringSubmatch(overview, -1)
	ranks := map[string]string{}
	for _, r := range rows {
		ranks[r[2]] = r[1]
	}
	if len(ranks) != 2 || ranks["幸福社区居民群"] == "" || ranks["幸福社区二群"] == "" {
		t.Fatalf("the counsellor's groups are not ranked: %v", ranks)
	}
	if ranks["幸福社区居民群"] != "1" {
		t.Errorf("the group with more people taking part is not first: %v", ranks)
	}

	_, page := get(t, wang, fmt.Sprintf("%s/admin/groups/%d", f.base, f.mine))
	table := page[strings.Index(page, `id="warnings"`):]
	table = table[:strings.Index(table, "</table>")]
	if !regexp.MustCompile(`\d\d-\d\d \d\d:\d\d</td><td>[^<]*钓鱼`).MatchString(table) {
		t.Errorf("the warning's time and type are not shown:\n%s", table)
	}
	if strings.Contains(page, "10086-jf.top") || strings.Contains(page, "兑换现金") {
		t.Error("the group page shows the warned message's text")
	}
	m := regexp.MustCompile(`id="month-tips"[^>]*>(\d+)/(\d+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no month progress on the group page")
	}
	now := time.Now().In(shanghai)
	mondays := 0
	for d := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, shanghai); d.Month() == now.Month(); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			mondays++
		}
	}
	if m[2] != fmt.Sprint(2*mondays) {
		t.Errorf("month target %s; want 2 a week for %d weeks", m[2], mondays)
	}
	if !regexp.MustCompile(`id="next-post">\d\d-\d\d \d\d:\d\d<`).MatchString(page) {
		t.Errorf("no next post time on a bound group's page")
	}
}
