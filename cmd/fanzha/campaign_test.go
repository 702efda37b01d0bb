package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"fanzha/bot"
)

// unitID is the id of the org unit called name.
func unitID(t *testing.T, m *Main, name string) int64 {
	t.Helper()
	units, err := m.DB.Stats().OrgUnits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Name == name {
			return u.ID
		}
	}
	t.Fatalf("no unit %s", name)
	return 0
}

// groupID is the id of playground group pid.
func groupID(t *testing.T, m *Main, pid string) int64 {
	t.Helper()
	gs, err := m.DB.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: "playground", PlatformID: pid})
	if err != nil || len(gs) != 1 {
		t.Fatalf("group %s: %v", pid, err)
	}
	return gs[0].ID
}

// waitPosts waits for the bot's posts of kind in a playground group: the
// scheduler sends within a tick or two.
func waitPosts(t *testing.T, base, group, kind string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a hang bound, not a speed assertion
	for {
		posts := botPosts(t, base, group, kind)
		if len(posts) >= n || time.Now().After(deadline) {
			return posts
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.Path
}

// TestCampaignThroughWebAndChat: an admin sends a survey to a town; every
// bound group of the town gets it once and a group of another town does
// not; residents answer by number and by text, a changed answer replaces
// the first, and the figures and the workbook count them. Bad forms store
// nothing; a counsellor relays a village's notice to their own group.
func TestCampaignThroughWebAndChat(t *testing.T) {
	f := newWebFixture(t)
	createGroup(t, f.base, "c4", "西湖村村民群")
	sayAs(t, f.base, "c4", "sun", "孙主任", "b4", "绑定 城南镇 西湖村")
	town, csrf := f.client(t, "town", f.adminPW)
	chengguan := unitID(t, f.m, "城关镇")

	// Bad forms: a clear message, nothing stored.
	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"kind": {"survey"}, "title": {""}, "text": {"正文"}, "unit": {fmt.Sprint(chengguan)}, "options": {"是\n否"}}, "请填写标题"},
		{url.Values{"kind": {"survey"}, "title": {"标题"}, "text": {"正文"}, "unit": {fmt.Sprint(chengguan)}, "options": {"只有一个"}}, "2 到 6 个选项"},
		{url.Values{"kind": {"notice"}, "title": {"标题"}, "text": {strings.Repeat("长", 1501)}, "unit": {fmt.Sprint(chengguan)}}, "正文太长"},
		{url.Values{"kind": {"notice"}, "title": {"标题"}, "text": {"正文"}}, "请选择发送范围"},
		{url.Values{"kind": {"notice"}, "title": {"标题"}, "text": {"正文"}, "unit": {"9999"}}, "没有找到单位"},
		{url.Values{"kind": {"notice"}, "title": {"标题"}, "text": {"正文"}, "unit": {fmt.Sprint(chengguan)}, "send_at": {"2020-01-01 09:00"}}, "发送时间已经过去"},
		{url.Values{"kind": {"notice"}, "title": {"标题"}, "text": {"正文"}, "group": {"9999"}}, "没有编号为 9999 的群"},
	} {
		bad.form.Set("csrf", csrf)
		code, body, _ := postForm(t, town, f.base+"/admin/campaigns", bad.form)
		if code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("bad form %v: %d, want %q", bad.form, code, bad.want)
		}
	}
	if cs, _ := f.m.DB.Campaigns().Campaigns(context.Background()); len(cs) != 0 {
		t.Fatalf("a bad form stored a campaign: %+v", cs[0])
	}

	code, body, path := postForm(t, town, f.base+"/admin/campaigns", url.Values{"csrf": {csrf}, "kind": {"survey"},
		"title": {"反诈App安装情况"}, "text": {"请告诉我们您是否已安装国家反诈中心App。"},
		"options": {"已安装并开启预警\n已安装未开启\n未安装"}, "target": {"60"}, "unit": {fmt.Sprint(chengguan)},
		"urgent": {"1"}}) // urgent: through quiet hours, whatever the hour the test runs at
	if code != http.StatusOK || !regexp.MustCompile(`^/admin/campaigns/\d+$`).MatchString(path) {
		t.Fatalf("creating the survey: %d at %s\n%s", code, path, body)
	}
	for _, g := range []string{"c1", "c2"} {
		posts := waitPosts(t, f.base, g, bot.PostCampaign, 1)
		if len(posts) != 1 || !strings.Contains(posts[0], "【问卷】反诈App安装情况") || !strings.Contains(posts[0], "1. 已安装并开启预警") {
			t.Fatalf("%s got %q", g, posts)
		}
	}
	if posts := botPosts(t, f.base, "c4", bot.PostCampaign); len(posts) != 0 {
		t.Fatalf("a group of another town got the survey: %q", posts)
	}

	if r := sayAs(t, f.base, "c1", "zhang", "张阿姨", "a1", "1"); len(r) != 1 || !strings.Contains(r[0], "已记录") || !strings.Contains(r[0], "1 人") {
		t.Fatalf("first answer: %q", r)
	}
	if r := sayAs(t, f.base, "c1", "chen", "陈大姐", "a2", "未安装"); len(r) != 0 {
		t.Fatalf("a second answer within the minute was acknowledged again: %q", r)
	}
	sayAs(t, f.base, "c1", "zhang", "张阿姨", "a3", "2") // changed her mind: replaces
	if r := sayAs(t, f.base, "c2", "liu", "刘大妈", "a4", "已安装并开启预警"); len(r) != 1 || !strings.Contains(r[0], "已记录") {
		t.Fatalf("answer by text: %q", r)
	}
	if r := sayAs(t, f.base, "c2", "liu", "刘大妈", "a5", "今天天气不错"); len(r) != 0 {
		t.Fatalf("chat answered as a survey: %q", r)
	}

	_, page := get(t, town, f.base+path)
	if !strings.Contains(page, `id="answers">3<`) || !strings.Contains(page, `id="progress">2/2<`) {
		t.Fatalf("campaign page figures:\n%s", page)
	}
	resp, err := town.Get(f.base + path + "/export.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("export is not a workbook: %v", err)
	}
	rows, _ := book.GetRows("群")
	byName := map[string][]string{}
	for _, r := range rows[2:] {
		byName[r[0]] = r
	}
	// 群名, 所属, 发送状态, 失败原因, 群人数, 回答人数, 回复率, then one column per option.
	if r := byName["幸福社区居民群"]; len(r) < 10 || r[5] != "2" || r[7] != "0" || r[8] != "1" || r[9] != "1" {
		t.Errorf("幸福社区 row: %q", r)
	}
	if r := byName["东风村村民群"]; len(r) < 8 || r[5] != "1" || r[7] != "1" {
		t.Errorf("东风村 row: %q", r)
	}
	if _, ok := byName["西湖村村民群"]; ok {
		t.Error("the workbook lists a group outside the survey")
	}
	if typ, _ := book.GetCellType("群", "F4"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("answers are not numbers in the workbook: %v", typ)
	}

	if _, csv := get(t, town, f.base+path+"/export.csv"); !strings.HasPrefix(csv, "\xEF\xBB\xBF") || !strings.Contains(csv, "回答人数") ||
		!strings.Contains(csv, "幸福社区居民群,城关镇") && !strings.Contains(csv, "幸福社区居民群,幸福社区") {
		t.Errorf("CSV export:\n%s", csv)
	}

	// A group picked by hand, and a scope whose only group has left: the
	// bot was removed from it, so nothing can be sent.
	code, _, hpath := postForm(t, town, f.base+"/admin/campaigns", url.Values{"csrf": {csrf}, "kind": {"bulletin"},
		"title": {"只给西湖村的通报"}, "text": {"西湖村发生一起刷单诈骗。"}, "group": {fmt.Sprint(groupID(t, f.m, "c4"))}, "urgent": {"1"}})
	if code != http.StatusOK || !strings.HasPrefix(hpath, "/admin/campaigns/") {
		t.Fatalf("a hand-picked group: %d", code)
	}
	if posts := waitPosts(t, f.base, "c4", bot.PostCampaign, 1); len(posts) != 1 || !strings.Contains(posts[0], "只给西湖村") {
		t.Fatalf("西湖村 got %q", posts)
	}
	removed := true
	if _, err := f.m.DB.Groups().UpdateGroup(context.Background(), groupID(t, f.m, "c4"), bot.GroupUpdate{Removed: &removed}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := postForm(t, town, f.base+"/admin/campaigns", url.Values{"csrf": {csrf}, "kind": {"bulletin"}, "title": {"通报"},
		"text": {"正文"}, "unit": {fmt.Sprint(unitID(t, f.m, "城南镇"))}}); code != http.StatusBadRequest || !strings.Contains(body, "还没有绑定的群") {
		t.Errorf("a scope with no group to send to: %d", code)
	}

	// A notice to 东风村 only; 王老师 relays it to his own group.
	code, _, npath := postForm(t, town, f.base+"/admin/campaigns", url.Values{"csrf": {csrf}, "kind": {"notice"},
		"title": {"防诈骗告知书"}, "text": {"近期冒充客服退款诈骗高发，请家家户户注意。"}, "unit": {fmt.Sprint(unitID(t, f.m, "东风村"))}, "urgent": {"1"}})
	if code != http.StatusOK {
		t.Fatalf("creating the notice: %d", code)
	}
	waitPosts(t, f.base, "c2", bot.PostCampaign, 2)
	if posts := botPosts(t, f.base, "c1", bot.PostCampaign); len(posts) != 1 {
		t.Fatalf("幸福社区 got the 东风村 notice before the relay: %q", posts)
	}
	wang, wcsrf := f.client(t, "wang", f.couPW)
	_, wpage := get(t, wang, f.base+npath)
	if !strings.Contains(wpage, `id="relay"`) || strings.Contains(wpage, `id="cancel"`) {
		t.Fatal("the counsellor is not offered the relay, or is offered the cancel")
	}
	if code, _, _ := postForm(t, wang, f.base+npath+"/relay", url.Values{"csrf": {wcsrf}, "group": {fmt.Sprint(f.theirs)}}); code != http.StatusForbidden {
		t.Fatalf("relayed to another counsellor's group: %d", code)
	}
	if code, _, _ := postForm(t, wang, f.base+npath+"/relay", url.Values{"csrf": {wcsrf}, "group": {fmt.Sprint(f.mine)}}); code != http.StatusOK {
		t.Fatalf("relay: %d", code)
	}
	if posts := waitPosts(t, f.base, "c1", bot.PostCampaign, 2); len(posts) != 2 || !strings.Contains(posts[1], "【告知书】防诈骗告知书") {
		t.Fatalf("relay did not reach 幸福社区: %q", posts)
	}
	if r := sayAs(t, f.base, "c1", "zhang", "张阿姨", "n1", "收到"); len(r) != 1 || !strings.Contains(r[0], "查收《防诈骗告知书》") {
		t.Fatalf("收到: %q", r)
	}
	// The counsellor sees only their own group's part.
	if _, wpage = get(t, wang, f.base+npath); strings.Contains(wpage, "东风村村民群") {
		t.Error("the counsellor sees another counsellor's group on the campaign page")
	}
}

