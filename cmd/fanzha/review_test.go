package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReportReviewConfirmLookup: residents report a number; the admin sees
// it in the queue with its count and confirms it; 查询 then answers from
// the blocklist. A counsellor sees and dismisses only what their own
// groups reported, by page, URL or form.
func TestReportReviewConfirmLookup(t *testing.T) {
	f := newWebFixture(t)
	sayAs(t, f.base, "c1", "zhang", "张阿姨", "rep1", "举报 400-820-1234 说是京东客服要退款")
	sayAs(t, f.base, "c2", "liu", "刘大妈", "rep2", "举报 400 820 1234")
	sayAs(t, f.base, "c2", "liu", "刘大妈", "rep3", "举报 http://dongfeng-bonus.top/lq")
	sayAs(t, f.base, "c1", "chen", "陈大姐", "rep4", "举报 13700001111")

	town, csrf := f.client(t, "town", f.adminPW)
	_, page := get(t, town, f.base+"/admin/review")
	if !strings.Contains(page, "4008201234") || !strings.Contains(page, "<td>2</td>") || !strings.Contains(page, "dongfeng-bonus.top/lq") {
		t.Fatalf("the admin's queue:\n%s", page)
	}

	wang, wcsrf := f.client(t, "wang", f.couPW)
	_, wpage := get(t, wang, f.base+"/admin/review")
	if strings.Contains(wpage, "dongfeng-bonus.top") || !strings.Contains(wpage, "13700001111") {
		t.Fatal("the counsellor's queue shows another group's report, or not their own")
	}
	if strings.Contains(wpage, `action="/admin/review/confirm"`) {
		t.Fatal("a counsellor is offered to list an item")
	}
	for _, v := range []url.Values{
		{"kind": {"link"}, "value": {"dongfeng-bonus.top/lq"}},
		{"kind": {"phone"}, "value": {"4008201234"}}, // reported in his group and another
	} {
		v.Set("csrf", wcsrf)
		if code, _, _ := postForm(t, wang, f.base+"/admin/review/dismiss", v); code != http.StatusForbidden {
			t.Fatalf("the counsellor dismissed %v: %d", v, code)
		}
	}
	if code, _, _ := postForm(t, wang, f.base+"/admin/review/confirm", url.Values{"csrf": {wcsrf}, "kind": {"phone"}, "value": {"13700001111"}}); code != http.StatusForbidden {
		t.Fatalf("the counsellor listed an item: %d", code)
	}
	if code, _, _ := postForm(t, wang, f.base+"/admin/review/dismiss", url.Values{"csrf": {wcsrf}, "kind": {"phone"}, "value": {"13700001111"}}); code != http.StatusOK {
		t.Fatalf("the counsellor could not dismiss his own group's report: %d", code)
	}

	code, _, _ := postForm(t, town, f.base+"/admin/review/confirm", url.Values{"csrf": {csrf}, "kind": {"phone"}, "value": {"4008201234"},
		"scam_type": {"kefu"}, "note": {"冒充京东客服退款"}})
	if code != http.StatusOK {
		t.Fatalf("confirm: %d", code)
	}
	if r := sayAs(t, f.base, "c2", "zhao", "赵书记", "look1", "查询 400-820-1234"); len(r) != 1 || !strings.Contains(r[0], "已被核实为诈骗") || !strings.Contains(r[0], "冒充京东客服退款") {
		t.Fatalf("查询 after confirming: %q", r)
	}
	_, page = get(t, town, f.base+"/admin/review")
	if strings.Contains(page, "<td class=\"item\">4008201234") || !strings.Contains(page, "confirm") {
		t.Fatalf("the confirmed item is still queued, or the decision is not logged:\n%s", page)
	}
	if _, list := get(t, town, f.base+"/admin/blocklist.csv"); !strings.Contains(list, "号码,4008201234,kefu,冒充京东客服退款") {
		t.Fatalf("blocklist export:\n%s", list)
	}
}

