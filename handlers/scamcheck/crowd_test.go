package scamcheck_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
)

// TestReportCountsPeopleNotSpellings: one number in three spellings is one
// item; the same person reporting twice counts once; 查询 answers from the
// reports, saying they are not confirmed.
func TestReportCountsPeopleNotSpellings(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	for i, s := range []struct{ who, text, want string }{
		{"zhang", "举报 400-123-4567", "共 1 人举报"},
		{"li", "举报 400 123 4567 冒充京东客服", "共 2 人举报"},
		{"zhang", "举报 4001234567", "共 2 人举报"},
	} {
		if r := h.Say("g1", s.who, s.text); len(r) != 1 || !strings.Contains(r[0], "号码 4001234567") || !strings.Contains(r[0], s.want) {
			t.Fatalf("report %d: %q", i, r)
		}
	}
	if r := h.Say("g1", "zhao", "查询 400 123 4567"); len(r) != 1 || !strings.Contains(r[0], "已有 2 位群友举报") || !strings.Contains(r[0], "尚未核实") {
		t.Fatalf("查询 after reports: %q", r)
	}
	if r := h.Say("g1", "zhao", "查询 0755-66120987"); len(r) != 1 || !strings.Contains(r[0], "还没有人举报过") {
		t.Fatalf("查询 of an unreported landline: %q", r)
	}
	// A link, however written, and a forwarded message reported after it.
	h.Say("g1", "zhang", "举报 HTTPS://WWW.Jd-Refund.top/pay/")
	if r := h.Say("g1", "li", "举报 jd-refund.top/pay"); len(r) != 1 || !strings.Contains(r[0], "链接 jd-refund.top/pay（共 2 人举报）") {
		t.Fatalf("link spellings: %q", r)
	}
	h.Overhear("g1", "zhou", "你好，我是快递理赔专员，你的包裹丢了，加我微信领取三倍赔偿")
	if r := h.Say("g1", "zhou", "举报"); len(r) != 1 || !strings.Contains(r[0], "已收到举报") {
		t.Fatalf("forward then 举报: %q", r)
	}
}

// TestReportBadInputAndFlood: empty, garbage and oversized reports get a
// clear answer and store nothing; a flood is cut after five a minute.
func TestReportBadInputAndFlood(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	for _, bad := range []string{"举报", "举报 ！！？", "举报 " + strings.Repeat("骗", 1001)} {
		if r := h.Say("g1", "zhang", bad); len(r) != 1 || strings.Contains(r[0], "已收到") {
			t.Fatalf("%.20q: %q", bad, r)
		}
	}
	for i := 0; i < 5; i++ {
		if r := h.Say("g1", "spam", fmt.Sprintf("举报 1380013800%d", i)); len(r) != 1 || !strings.Contains(r[0], "已收到") {
			t.Fatalf("report %d: %q", i, r)
		}
	}
	if r := h.Say("g1", "spam", "举报 13900139000"); len(r) != 1 || !strings.Contains(r[0], "太频繁") {
		t.Fatalf("sixth report in a minute: %q", r)
	}
	sts, _ := h.DB.Crowd().Lookup(context.Background(), []bot.Item{{Kind: bot.ItemPhone, Value: "13900139000"}}, h.Now())
	if sts[0].Reports != 0 {
		t.Fatal("a refused report was stored")
	}
	h.Advance(time.Minute)
	if r := h.Say("g1", "spam", "举报 13900139000"); len(r) != 1 || !strings.Contains(r[0], "已收到") {
		t.Fatalf("a minute later: %q", r)
	}
}

// TestConcurrentReportsCountExactly: fifty people reporting one number at
// once count fifty.
func TestConcurrentReportsCountExactly(t *testing.T) {
	h := newBot(t)
	ctx := context.Background()
	item := []bot.Item{{Kind: bot.ItemPhone, Value: "4008001234"}}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		m, err := h.DB.Members().EnsureMember(ctx, "test", fmt.Sprint("u", i), "")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.DB.Crowd().Report(ctx, 0, m.ID, item, "", h.Now())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sts, _ := h.DB.Crowd().Lookup(ctx, item, h.Now())
	if sts[0].Reports != 50 {
		t.Fatalf("%d reports counted; want 50", sts[0].Reports)
	}
}