// TestCampaignAPI: scripts send campaigns with an account's token; no
// token, a bad token or a scope outside the account is refused and sends
// nothing.
func TestCampaignAPI(t *testing.T) {
	f := newWebFixture(t)
	createGroup(t, f.base, "c4", "西湖村村民群")
	sayAs(t, f.base, "c4", "sun", "孙主任", "b4", "绑定 城南镇 西湖村")
	token := func(user string) string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"admin", "token", "-username", user}, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`fz_[0-9a-f]{64}`).FindString(out.String())
		if m == "" {
			t.Fatalf("no token in %q", out.String())
		}
		return m
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create", "-username", "nan", "-org", "城南镇"}, strings.NewReader("nan-admin-secret\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	send := func(tok, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", f.base+"/api/v1/campaigns", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	bulletin := `{"kind":"bulletin","title":"警情通报","text":"昨日我镇发生一起冒充公检法诈骗案，损失十二万元。","units":["东风村"],"urgent":true}`
	if code, v := send("", bulletin); code != http.StatusUnauthorized || v["error"] == nil {
		t.Fatalf("no token: %d %v", code, v)
	}
	if code, _ := send("fz_"+strings.Repeat("0", 64), bulletin); code != http.StatusUnauthorized {
		t.Fatalf("a made-up token: %d", code)
	}
	if code, v := send(token("wang"), bulletin); code != http.StatusForbidden {
		t.Fatalf("a counsellor's token: %d %v", code, v)
	}
	if code, v := send(token("nan"), bulletin); code != http.StatusForbidden || !strings.Contains(fmt.Sprint(v["error"]), "不在您负责的范围内") {
		t.Fatalf("another town's admin: %d %v", code, v)
	}
	if code, _ := send(token("town"), `{"kind":"bulletin","title":"x"`); code != http.StatusBadRequest {
		t.Fatalf("broken JSON: %d", code)
	}
	if cs, _ := f.m.DB.Campaigns().Campaigns(context.Background()); len(cs) != 0 {
		t.Fatal("a refused request stored a campaign")
	}
	tok := token("town")
	code, v := send(tok, bulletin)
	if code != http.StatusCreated || v["id"] == nil {
		t.Fatalf("create: %d %v", code, v)
	}
	if posts := waitPosts(t, f.base, "c2", bot.PostCampaign, 1); len(posts) != 1 || !strings.Contains(posts[0], "冒充公检法") {
		t.Fatalf("东风村 got %q", posts)
	}
	for _, g := range []string{"c1", "c4"} {
		if posts := botPosts(t, f.base, g, bot.PostCampaign); len(posts) != 0 {
			t.Fatalf("%s is outside the bulletin's scope but got %q", g, posts)
		}
	}
	// The chat shows the post a moment before the sender marks it sent:
	// ask until it does (a hang bound, not a speed assertion).
	var got map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/campaigns/%v", f.base, v["id"]), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got["sent"] == float64(1) || time.Now().After(deadline) {
			break
		}
	}
	if got["sent"] != float64(1) || got["planned"] != float64(1) {
		t.Fatalf("figures through the API: %v", got)
	}
	// A revoked token no longer works.
	out.Reset()
	if err := run(context.Background(), []string{"admin", "revoke", "-username", "town"}, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if code, _ := send(tok, bulletin); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", code)
	}
}