// TestBlocklistImport: a CSV with a bad row imports nothing and names the
// row and column of every error; a good one lists every row, and a number
// on it is warned about in a group.
func TestBlocklistImport(t *testing.T) {
	f := newWebFixture(t)
	town, csrf := f.client(t, "town", f.adminPW)
	bad := "类型,内容,诈骗类型,备注,有效期至\n号码,95588-1234,kefu,,\n链接,not a link,,,\n号码,13800138000,nosuchtype,,\n微信号,kefu_88,,,2027-13-01\n"
	code, body, _ := postForm(t, town, f.base+"/admin/blocklist/import", url.Values{"csrf": {csrf}, "csv": {bad}})
	if code != http.StatusBadRequest || !strings.Contains(body, "第 3 行第 2 列") || !strings.Contains(body, "第 4 行第 3 列") || !strings.Contains(body, "第 5 行第 5 列") {
		t.Fatalf("bad import: %d\n%s", code, body)
	}
	if _, page := get(t, town, f.base+"/admin/blocklist"); !strings.Contains(page, "名单是空的") {
		t.Fatal("a bad import listed something")
	}
	good := "\ufeff类型,内容,诈骗类型,备注,有效期至\n号码,+86 139 2222 3333,gongjianfa,冒充公安,2027-06-30\n链接,HTTPS://www.Fake-Court.top/,,,\n"
	if code, _, _ := postForm(t, town, f.base+"/admin/blocklist/import", url.Values{"csrf": {csrf}, "csv": {good}}); code != http.StatusOK {
		t.Fatalf("good import: %d", code)
	}
	if _, page := get(t, town, f.base+"/admin/blocklist"); !strings.Contains(page, "13922223333") || !strings.Contains(page, "fake-court.top") {
		t.Fatalf("imported list:\n%s", page)
	}
	if r := sayAs(t, f.base, "c1", "li", "李大爷", "w1", "有事找我，电话 139-2222-3333，王警官"); len(r) != 1 || !strings.Contains(r[0], "已核实的诈骗号码") {
		t.Fatalf("a listed number in a community group: %q", r)
	}

	// The anti-fraud centre's systems load their list with a token.
	post := func(tok, body string) int {
		req, _ := http.NewRequest("POST", f.base+"/api/v1/blocklist", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	token := func(user string) string {
		var out strings.Builder
		if err := run(context.Background(), []string{"admin", "token", "-username", user}, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return lines[len(lines)-1]
	}
	api := "类型,内容,诈骗类型,备注,有效期至\nQQ号,2233445566,,刷单群主,\n"
	if code := post(token("wang"), api); code != http.StatusForbidden {
		t.Fatalf("a counsellor's token imported: %d", code)
	}
	if code := post(token("town"), api); code != http.StatusOK {
		t.Fatalf("API import: %d", code)
	}
	if _, page := get(t, town, f.base+"/admin/blocklist"); !strings.Contains(page, "2233445566") {
		t.Fatal("the API import is not listed")
	}
}

// TestReviewInBrowser: report in chat, confirm on the review page in a
// browser, 查询 answers from the list.
func TestReviewInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newWebFixture(t)
	sayAs(t, f.base, "c1", "zhang", "张阿姨", "rep1", "举报 http://refund-taobao.top/kf")
	ctx := newBrowser(t, exe)
	var done string
	err := chromedp.Run(ctx,
		loginSteps(f.base, "town", f.adminPW),
		chromedp.Navigate(f.base+"/admin/review"),
		chromedp.WaitVisible("#reports", chromedp.ByID),
		chromedp.SetValue(`form.confirm select[name="scam_type"]`, "kefu", chromedp.ByQuery),
		chromedp.SendKeys(`form.confirm input[name="note"]`, "冒充淘宝客服", chromedp.ByQuery),
		chromedp.Click(`form.confirm button`, chromedp.ByQuery),
		chromedp.WaitVisible("#done", chromedp.ByID),
		chromedp.Text("#done", &done, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if r := sayAs(t, f.base, "c2", "liu", "刘大妈", "look2", "查询 refund-taobao.top/kf"); len(r) != 1 || !strings.Contains(r[0], "已被核实为诈骗") || !strings.Contains(r[0], "冒充淘宝客服") {
		t.Fatalf("查询 after confirming in the browser: %q", r)
	}
}

// TestKnowledgeEditFromTheWeb: an admin adds a phrase to a type, sees what
// it would change, saves it and the check in chat changes at once; a bad
// edit names its problem and changes nothing; rolling back restores the
// verdict; a counsellor cannot edit.
func TestKnowledgeEditFromTheWeb(t *testing.T) {
	f := newWebFixture(t)
	town, csrf := f.client(t, "town", f.adminPW)
	const msg = "这是诈骗吗 熊猫闪购折扣券限时领，领了再说"
	ask := func(id string) string {
		r := sayAs(t, f.base, "c1", "zhang", "张阿姨", id, msg)
		if len(r) != 1 {
			t.Fatalf("no answer: %q", r)
		}
		return r[0]
	}
	if strings.Contains(ask("k0"), "虚假购物") {
		t.Fatal("the test phrase already counts")
	}
	// From the review queue a wording goes to a type's edit form.
	_, page := get(t, town, f.base+"/admin/knowledge/to?id=xujia_gouwu&add=熊猫闪购%3D6")
	if !strings.Contains(page, "熊猫闪购=6</textarea>") {
		t.Fatalf("the phrase from the queue is not in the form:\n%s", page)
	}
	m := regexp.MustCompile(`(?s)<textarea name="phrases"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no edit form:\n%s", page)
	}
	phrases := html.UnescapeString(m[1])
	form := url.Values{"csrf": {csrf}, "phrases": {phrases}, "do": {"买东西走正规平台"}, "dont": {"不跟陌生卖家私下转账"}}
	form.Set("preview", "1")
	code, body, _ := postForm(t, town, f.base+"/admin/knowledge/types/xujia_gouwu", form)
	if code != http.StatusOK || !strings.Contains(body, `id="effect"`) || !strings.Contains(body, "提示") {
		t.Fatalf("preview: %d\n%s", code, body)
	}
	if strings.Contains(ask("k1"), "虚假购物") {
		t.Fatal("a preview changed the active knowledge")
	}
	bad := url.Values{"csrf": {csrf}, "phrases": {phrases + "\n坏权重=abc"}, "do": {"x"}, "dont": {"y"}, "save": {"1"}}
	if code, body, _ := postForm(t, town, f.base+"/admin/knowledge/types/xujia_gouwu", bad); code != http.StatusBadRequest || !strings.Contains(body, "shopping.yaml") {
		t.Fatalf("bad edit: %d\n%s", code, body)
	}
	if strings.Contains(ask("k2"), "虚假购物") {
		t.Fatal("a bad edit changed the check")
	}
	form.Del("preview")
	form.Set("save", "1")
	if code, _, _ := postForm(t, town, f.base+"/admin/knowledge/types/xujia_gouwu", form); code != http.StatusOK {
		t.Fatalf("save: %d", code)
	}
	if !strings.Contains(ask("k3"), "虚假购物") {
		t.Fatal("the saved edit is not active in chat")
	}
	_, page = get(t, town, f.base+"/admin/knowledge")
	v := regexp.MustCompile(`action="/admin/knowledge/rollback/(\d+)"`).FindStringSubmatch(page)
	if v == nil {
		t.Fatalf("no version to roll back to:\n%s", page)
	}
	if code, _, _ := postForm(t, town, f.base+"/admin/knowledge/rollback/"+v[1], url.Values{"csrf": {csrf}}); code != http.StatusOK {
		t.Fatalf("rollback: %d", code)
	}
	if strings.Contains(ask("k4"), "虚假购物") {
		t.Fatal("the rollback did not restore the check")
	}
	wang, wcsrf := f.client(t, "wang", f.couPW)
	if code, _, _ := postForm(t, wang, f.base+"/admin/knowledge/types/xujia_gouwu", url.Values{"csrf": {wcsrf}, "phrases": {"x"}, "save": {"1"}}); code != http.StatusForbidden {
		t.Fatalf("a counsellor edited the knowledge: %d", code)
	}
}