// TestFeedbackAndMute: a counsellor's 误报 on a warning mutes that rule in
// the group for 30 days and queues it for review; a resident's 误报 is only
// recorded; feedback with no recent verdict is told so.
func TestFeedbackAndMute(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	if r := h.Say("g1", "zhang", "误报"); len(r) != 1 || !strings.Contains(r[0], "没有找到刚才的判断") {
		t.Fatalf("误报 with nothing before: %q", r)
	}
	if r := h.Overhear("g1", "li", phishing); len(r) != 1 {
		t.Fatalf("no warning: %q", r)
	}
	if r := h.Say("g1", "zhang", "误报"); len(r) != 1 || strings.Contains(r[0], "不再") {
		t.Fatalf("a resident's 误报 muted the rule: %q", r)
	}
	if r := h.Say("g1", "wang", "误报"); len(r) != 1 || !strings.Contains(r[0], "30 天内不再") {
		t.Fatalf("the counsellor's 误报: %q", r)
	}
	h.Advance(25 * time.Hour)
	if r := h.Overhear("g1", "li", phishing); len(r) != 0 {
		t.Fatalf("a muted rule warned again: %q", r)
	}
	h.Say("g2", "zhao", "绑定 城关镇 东风村")
	if r := h.Overhear("g2", "li", phishing); len(r) != 1 {
		t.Fatalf("the mute of one group silenced another: %q", r)
	}
	h.Advance(31 * 24 * time.Hour)
	if r := h.Overhear("g1", "li", phishing); len(r) != 1 {
		t.Fatalf("the mute did not end after 30 days: %q", r)
	}
	fb, err := h.DB.Crowd().OpenFeedback(context.Background(), 10)
	if err != nil || len(fb) != 2 || fb[0].Kind != bot.FeedbackFalseAlarm || fb[0].On != bot.EventWarning || fb[0].Rule == "" {
		t.Fatalf("review queue: %+v, %v", fb, err)
	}
	h.Say("g1", "zhang", "这是诈骗吗 明天下午三点社区开会，请大家准时参加")
	if r := h.Say("g1", "zhang", "漏报"); len(r) != 1 || !strings.Contains(r[0], "漏报") {
		t.Fatalf("漏报: %q", r)
	}
}

// TestBlocklistMakesItHighRisk: a confirmed number makes any message
// holding it high risk, says why, and warns a group; 查询 says it was
// confirmed.
func TestBlocklistMakesItHighRisk(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	ctx := context.Background()
	if err := h.DB.Crowd().Confirm(ctx, bot.ListedItem{Item: bot.Item{Kind: bot.ItemPhone, Value: "13912345678"}, ScamType: "kefu",
		Note: "冒充电商客服要求退款", ListedAt: h.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	plain := "你好，有事请回电 139-1234-5678，谢谢"
	if r := h.Say("g1", "zhang", "这是诈骗吗 "+plain); len(r) != 1 || !strings.Contains(r[0], "已被核实为诈骗") || !strings.Contains(r[0], "冒充电商客服要求退款") {
		t.Fatalf("asked check with a listed number: %q", r)
	}
	if r := h.Overhear("g1", "li", plain); len(r) != 1 || !strings.Contains(r[0], "已核实的诈骗号码") {
		t.Fatalf("no warning on a listed number: %q", r)
	}
	if r := h.Say("g1", "zhao", "查询 +86 139 1234 5678"); len(r) != 1 || !strings.Contains(r[0], "已被核实为诈骗") {
		t.Fatalf("查询 a listed number: %q", r)
	}
	if err := h.DB.Crowd().Unlist(ctx, bot.Item{Kind: bot.ItemPhone, Value: "13912345678"}, 0, h.Now()); err != nil {
		t.Fatal(err)
	}
	if r := h.Say("g1", "zhang", "这是诈骗吗 "+plain); len(r) != 1 || strings.Contains(r[0], "已被核实") {
		t.Fatalf("an unlisted number is still called confirmed: %q", r)
	}
}

// TestThumbOnAReply: a 👎 on the bot's answer (WeCom's feedback_event) is
// recorded like a typed "没用" on the group's latest check, and the bot
// says nothing in the chat about it.
func TestThumbOnAReply(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	if r := h.Say("g1", "zhang", "这是诈骗吗 "+phishing); len(r) != 1 {
		t.Fatalf("check: %q", r)
	}
	if r := h.Tap("g1", "zhang", "没用"); len(r) != 0 {
		t.Fatalf("a thumb was answered: %q", r)
	}
	open, err := h.DB.Crowd().OpenFeedback(context.Background(), 10)
	if err != nil || len(open) != 1 || open[0].Kind != bot.FeedbackUseless || open[0].On != bot.EventScamCheck {
		t.Fatalf("feedback recorded: %+v, %v", open, err)
	}
}
