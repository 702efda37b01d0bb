package scamcheck_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/bot/bottest"
	"fanzha/handlers/binding"
	"fanzha/handlers/scamcheck"
	"fanzha/knowledge"
)

func newBot(t *testing.T) *bottest.Harness {
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return bottest.New(t, func(h *bottest.Harness, r *bot.Router) {
		binding.Register(r, h.DB.Groups())
		scamcheck.Register(r, scamcheck.Deps{KB: kb, Groups: h.DB.Groups(), Events: h.DB.Events(), Samples: h.DB.Events(), Now: h.Now,
			Crowd: h.DB.Crowd(), History: h.DB.Events()})
	})
}

const phishing = "【中国移动】您的积分将于今日清零，请登录 http://10086-jf.top 兑换现金"

// TestAskedCheckAndWarning: an asked check answers with the verdict and
// its reasons and is counted with its level; a phishing SMS posted in a
// community group is warned about once a day, a teacher's reminder never,
// nor anything the group's own counsellor posts.
func TestAskedCheckAndWarning(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	r := h.Say("g1", "zhang", "这是诈骗吗 "+phishing)
	if len(r) != 1 || !strings.Contains(r[0], "高风险") || !strings.Contains(r[0], "判断依据") {
		t.Fatalf("asked check: %q", r)
	}
	n, err := h.DB.Events().CountEvents(context.Background(), bot.EventFilter{Kind: bot.EventScamCheck})
	if err != nil || n != 1 {
		t.Fatalf("scam checks counted: %d, %v", n, err)
	}
	if r := h.Overhear("g1", "li", phishing); len(r) != 1 || !strings.Contains(r[0], "提醒") {
		t.Fatalf("no warning on a phishing SMS: %q", r)
	}
	h.Advance(2 * time.Hour)
	if r := h.Overhear("g1", "zhao", phishing); len(r) != 0 {
		t.Fatalf("the same scam was warned about twice in a day: %q", r)
	}
	if r := h.Overhear("g1", "li", "【反诈提醒】凡是让你点链接领补贴、积分兑换现金的短信都是诈骗，请大家不要点，拿不准就打96110。"); len(r) != 0 {
		t.Fatalf("a reminder was warned about: %q", r)
	}
	h.Advance(25 * time.Hour)
	if r := h.Overhear("g1", "wang", phishing); len(r) != 0 {
		t.Fatalf("the counsellor's own post was warned about: %q", r)
	}
}

// TestWarningsCounsellorOnly: only the counsellor may switch warnings off.
func TestWarningsCounsellorOnly(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	if r := h.Say("g1", "zhang", "关闭预警"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident switched warnings off: %q", r)
	}
	if r := h.Say("g1", "wang", "关闭预警"); len(r) != 1 || !strings.Contains(r[0], "已关闭") {
		t.Fatalf("关闭预警: %q", r)
	}
	if r := h.Overhear("g1", "li", phishing); len(r) != 0 {
		t.Fatalf("warned with warnings off: %q", r)
	}
}

// TestClassGroupWarnsAboutFakeTeachersByDefault: a class group is warned
// by default about the scam aimed at its parents — a fake teacher
// collecting fees — and about nothing else until its teacher switches all
// warnings on; switched off, it is warned about nothing.
func TestClassGroupWarnsAboutFakeTeachersByDefault(t *testing.T) {
	const fakeTeacher = "各位家长好，我是班主任王老师，本学期教辅资料费每人280元，请家长扫码缴纳，缴完截图发我，今天下午五点前交齐。"
	h := newBot(t)
	h.Say("c1", "wang", "绑定 实验小学 三年级2班")
	if g := h.Group("c1"); g.Kind != bot.GroupClass {
		t.Fatalf("group kind %s; want class", g.Kind)
	}
	if r := h.Overhear("c1", "li", phishing); len(r) != 0 {
		t.Fatalf("a class group was warned by default about a phishing SMS: %q", r)
	}
	if r := h.Overhear("c1", "zhao", fakeTeacher); len(r) != 1 || !strings.Contains(r[0], "冒充老师收费") {
		t.Fatalf("no warning about a fake teacher's fee notice: %q", r)
	}
	h.Advance(25 * time.Hour)
	if r := h.Overhear("c1", "sun", "请各位家长今天扫码缴纳资料费180元"); len(r) != 1 { // the issue's own example
		t.Fatalf("no warning about the short fee notice: %q", r)
	}
	h.Say("c1", "wang", "开启预警")
	h.Advance(2 * time.Hour)
	if r := h.Overhear("c1", "li", phishing); len(r) != 1 {
		t.Fatalf("warnings switched on, a phishing SMS not warned: %q", r)
	}
	h.Say("c1", "wang", "关闭预警")
	h.Advance(25 * time.Hour)
	if r := h.Overhear("c1", "zhao", fakeTeacher); len(r) != 0 {
		t.Fatalf("warnings switched off, still warned: %q", r)
	}
}
