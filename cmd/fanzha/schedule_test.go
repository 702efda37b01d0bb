package main

import (
	"context"
	"database/sql"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// clock is a fake clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// runClocked starts the bot in dir on the fake clock, with no background
// loop: the test calls Tick.
func runClocked(t *testing.T, dir string, c *clock) (*Main, string) {
	t.Helper()
	m := NewMain(io.Discard)
	m.Config.DataDir = dir
	m.Config.Web.Addr = "127.0.0.1:0"
	useTestDatabase(t, m, dir)
	m.Now = c.Now
	m.ManualTicks = true
	// Clocked tests run for weeks and read the chats at the end: keep them.
	m.Config.Retention.PlaygroundDays = 3650
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, "http://" + m.Addr
}

// crashed is what the crash harness panics with to stop the "process" at a
// chosen point.
type crashed struct{ point string }

// tick runs one Tick and reports whether the harness crashed it.
func tick(t *testing.T, m *Main, now time.Time) (point string) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			c, ok := p.(crashed)
			if !ok {
				panic(p)
			}
			point = c.point
		}
	}()
	if err := m.Tick(context.Background(), now); err != nil {
		t.Fatalf("tick at %v: %v", now, err)
	}
	return ""
}

// TestFourWeeksOfTipsSurviveCrashes runs the bot over four simulated weeks,
// killing it at random points of sending (seeded, so a failure replays) and
// keeping it down for a day and a half once. Every bound group must get
// exactly two tips a week, at its own times, none missed and none doubled.
func TestFourWeeksOfTipsSurviveCrashes(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 1, 20, 0, 0, 0, shanghai)} // Sunday evening
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	createGroup(t, base, "c2", "东风村村民群")
	createGroup(t, base, "k1", "三年级2班家长群")
	say(t, base, "c1", "wang", "b1", "绑定 幸福社区")
	say(t, base, "c2", "zhao", "b2", "绑定 东风村")
	say(t, base, "k1", "li", "b3", "绑定 实验小学 三年级2班")
	if _, replies, _ := say(t, base, "c2", "zhao", "s1", "设置推送 周三 周六 09:15"); len(replies) != 1 || !strings.Contains(replies[0], "每周三、周六 09:15") {
		t.Fatalf("设置推送: %q", replies)
	}

	rng := rand.New(rand.NewPCG(4, 2))
	crashes := map[string]int{}
	arm := func(m *Main) {
		m.Sender.Crash = func(point string) {
			if rng.Float64() < 0.3 {
				panic(crashed{point})
			}
		}
	}
	arm(m)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, shanghai)
	end := start.AddDate(0, 0, 28)
	downFrom := time.Date(2026, 11, 17, 8, 0, 0, 0, shanghai) // Tuesday, before 幸福社区's 10:00 tip
	downTo := time.Date(2026, 11, 18, 21, 0, 0, 0, shanghai)  // Wednesday evening, after 东风村's 09:15
	for now := start; now.Before(end); now = now.Add(5 * time.Minute) {
		c.Set(now)
		if !now.Before(downFrom) && now.Before(downTo) {
			if m != nil {
				m.Close()
				m = nil
			}
			continue
		}
		if m == nil {
			m, _ = runClocked(t, dir, c)
			arm(m)
		}
		if point := tick(t, m, now); point != "" {
			crashes[point]++
			m.Close() // the process is gone; what is in the database is all that is left
			m = nil
		}
	}
	for _, p := range []string{"marked-sending", "sent", "marked-sent"} {
		if crashes[p] == 0 {
			t.Errorf("the harness never crashed at %q; the test proves less than it says (crashes: %v)", p, crashes)
		}
	}

	db := openRaw(t, dir)
	type post struct {
		due, sent time.Time
		status    string
	}
	rows, err := db.Query(`SELECT g.platform_id, p.due_at, coalesce(p.sent_at, ''), p.status FROM posts p JOIN groups g ON g.id = p.group_id WHERE p.kind = 'tip' ORDER BY p.due_at`)
	if err != nil {
		t.Fatal(err)
	}
	byGroup := map[string][]post{}
	for rows.Next() {
		var g, due, sent, status string
		rows.Scan(&g, &due, &sent, &status)
		d, _ := time.Parse(time.RFC3339Nano, due)
		s, _ := time.Parse(time.RFC3339Nano, sent)
		byGroup[g] = append(byGroup[g], post{d.In(shanghai), s.In(shanghai), status})
	}
	rows.Close()
	want := map[string][2]string{"c1": {"Tue 10:00", "Fri 10:00"}, "c2": {"Wed 09:15", "Sat 09:15"}, "k1": {"Mon 19:30", "Thu 19:30"}}
	for g, days := range want {
		posts := byGroup[g]
		if len(posts) != 8 {
			t.Errorf("%s: %d tips in 4 weeks; want 8", g, len(posts))
		}
		perWeek := map[time.Time]int{}
		for _, p := range posts {
			ws := weekOf(p.due)
			perWeek[ws]++
			slot := p.due.Format("Mon 15:04")
			if slot != days[0] && slot != days[1] {
				t.Errorf("%s: tip planned for %s; schedule is %v", g, slot, days)
			}
			if p.status != "sent" {
				t.Errorf("%s: tip due %v is %s", g, p.due, p.status)
			}
			if weekOf(p.sent) != ws || p.sent.Before(p.due) {
				t.Errorf("%s: tip due %v sent %v, outside its week", g, p.due, p.sent)
			}
			inDowntime := !p.due.Before(downFrom) && p.due.Before(downTo)
			if !inDowntime && p.sent.Sub(p.due) > 30*time.Minute {
				t.Errorf("%s: tip due %v sent late at %v", g, p.due, p.sent)
			}
		}
		for ws, n := range perWeek {
			if n != 2 {
				t.Errorf("%s: week of %s got %d tips; want 2", g, ws.Format("01-02"), n)
			}
		}
		// What residents saw: each tip once in the chat, however often the
		// bot died while sending it.
		if n := count(t, db, `SELECT count(*) FROM playground_messages WHERE group_id = ? AND kind = 'tip'`, g); n != 8 {
			t.Errorf("%s: residents saw %d tips; want 8", g, n)
		}
		if n := count(t, db, `SELECT count(DISTINCT text) FROM playground_messages WHERE group_id = ? AND kind = 'tip'`, g); n != 8 {
			t.Errorf("%s: %d different tips of 8; a tip repeated before the library was used up", g, n)
		}
	}
	// The outage swallowed 幸福社区's Tuesday and 东风村's Wednesday slot: both
	// were caught up when the bot came back, the same week.
	caught := 0
	for _, g := range []string{"c1", "c2"} {
		for _, p := range byGroup[g] {
			if !p.due.Before(downFrom) && p.due.Before(downTo) && !p.sent.Before(downTo) {
				caught++
			}
		}
	}
	if caught != 2 {
		t.Errorf("%d tips caught up after the outage; want 2", caught)
	}
}

