package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"fanzha/bot"
)

// workbook is an .xlsx with rows on its first sheet.
func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts an .xlsx to the case import.
func upload(t *testing.T, c *http.Client, base, csrf string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "cases.xlsx")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/admin/cases/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestCasesImportBackcheckAndMustTeach: a case entered by form with a loss
// over ¥100,000 flags its community 必讲, and the next tip asked for there
// teaches that scam; a workbook with bad rows or a name column changes
// nothing and names each error; a good one is imported; the 倒查 page says
// what the unit received before.
func TestCasesImportBackcheckAndMustTeach(t *testing.T) {
	f := newWebFixture(t)
	town, csrf := f.client(t, "town", f.adminPW)
	day := time.Now().In(shanghai).AddDate(0, 0, -3).Format("2006-01-02")
	code, body, _ := postForm(t, town, f.base+"/admin/cases", url.Values{"csrf": {csrf}, "date": {day}, "unit": {fmt.Sprint(unitID(t, f.m, "幸福社区"))},
		"type": {"shuadan"}, "loss": {"120000"}, "age": {"31-45岁"}, "role": {"居民"}})
	if code != http.StatusOK || !strings.Contains(body, `id="flags"`) || !strings.Contains(body, "幸福社区") {
		t.Fatalf("a ¥120,000 case did not flag its community: %d\n%s", code, body)
	}
	sayAs(t, f.base, "c1", "wang", "王老师", "tipnow", "来一条提示")
	posts, _ := f.m.DB.Outbox().FindPosts(context.Background(), bot.PostFilter{GroupID: f.mine, Kind: bot.PostTipExtra})
	if len(posts) != 1 {
		t.Fatalf("来一条提示 queued %d posts", len(posts))
	}
	tip := f.m.Knowledge.Content().Tip(posts[0].Ref)
	if tip == nil || !strings.Contains(strings.Join(tip.Types, ","), "shuadan") {
		t.Fatalf("the 必讲 community got a tip about %v, not 刷单", tip.Types)
	}

	before, _ := f.m.DB.Cases().Cases(context.Background(), time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, 1))
	header := []any{"发案日期", "单位", "诈骗类型", "损失金额", "年龄段", "身份"}
	bad := [][]any{header,
		{day, "幸福社区", "刷单返利", "3000", "18-30岁", "学生"},
		{"2026-13-01", "不存在村", "刷单返利", "三千", "18-30岁", "学生"},
		{day, "东风村", "没有这种", "100", "二十岁", "路人"},
	}
	if code, body := upload(t, town, f.base, csrf, workbook(t, bad)); code != http.StatusBadRequest ||
		!strings.Contains(body, "第 3 行第 1 列") || !strings.Contains(body, "第 3 行第 2 列") || !strings.Contains(body, "第 3 行第 4 列") ||
		!strings.Contains(body, "第 4 行第 3 列") || !strings.Contains(body, "第 4 行第 5 列") || !strings.Contains(body, "第 4 行第 6 列") {
		t.Fatalf("bad workbook: %d\n%s", code, body)
	}
	named := [][]any{append(append([]any{}, header...), "姓名"), {day, "东风村", "刷单返利", "100", "18-30岁", "学生", "张三"}}
	if code, body := upload(t, town, f.base, csrf, workbook(t, named)); code != http.StatusBadRequest || !strings.Contains(body, "姓名") {
		t.Fatalf("a workbook with a name column: %d\n%s", code, body)
	}
	if after, _ := f.m.DB.Cases().Cases(context.Background(), time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, 1)); len(after) != len(before) {
		t.Fatal("a refused workbook imported something")
	}
	good := [][]any{header, {day, "东风村", "刷单返利", "3,000", "18-30岁", "学生"}, {day, "东风村", "冒充公检法", "56000", "60岁以上", "老年人"}}
	if code, body := upload(t, town, f.base, csrf, workbook(t, good)); code != http.StatusOK || !strings.Contains(body, "已登记 2 起") {
		t.Fatalf("good workbook: %d\n%s", code, body)
	}
	_, page := get(t, town, f.base+"/admin/cases")
	if !strings.Contains(page, "东风村") || !strings.Contains(page, "59000") {
		t.Fatalf("monthly figures:\n%s", page)
	}
	cases, _ := f.m.DB.Cases().Cases(context.Background(), time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, 1))
	var first int64
	for _, c := range cases {
		if c.Loss == 120000 {
			first = c.ID
		}
	}
	_, page = get(t, town, fmt.Sprintf("%s/admin/cases/%d", f.base, first))
	if !strings.Contains(page, `id="windows"`) || !strings.Contains(page, "幸福社区居民群") || !strings.Contains(page, "没有收到过讲") {
		t.Fatalf("倒查 page:\n%s", page)
	}
	resp, err := town.Get(f.base + "/admin/cases.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.GetRows("案件")
	if len(rows) != 5 || rows[1][13] != "案发前讲过这一类" || rows[2][13] != "否" {
		t.Fatalf("case workbook: %v", rows)
	}
	wang, _ := f.client(t, "wang", f.couPW)
	if code, _ := get(t, wang, f.base+"/admin/cases"); code != http.StatusForbidden {
		t.Fatalf("a counsellor opened the case registry: %d", code)
	}
	if _, page := get(t, town, f.base+"/admin/"); !strings.Contains(page, `id="must-teach"`) || !strings.Contains(page, "幸福社区") {
		t.Fatal("the overview does not name the 必讲 unit")
	}
	// An admin sends the town's reports to a group from the overview; a
	// counsellor cannot.
	wcl, wcsrf := f.client(t, "wang", f.couPW)
	if code, _, _ := postForm(t, wcl, f.base+"/admin/report-group", url.Values{"csrf": {wcsrf}, "unit": {fmt.Sprint(unitID(t, f.m, "城关镇"))},
		"group": {fmt.Sprint(f.mine)}}); code != http.StatusForbidden {
		t.Fatalf("a counsellor set a report group: %d", code)
	}
	code, body, _ = postForm(t, town, f.base+"/admin/report-group", url.Values{"csrf": {csrf}, "unit": {fmt.Sprint(unitID(t, f.m, "城关镇"))},
		"group": {fmt.Sprint(f.theirs)}})
	if code != http.StatusOK || !strings.Contains(body, "<td>城关镇</td><td>东风村村民群</td>") {
		t.Fatalf("setting the town's report group: %d", code)
	}
	// Clearing the flag takes it off.
	code, body, _ = postForm(t, town, fmt.Sprintf("%s/admin/cases/flags/%d/clear", f.base, unitID(t, f.m, "幸福社区")), url.Values{"csrf": {csrf}})
	if code != http.StatusOK || strings.Contains(body, `id="flags"`) {
		t.Fatalf("clearing the flag: %d", code)
	}
}

