package main

import (
	"strings"
	"testing"
	"time"

	"fanzha/bot"
)

// TestThursdayReportPostedOnceAcrossARestart: a town's 管理群 gets the
// weekly report for Thursday 16:00 once: the bot was down at 16:00, posts
// it when it comes back, and a second restart does not post it again. A
// resident cannot make a group the 管理群.
func TestThursdayReportPostedOnceAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)} // Wednesday
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	createGroup(t, base, "t1", "城关镇网格员群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 城关镇 幸福社区")
	sayAs(t, base, "t1", "chen", "陈主任", "b2", "绑定 城关镇 东风村")
	if r := sayAs(t, base, "t1", "li", "李大爷", "s0", "设为管理群"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident set the 管理群: %q", r)
	}
	if r := sayAs(t, base, "t1", "chen", "陈主任", "sx", "设为管理群 西湖镇"); len(r) != 1 || !strings.Contains(r[0], "不是本群所属的单位") {
		t.Fatalf("设为管理群 for another town: %q", r)
	}
	if r := sayAs(t, base, "t1", "chen", "陈主任", "s1", "设为管理群 城关镇"); len(r) != 1 || !strings.Contains(r[0], "“城关镇”的管理群") || !strings.Contains(r[0], "周四 16:00") {
		t.Fatalf("设为管理群: %q", r)
	}
	reports := func() []string { return botPosts(t, base, "t1", bot.PostReport) }
	tick(t, m, c.Now())
	tick(t, m, time.Date(2026, 11, 26, 15, 0, 0, 0, shanghai))
	if r := reports(); len(r) != 0 {
		t.Fatalf("reports before Thursday 16:00: %q", r)
	}
	m.Close() // down over 16:00
	c.Set(time.Date(2026, 11, 26, 18, 0, 0, 0, shanghai))
	m, base = runClocked(t, dir, c)
	tick(t, m, c.Now())
	tick(t, m, c.Now().Add(time.Second))
	m.Close()
	c.Add(30 * time.Minute)
	m, base = runClocked(t, dir, c)
	tick(t, m, c.Now())
	tick(t, m, c.Now().Add(time.Second))
	r := reports()
	if len(r) != 1 {
		t.Fatalf("%d weekly reports; want exactly one: %q", len(r), r)
	}
	if !strings.Contains(r[0], "【反诈周报】城关镇") || !strings.Contains(r[0], "幸福社区居民群") || !strings.Contains(r[0], "推送不足") {
		t.Fatalf("the report: %s", r[0])
	}
	if posts := botPosts(t, base, "c1", bot.PostReport); len(posts) != 0 {
		t.Fatalf("a resident group got the report: %q", posts)
	}
	sayAs(t, base, "t1", "chen", "陈主任", "s2", "取消管理群")
	tick(t, m, time.Date(2026, 12, 3, 16, 1, 0, 0, shanghai))
	if r := reports(); len(r) != 1 {
		t.Fatalf("reports after 取消管理群: %d", len(r))
	}
}
