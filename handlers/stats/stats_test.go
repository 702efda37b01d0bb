package stats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/bot/bottest"
	"fanzha/handlers/binding"
	"fanzha/handlers/stats"
	"fanzha/report"
)

func newBot(t *testing.T) *bottest.Harness {
	return bottest.New(t, func(h *bottest.Harness, r *bot.Router) {
		binding.Register(r, h.DB.Groups())
		stats.Register(r, &stats.Stats{Groups: h.DB.Groups(), Accounts: h.DB.Accounts(), Now: h.Now, Loc: bottest.Shanghai,
			Week: func(ctx context.Context, scope report.Scope, ws time.Time) (*report.Report, error) {
				return report.Week(ctx, report.Source{Groups: h.DB.Groups(), Stats: h.DB.Stats()}, scope, ws, report.Campaign{Now: h.Now})
			}})
	})
}

// TestWeekFiguresInChat: the counsellor sees the group's week, with what
// is still due while the week runs; residents may not; the rank names no
// other group; the group size turns participation into a rate.
func TestWeekFiguresInChat(t *testing.T) {
	h := newBot(t)
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	h.Say("g2", "zhao", "绑定 城关镇 东风村")
	h.Say("g1", "zhang", "你好") // a resident taking part
	if r := h.Say("g1", "zhang", "本周统计"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident read the figures: %q", r)
	}
	if r := h.Say("g1", "wang", "群人数 40"); len(r) != 1 || !strings.Contains(r[0], "40 人") {
		t.Fatalf("群人数: %q", r)
	}
	r := h.Say("g1", "wang", "本周统计")
	if len(r) != 1 || !strings.Contains(r[0], "反诈推送：0 条（要求 ≥2），本周还差 2 条") || !strings.Contains(r[0], "活跃率") ||
		!strings.Contains(r[0], "答对率 –") {
		t.Fatalf("本周统计 mid-week: %q", r)
	}
	r = h.Say("g1", "zhang", "本群排行")
	if len(r) != 1 || !strings.Contains(r[0], "2 个群中排第") || strings.Contains(r[0], "东风村") {
		t.Fatalf("本群排行: %q", r)
	}
}