// TestCasesAndScoresInBrowser: the case page and its chart render in a
// browser from scripts the binary serves (no CDN), and so do the 倒查 page
// and the score chart.
func TestCasesAndScoresInBrowser(t *testing.T) {
	exe := chromium(t)
	f := newWebFixture(t)
	day := time.Now().In(shanghai).AddDate(0, 0, -2)
	c := &bot.Case{Date: time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, shanghai), UnitID: unitID(t, f.m, "东风村"), ScamType: "gongjianfa",
		Loss: 30000, AgeBand: "60岁以上", Role: "老年人", At: time.Now()}
	if err := f.m.DB.Cases().AddCases(context.Background(), []*bot.Case{c}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, exe)
	var bars, title, scoreChart string
	err := chromedp.Run(ctx,
		loginSteps(f.base, "town", f.adminPW),
		chromedp.Navigate(f.base+"/admin/cases"),
		chromedp.WaitVisible("#cases-chart", chromedp.ByID),
		chromedp.Poll(`(function(){var c = Chart.getChart(document.getElementById("cases-chart")); return c ? c.data.datasets[0].data.join(",") : ""})()`, &bars),
		chromedp.Navigate(fmt.Sprintf("%s/admin/cases/%d", f.base, c.ID)),
		chromedp.WaitVisible("#windows", chromedp.ByID),
		chromedp.Text("#title", &title, chromedp.ByID),
		chromedp.Navigate(f.base+"/admin/scores"),
		chromedp.WaitVisible("#scores", chromedp.ByID),
		chromedp.Poll(`(function(){var c = Chart.getChart(document.getElementById("score-chart")); return c ? String(c.data.labels.length) : ""})()`, &scoreChart),
	)
	if err != nil {
		t.Fatal(err)
	}
	if bars != "1" {
		t.Fatalf("the cases chart shows %q; want one case", bars)
	}
	if !strings.Contains(title, "东风村") {
		t.Fatalf("倒查 page title %q", title)
	}
	if scoreChart == "" || scoreChart == "0" {
		t.Fatalf("the score chart has %q units", scoreChart)
	}
}