// TestPledgeClosesOnTime: a pledge is signed once per person; after its
// closing time 我承诺 is told it closed and nothing is stored.
func TestPledgeClosesOnTime(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)}
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 幸福社区")
	camp := &bot.Campaign{Kind: bot.CampaignPledge, Title: "反诈承诺书", Text: "我承诺：不轻信、不透露、不转账。", Units: []int64{unitID(t, m, "幸福社区")},
		ClosesAt: c.Now().Add(24 * time.Hour)}
	if err := bot.ValidateCampaign(camp, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := m.DB.Campaigns().CreateCampaign(context.Background(), camp); err != nil {
		t.Fatal(err)
	}
	if r := sayAs(t, base, "c1", "zhang", "张阿姨", "p0", "我承诺"); len(r) != 1 || !strings.Contains(r[0], "没有需要签署") {
		t.Fatalf("我承诺 before the pledge arrived: %q", r)
	}
	tick(t, m, c.Now())
	tick(t, m, c.Now().Add(time.Second))
	if posts := botPosts(t, base, "c1", bot.PostCampaign); len(posts) != 1 || !strings.Contains(posts[0], "请回复“我承诺”") {
		t.Fatalf("the pledge: %q", posts)
	}
	if r := sayAs(t, base, "c1", "zhang", "张阿姨", "p1", "我承诺"); len(r) != 1 || !strings.Contains(r[0], "1 人承诺") {
		t.Fatalf("signing: %q", r)
	}
	c.Add(2 * time.Minute)
	if r := sayAs(t, base, "c1", "zhang", "张阿姨", "p2", "我承诺"); len(r) != 1 || !strings.Contains(r[0], "1 人承诺") {
		t.Fatalf("signing twice counts once: %q", r)
	}
	c.Add(25 * time.Hour)
	if r := sayAs(t, base, "c1", "chen", "陈大姐", "p3", "我承诺"); len(r) != 1 || !strings.Contains(r[0], "已经截止") {
		t.Fatalf("signing after the close: %q", r)
	}
	if n, _ := m.DB.Campaigns().Answers(context.Background(), camp.ID, 1); n != 1 {
		t.Fatalf("%d signatures stored; want 1", n)
	}

	// At 23:00 a notice waits out the quiet hours (22:00-07:00); an urgent
	// bulletin does not.
	c.Set(time.Date(2026, 11, 26, 23, 0, 0, 0, shanghai))
	for _, urgent := range []bool{false, true} {
		n := &bot.Campaign{Kind: bot.CampaignNotice, Title: fmt.Sprint("夜间通知", urgent), Text: "请注意防范。", Units: camp.Units, Urgent: urgent}
		if err := bot.ValidateCampaign(n, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := m.DB.Campaigns().CreateCampaign(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	for now := c.Now(); now.Before(c.Now().Add(time.Minute)); now = now.Add(10 * time.Second) {
		tick(t, m, now)
	}
	if posts := botPosts(t, base, "c1", bot.PostCampaign); len(posts) != 2 || !strings.Contains(posts[1], "夜间通知true") {
		t.Fatalf("at night: %q", posts)
	}
	morning := time.Date(2026, 11, 27, 7, 0, 0, 0, shanghai)
	tick(t, m, morning)
	tick(t, m, morning.Add(time.Second))
	if posts := botPosts(t, base, "c1", bot.PostCampaign); len(posts) != 3 || !strings.Contains(posts[2], "夜间通知false") {
		t.Fatalf("in the morning: %q", posts)
	}
}

// TestCampaignInBrowser: an admin composes a notice in a browser; it
// reaches the town's groups and a resident's 收到 shows on the page.
func TestCampaignInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newWebFixture(t)
	createGroup(t, f.base, "c4", "西湖村村民群")
	sayAs(t, f.base, "c4", "sun", "孙主任", "b4", "绑定 城南镇 西湖村")
	downloads := t.TempDir()
	ctx := newBrowser(t, exe)
	var title, progress string
	unit := fmt.Sprintf(`input[name="unit"][value="%d"]`, unitID(t, f.m, "城关镇"))
	err := chromedp.Run(ctx,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads),
		loginSteps(f.base, "town", f.adminPW),
		chromedp.Navigate(f.base+"/admin/campaigns"),
		chromedp.WaitVisible("#compose", chromedp.ByID),
		chromedp.SetValue("#kind", "notice", chromedp.ByID),
		chromedp.SendKeys("#c-title", "冬季防诈骗告知书", chromedp.ByID),
		chromedp.SendKeys("#c-text", "天冷了，冒充供暖公司收费的诈骗多了，请通过物业和官方App缴费。", chromedp.ByID),
		chromedp.Click(unit, chromedp.ByQuery),
		chromedp.Click(`input[name="urgent"]`, chromedp.ByQuery), // whatever the hour the test runs at
		chromedp.Click("#c-send", chromedp.ByID),
		chromedp.WaitVisible("#progress", chromedp.ByID),
		chromedp.Text("#title", &title, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "冬季防诈骗告知书") {
		t.Fatalf("campaign page title %q", title)
	}
	for _, g := range []string{"c1", "c2"} {
		if posts := waitPosts(t, f.base, g, bot.PostCampaign, 1); len(posts) != 1 {
			t.Fatalf("%s got %q", g, posts)
		}
	}
	if posts := botPosts(t, f.base, "c4", bot.PostCampaign); len(posts) != 0 {
		t.Fatalf("a group of another town got the notice: %q", posts)
	}
	sayAs(t, f.base, "c1", "zhang", "张阿姨", "r1", "收到")
	sayAs(t, f.base, "c1", "chen", "陈大姐", "r2", "收到")
	sayAs(t, f.base, "c1", "zhang", "张阿姨", "r3", "收到") // twice: counts once
	var answers string
	err = chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible("#answers", chromedp.ByID),
		chromedp.Text("#answers", &answers, chromedp.ByID), chromedp.Text("#progress", &progress, chromedp.ByID),
		chromedp.Click("#export", chromedp.ByID))
	if err != nil {
		t.Fatal(err)
	}
	if answers != "2" || progress != "2/2" {
		t.Fatalf("after 收到 from two people: answers %q, progress %q", answers, progress)
	}
	book, err := excelize.OpenFile(waitForFile(t, downloads, ".xlsx"))
	if err != nil {
		t.Fatalf("the export is not a workbook: %v", err)
	}
	rows, _ := book.GetRows("群")
	got := map[string]string{}
	for _, r := range rows[2:] {
		got[r[0]] = r[2] + "/" + r[5]
	}
	if len(got) != 2 || got["幸福社区居民群"] != "已发送/2" || got["东风村村民群"] != "已发送/0" {
		t.Fatalf("workbook groups (status/查收): %v", got)
	}
}
