package scamcheck

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/knowledge"
)

// The crowd loop in chat: 举报 records what residents report, 误报 / 漏报 /
// 有用 / 没用 record what they say of the last verdict, and the check
// consults the reports and the reviewed blocklist.

const (
	// maxReportRunes: a report longer than this is refused.
	maxReportRunes = 1000
	// reportsPerMinute: one person's reports a minute; beyond it a flood
	// is refused and only counted.
	reportsPerMinute = 5
	// feedbackWindow: feedback refers to a verdict at most this old.
	feedbackWindow = 10 * time.Minute
	// muteFor: a counsellor's 误报 on a warning mutes its rule in the group.
	muteFor = 30 * 24 * time.Hour
	// minTextReport: a report without a number or link needs this many
	// letters to be worth keeping.
	minTextReport = 6
)

// flood limits reports per member per minute.
type flood struct {
	mu      sync.Mutex
	recent  map[int64][]time.Time
	Refused int // reports refused as a flood, for the logs
}

// allow reports whether member may report at now, and counts it.
func (f *flood) allow(member int64, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recent == nil || len(f.recent) > maxHeld {
		f.recent = map[int64][]time.Time{}
	}
	kept := f.recent[member][:0]
	for _, t := range f.recent[member] {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	if len(kept) >= reportsPerMinute {
		f.recent[member] = kept
		f.Refused++
		return false
	}
	f.recent[member] = append(kept, now)
	return true
}

// itemsOf are the reportable items a verdict found: numbers, links, cards
// and accounts, normalised.
func itemsOf(v knowledge.Verdict) []bot.Item {
	var out []bot.Item
	seen := map[bot.Item]bool{}
	for _, e := range v.Entities {
		it, ok := bot.NormalizeItem(e.Kind, e.Value)
		if !ok || seen[it] || e.Kind == knowledge.EntityPhone && knowledge.OfficialNumber(it.Value) {
			continue
		}
		seen[it] = true
		out = append(out, it)
	}
	return out
}

// letters counts letters and digits in s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func (h *handler) report(c *bot.Context) error {
	text := strings.TrimSpace(c.Args())
	if text == "" {
		if prev, ok := h.takeForwarded(c.Message()); ok {
			text = prev // forwarded first, then 举报
		}
	}
	switch {
	case text == "":
		return bot.Errorf(bot.EINVALID, "请在“举报”后面写上可疑的号码、链接、账号或消息内容，例如：举报 400-123-4567")
	case utf8.RuneCountInString(text) > maxReportRunes:
		return bot.Errorf(bot.EINVALID, "举报内容太长了，请只发可疑的号码、链接或关键的几句话（%d 字以内）。", maxReportRunes)
	}
	if !h.floods.allow(c.Member.ID, h.Now()) {
		c.Logger().Warn("report flood refused", "refused_total", h.floods.Refused)
		return bot.Errorf(bot.EINVALID, "举报太频繁了，请过一分钟再发。")
	}
	v := h.KB.Check(text)
	items := itemsOf(v)
	if len(items) == 0 {
		if it, ok := bot.NormalizeItem("", text); ok {
			items = []bot.Item{it}
		} else if letters(text) >= minTextReport {
			items = []bot.Item{bot.TextItem(text)}
		} else {
			return bot.Errorf(bot.EINVALID, "没有看懂要举报什么：请发可疑的号码、链接、账号或消息原文，例如：举报 400-123-4567")
		}
	}
	counts, err := h.Crowd.Report(c.Context(), groupID(c), c.Member.ID, items, text, h.Now())
	if err != nil {
		return err
	}
	c.Tally(bot.EventReport, string(items[0].Kind))
	var named []string
	for i, it := range items {
		if i == maxShownItems {
			break
		}
		if it.Kind == bot.ItemText {
			named = append(named, fmt.Sprintf("这条消息（共 %d 人举报）", counts[i]))
		} else {
			named = append(named, fmt.Sprintf("%s %s（共 %d 人举报）", it.Kind.Label(), it.Value, counts[i]))
		}
	}
	return c.Reply("已收到举报：" + strings.Join(named, "、") + "。核实后会提醒大家；已经被骗请立即拨打 110。")
}