func weekOf(t time.Time) time.Time {
	t = t.In(shanghai)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, shanghai)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestTipCommandsAndQuietHours(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 24, 23, 0, 0, 0, shanghai)} // Tuesday night, quiet hours
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "k1", "三年级2班家长群")
	sayAs(t, base, "k1", "li", "李老师", "b", "绑定 实验小学 三年级2班")

	plan := sayAs(t, base, "k1", "parent", "家长", "p1", "推送计划")
	if len(plan) != 1 || !strings.Contains(plan[0], "每周一、周四 19:30（班级群默认）") || !strings.Contains(plan[0], "本周还有：周四 19:30") {
		t.Fatalf("推送计划: %q", plan)
	}
	if r := sayAs(t, base, "k1", "parent", "家长", "p2", "来一条提示"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a parent asked for a tip: %q", r)
	}
	if r := sayAs(t, base, "k1", "li", "李老师", "p3", "来一条提示"); len(r) != 1 || !strings.Contains(r[0], "免打扰时段（22:00-07:00），这条提示会在明天 07:00 发出") {
		t.Fatalf("来一条提示 in quiet hours must say when it goes: %q", r)
	}
	m.Tick(context.Background(), c.Now())
	if tips := botPosts(t, base, "k1", "tip_extra"); len(tips) != 0 {
		t.Fatalf("a tip went out at 23:00, in quiet hours: %q", tips)
	}
	c.Set(time.Date(2026, 11, 25, 7, 0, 0, 0, shanghai))
	m.Tick(context.Background(), c.Now())
	if tips := botPosts(t, base, "k1", "tip_extra"); len(tips) != 1 {
		t.Fatalf("tips after quiet hours: %q", tips)
	}
	if r := sayAs(t, base, "k1", "li", "李老师", "p4", "设置推送 周二 周五 23:30"); len(r) != 1 || !strings.Contains(r[0], "免打扰") {
		t.Fatalf("schedule in quiet hours: %q", r)
	}
	if r := sayAs(t, base, "k1", "li", "李老师", "p5", "设置推送 周三 周五 12:00"); len(r) != 1 || !strings.Contains(r[0], "每周三、周五 12:00") {
		t.Fatalf("设置推送: %q", r)
	}
	c.Set(time.Date(2026, 11, 25, 12, 1, 0, 0, shanghai))
	m.Tick(context.Background(), c.Now())
	if tips := botPosts(t, base, "k1", "tip"); len(tips) != 1 {
		t.Fatalf("scheduled tips on the new schedule: %q", tips)
	}
	plan = sayAs(t, base, "k1", "li", "李老师", "p6", "推送计划")
	// The scheduled tip and the one asked for at 23:00 (sent at 07:00).
	if len(plan) != 1 || !strings.Contains(plan[0], "（本群设置）") || !strings.Contains(plan[0], "本周已推送 2 条") {
		t.Fatalf("推送计划 after a tip: %q", plan)
	}
}