// maxShownItems: a reply names at most this many items.
const maxShownItems = 3

func groupID(c *bot.Context) int64 {
	if c.Group == nil {
		return 0
	}
	return c.Group.ID
}

// feedback records what someone says of the group's latest verdict or
// warning.
func (h *handler) feedback(kind bot.FeedbackKind) bot.HandlerFunc {
	return func(c *bot.Context) error {
		if c.Group == nil {
			return bot.Errorf(bot.EINVALID, "请在群里机器人回答之后回复“%s”。", kind.Label())
		}
		now := h.Now()
		var latest *bot.Event
		for _, k := range []bot.EventKind{bot.EventScamCheck, bot.EventWarning} {
			evs, err := h.History.FindEvents(c.Context(), bot.EventFilter{GroupID: c.Group.ID, Kind: k, Since: now.Add(-feedbackWindow)}, 1)
			if err != nil {
				return err
			}
			if len(evs) > 0 && (latest == nil || evs[0].At.After(latest.At)) {
				latest = &evs[0]
			}
		}
		if latest == nil {
			return bot.Errorf(bot.ECONFLICT, "没有找到刚才的判断：请在机器人回答后 10 分钟内回复“误报”“漏报”“有用”或“没用”。")
		}
		f := &bot.Feedback{GroupID: c.Group.ID, MemberID: c.Member.ID, Kind: kind, On: latest.Kind, Rule: latest.Detail, Level: latest.Level, At: now}
		if err := h.Crowd.AddFeedback(c.Context(), f); err != nil {
			return err
		}
		switch {
		case kind == bot.FeedbackFalseAlarm && latest.Kind == bot.EventWarning && c.IsCounsellor() && latest.Detail != "":
			if err := h.Crowd.Mute(c.Context(), c.Group.ID, latest.Detail, now.Add(muteFor)); err != nil {
				return err
			}
			return c.Reply(fmt.Sprintf("已记录误报并提交复核。本群 30 天内不再因“%s”主动提醒。", h.typeName(latest.Detail)))
		case kind == bot.FeedbackFalseAlarm:
			return c.Reply("谢谢，已记录误报，会交给工作人员复核。")
		case kind == bot.FeedbackMiss:
			return c.Reply("谢谢，已记录漏报，会交给工作人员复核。如果已经转账，请立即拨打 110。")
		case kind == bot.FeedbackUseless:
			return c.Reply("谢谢反馈，我们会改进。拿不准的可以拨打 96110 咨询。")
		}
		return c.Reply("谢谢反馈！")
	}
}

// typeName is the name of a scam type or pattern, or "" for one the
// knowledge base no longer has.
func (h *handler) typeName(id string) string {
	if n, ok := h.KB.(interface{ TypeName(string) string }); ok {
		if name := n.TypeName(id); name != "" {
			return name
		}
	}
	return "这类信息"
}

// known looks items up, and says in lines what residents should know:
// listed items first, then reported ones.
func (h *handler) known(c *bot.Context, items []bot.Item) (lines []string, listed bool, err error) {
	if h.Crowd == nil || len(items) == 0 {
		return nil, false, nil
	}
	sts, err := h.Crowd.Lookup(c.Context(), items, h.Now())
	if err != nil {
		return nil, false, err
	}
	for _, st := range sts {
		if st.Listed {
			listed = true
			line := fmt.Sprintf("🚫 %s %s 已被核实为诈骗（%s）", st.Kind.Label(), st.Value, h.typeName(st.ScamType))
			if st.Note != "" {
				line += "：" + st.Note
			}
			lines = append(lines, line+"。")
		}
	}
	for _, st := range sts {
		if !st.Listed && st.Reports > 0 {
			lines = append(lines, fmt.Sprintf("⚠️ %s %s 已有 %d 位群友举报，最近一次 %s；尚未核实。", st.Kind.Label(), st.Value, st.Reports,
				st.LastReport.In(shanghai).Format("1月2日")))
		}
	}
	return lines, listed, nil
}

// shanghai is where residents read dates.
var shanghai = time.FixedZone("CST", 8*3600)
