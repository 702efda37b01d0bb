// Package scamcheck answers "这是诈骗吗？": it checks a message someone
// received against the knowledge base, explains the verdict, and warns a
// group once when someone posts a message that is very likely a scam.
package scamcheck

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/media"
)

// Checker judges a message; *knowledge.Base is one.
type Checker interface {
	Check(text string) knowledge.Verdict
}

// SampleStore keeps checked messages of groups that opted in.
type SampleStore interface {
	CreateSample(ctx context.Context, groupID int64, level, text string) error
}

// Deps are what the feature needs.
type Deps struct {
	KB      Checker
	Groups  bot.GroupStore
	Events  bot.EventStore
	Samples SampleStore
	Now     func() time.Time
	// Crowd and History switch on 举报, feedback and the blocklist; nil
	// leaves them off.
	Crowd   bot.CrowdStore
	History bot.EventReader
	// Images reads pictures (a *media.Pool); nil answers pictures with a
	// request for the text.
	Images ImageReader
}

// Unrequested warnings are bounded so the bot helps rather than nags: one
// per scam type per group a day (a scam forwarded five times is warned
// about once) and at most one of any type per group an hour.
const (
	warnSameTypeEvery = 24 * time.Hour
	warnAnyEvery      = time.Hour
)

// classScams are the scam types a class group is warned about by default:
// a fake teacher collecting fees with a QR code is the scam of class groups,
// and over every test set (2,000 education posts, 2,500 ordinary messages,
// blind holdouts included) no message that was not one of them was warned
// as one (knowledge/testdata/golden/verdicts.tsv).
var classScams = map[string]bool{"laoshi_shoufei": true}

// minCheckRunes is the shortest text worth checking.
const minCheckRunes = 4

// questions are the ways people ask; a message containing one is a request
// to check the rest of it, e.g. a forwarded text followed by "这是诈骗吗？".
var questions = []string{"这是诈骗吗", "这是不是诈骗", "是诈骗吗", "是不是诈骗", "是骗子吗", "是不是骗子", "是骗局吗", "是不是骗局", "靠谱吗", "可信吗", "能信吗", "是真的吗",
	// Doubt put as a guess: "又是骗人的吧", "是诈骗吧".
	"是骗人的吧", "是骗人的吗", "是不是骗人的", "是骗子吧", "是诈骗吧", "是假的吧"}

// Register adds the scam check: the commands, the question matcher, "@bot
// + text", and the unrequested warning in groups that want it.
func Register(r *bot.Router, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &handler{Deps: d, forwarded: map[string]heldText{}}
	r.Use(h.remember)
	r.Handle(func(c *bot.Context) error { return h.check(c, c.Args()) }, "这是诈骗吗", "是诈骗吗", "是不是诈骗", "鉴定")
	r.Handle(h.lookup, "查询")
	r.Handle(bot.CounsellorOnly(func(c *bot.Context) error { return h.setWarn(c, true) }), "开启预警")
	r.Handle(bot.CounsellorOnly(func(c *bot.Context) error { return h.setWarn(c, false) }), "关闭预警")
	r.Handle(bot.CounsellorOnly(func(c *bot.Context) error { return h.setSamples(c, true) }), "开启样本收集")
	r.Handle(bot.CounsellorOnly(func(c *bot.Context) error { return h.setSamples(c, false) }), "关闭样本收集")
	r.HandleMatch("scam-image", func(c *bot.Context) bool {
		return c.Mentioned() && len(c.Message().Images()) > 0
	}, func(c *bot.Context) error { return h.check(c, stripQuestion(c.Args())) })
	r.HandleMatch("scam-voice-unheard", func(c *bot.Context) bool {
		return c.Mentioned() && c.Message().IsVoice() && strings.TrimSpace(c.Args()) == ""
	}, func(c *bot.Context) error {
		return c.Reply("这段语音没有识别出文字。请把收到的消息用文字发给我，或者截图发给我。")
	})
	r.HandleMatch("scam-image-warning", func(c *bot.Context) bool {
		return !c.Mentioned() && c.Group != nil && c.Group.WarnsScams() && len(c.Message().Images()) > 0
	}, h.warnImage)
	r.HandleMatch("scam-question", asksQuestion, func(c *bot.Context) error { return h.check(c, stripQuestion(c.Args())) })
	r.HandleMatch("scam-mention", func(c *bot.Context) bool {
		return c.Mentioned() && utf8.RuneCountInString(c.Args()) >= 6
	}, h.mentioned)
	r.HandleMatch("scam-warning", func(c *bot.Context) bool {
		return !c.Mentioned() && c.Group != nil && c.Group.WarnsScams() && utf8.RuneCountInString(c.Args()) >= 8
	}, h.warn)

	if d.Crowd != nil && d.History != nil {
		r.Handle(h.report, "举报")
		r.Handle(h.feedback(bot.FeedbackFalseAlarm), "误报")
		r.Handle(h.feedback(bot.FeedbackMiss), "漏报")
		r.Handle(h.feedback(bot.FeedbackUseful), "有用")
		r.Handle(h.feedback(bot.FeedbackUseless), "没用")
		r.Describe(bot.Usage{Say: "举报 + 可疑号码、链接或消息", Does: "举报给工作人员核实，核实后提醒大家"})
		r.Describe(bot.Usage{Say: "误报 / 漏报 / 有用 / 没用", Does: "对机器人刚才的判断提意见"})
	}
	r.Describe(bot.Usage{Say: "这是诈骗吗 + 收到的消息", Does: "帮你看看是不是诈骗、为什么、该怎么办"})
	r.Describe(bot.Usage{Say: "查询 + 网址或电话", Does: "看看链接、号码有没有风险"})
	r.Describe(bot.Usage{Say: "开启预警 / 关闭预警", Does: "群里有人发出高风险诈骗信息时，机器人是否主动提醒", Counsellor: true})
	r.Describe(bot.Usage{Say: "开启样本收集 / 关闭样本收集", Does: "同意保存查询过的消息，用于改进识别（默认关闭）", Counsellor: true})
}

type handler struct {
	Deps
	mu sync.Mutex
	// forwarded holds each sender's last message for forwardWindow, in
	// memory only, so that "这是诈骗吗？" sent right after a forwarded
	// message checks that message: people forward first, then ask.
	forwarded map[string]heldText
	floods    flood
}

// heldText is a message kept for a question that may follow it.
type heldText struct {
	text string
	at   time.Time
	// msg is set when the held message carries pictures: their references
	// (never the bytes) wait for the question too.
	msg *bot.Message
}

// A forwarded message waits this long for its question, and at most
// maxHeld senders' messages are held at once.
const (
	forwardWindow = 3 * time.Minute
	maxHeld       = 10000
)

func senderKey(m *bot.Message) string { return m.Channel + "\x00" + m.GroupID + "\x00" + m.SenderID }

// remember holds every message long enough to check that is not itself a
// question, replacing the sender's previous one.
func (h *handler) remember(next bot.HandlerFunc) bot.HandlerFunc {
	return func(c *bot.Context) error {
		m := c.Message()
		t := strings.TrimSpace(m.Text)
		pictures := len(m.Images()) > 0 && !hasQuestion(t)
		if pictures || utf8.RuneCountInString(t) >= minCheckRunes && !hasQuestion(t) {
			held := heldText{text: t}
			if pictures {
				cp := *m
				held.msg = &cp
			}
			now := h.Now()
			h.mu.Lock()
			if len(h.forwarded) >= maxHeld {
				for k, held := range h.forwarded {
					if now.Sub(held.at) > forwardWindow {
						delete(h.forwarded, k)
					}
				}
				if len(h.forwarded) >= maxHeld {
					clear(h.forwarded) // a flood: forget rather than grow
				}
			}
			held.at = now
			h.forwarded[senderKey(m)] = held
			h.mu.Unlock()
		}
		return next(c)
	}
}

// takeForwarded returns and forgets the sender's message held for a
// question, if it is recent enough.
func (h *handler) takeForwarded(m *bot.Message) (string, bool) {
	held, ok := h.takeHeld(m)
	return held.text, ok && held.text != ""
}

// takeHeld is takeForwarded with the held message's pictures.
func (h *handler) takeHeld(m *bot.Message) (heldText, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	held, ok := h.forwarded[senderKey(m)]
	delete(h.forwarded, senderKey(m))
	if !ok || h.Now().Sub(held.at) > forwardWindow {
		return heldText{}, false
	}
	return held, true
}

func asksQuestion(c *bot.Context) bool { return hasQuestion(c.Args()) }

func hasQuestion(t string) bool {
	for _, q := range questions {
		if strings.Contains(t, q) {
			return true
		}
	}
	return false
}

// stripQuestion removes the question from a message, leaving what to check.
func stripQuestion(t string) string {
	for _, q := range questions {
		t = strings.ReplaceAll(t, q, " ")
	}
	return strings.Trim(t, " \n\t？?。!！，,")
}

func (h *handler) check(c *bot.Context, text string) error {
	text = strings.TrimSpace(text)
	// Any check settles what the sender sent before: a held message is
	// checked now or never.
	prev, held := h.takeHeld(c.Message())
	if m := c.Message(); len(m.Images()) > 0 {
		return h.checkImages(c, m, text)
	}
	if held && utf8.RuneCountInString(text) < minCheckRunes {
		if prev.msg != nil {
			return h.checkImages(c, prev.msg, prev.text) // a picture first, asked after
		}
		text = prev.text // forwarded first, asked after
	}
	if utf8.RuneCountInString(text) < minCheckRunes {
		return bot.Errorf(bot.EINVALID, "请把收到的可疑内容一起发给我，例如：这是诈骗吗 恭喜您中奖，请先交税……")
	}
	prefix := ""
	if c.Message().IsVoice() {
		prefix = "🎤 这是一条语音，我听到的是：“" + excerpt(text, excerptRunes) + "”\n"
	}
	return h.answer(c, text, prefix, nil)
}

// answer judges text and replies, prefix first: what was read from a
// picture or heard in a voice clip. A risky QR code in a picture raises a
// quiet verdict to suspicious and says why.
func (h *handler) answer(c *bot.Context, text, prefix string, risky []media.QR) error {
	v := h.KB.Check(text)
	detail := ""
	if len(v.Types) > 0 {
		detail = v.Types[0].ID
	}
	known, listed, err := h.known(c, itemsOf(v))
	if err != nil {
		return err
	}
	level := bot.CheckLevel(v.Level.Code())
	if listed {
		level, detail = bot.CheckHigh, blocklisted
	}
	qrNote := ""
	if len(risky) > 0 {
		qrNote = qrWarning(risky)
		if level == bot.CheckNone {
			level, detail = bot.CheckSuspicious, "qr_"+string(risky[0].Kind)
		}
	}
	// The verdict is counted; the text is kept only where the group agreed.
	c.TallyCheck(level, detail)
	if c.Group != nil && c.Group.ShareSamples && h.Samples != nil {
		if err := h.Samples.CreateSample(c.Context(), c.Group.ID, string(level), text); err != nil {
			c.Logger().Error("keeping sample", "err", err)
		}
	}
	if listed {
		return c.Reply(prefix + strings.Join(known, "\n") + "\n这是诈骗：不要联系、不要转账、不要点链接。\n" + knowledge.Hotline)
	}
	body := v.Text()
	if qrNote != "" && v.Level == knowledge.LevelNone {
		body = qrNote + "\n" + knowledge.Hotline // "no sign of a scam" would contradict it
	} else if qrNote != "" {
		body = qrNote + "\n" + body
	}
	if len(known) > 0 {
		return c.Reply(prefix + body + "\n" + strings.Join(known, "\n"))
	}
	return c.Reply(prefix + body)
}

// blocklisted is the detail of a verdict made by the blocklist.
const blocklisted = "blocklist"

// chatRunes: an @-mention shorter than this with nothing risky in it is
// more likely chat ("今天天气怎么样") than a message to check.
const chatRunes = 12

// mentioned handles "@bot + text": a check, unless the text is plainly chat
// or a question for people ("明天社区打疫苗几点开始？"), which is answered
// kindly with what the bot does and not counted as a scam check.
func (h *handler) mentioned(c *bot.Context) error {
	text := c.Args()
	v := h.KB.Check(text)
	plain := v.Level == knowledge.LevelNone && len(v.Entities) == 0
	if plain && (utf8.RuneCountInString(text) < chatRunes || asksPeople(text)) {
		return c.Reply("这个问题我答不了，请问问群里的老师或网格员。我能帮你看看收到的消息是不是诈骗：发“这是诈骗吗 + 消息内容”；发送“帮助”可以看到我能做的事。")
	}
	return h.check(c, text)
}

// asksPeople reports whether text is a question, the kind neighbours ask
// each other rather than a message forwarded to be checked.
func asksPeople(text string) bool {
	t := strings.TrimSpace(text)
	for _, end := range []string{"？", "?", "吗", "呢", "么"} {
		if strings.HasSuffix(t, end) {
			return true
		}
	}
	return false
}

// lookup checks a link or a number.
func (h *handler) lookup(c *bot.Context) error {
	arg := strings.TrimSpace(c.Args())
	if arg == "" {
		return bot.Errorf(bot.EINVALID, "请在“查询”后面写上网址或电话号码，例如：查询 https://t.cn/xxxx")
	}
	if what, ok := knowledge.OfficialNumbers[strings.NewReplacer(" ", "", "-", "").Replace(arg)]; ok {
		c.TallyCheck(bot.CheckNone, "official")
		return c.Reply(arg + " 是" + what + "。\n" + knowledge.Hotline)
	}
	v := h.KB.Check(arg)
	items := itemsOf(v)
	if len(items) == 0 {
		if it, ok := bot.NormalizeItem("", arg); ok {
			items = []bot.Item{it} // a landline or a bare number the check does not name
		}
	}
	known, listed, err := h.known(c, items)
	if err != nil {
		return err
	}
	if len(v.Entities) == 0 && len(known) == 0 {
		if len(items) > 0 && h.Crowd != nil {
			c.TallyCheck(bot.CheckLookup, string(items[0].Kind))
			return c.Reply(items[0].String() + "：还没有人举报过，也不在核实名单上。号码本身查不出真假，请自己查官方电话核实。\n" + knowledge.Hotline)
		}
		return bot.Errorf(bot.EINVALID, "没有认出网址或电话号码，请检查后再发，例如：查询 13800138000")
	}
	lines := known
	if listed {
		c.TallyCheck(bot.CheckHigh, blocklisted)
		return c.Reply(strings.Join(append(lines, "不要联系、不要转账、不要点链接。", knowledge.Hotline), "\n"))
	}
	for _, e := range v.Entities {
		lines = append(lines, knowledge.EntityLabel(e.Kind)+"："+e.Value+"。"+entityAdvice(e.Kind))
	}
	lines = append(lines, "号码和链接本身查不出真假：不要用对方给的号码和链接核实，请自己查官方电话。", knowledge.Hotline)
	kind := string(items[0].Kind)
	if len(v.Entities) > 0 {
		kind = v.Entities[0].Kind
	}
	c.TallyCheck(bot.CheckLookup, kind)
	return c.Reply(strings.Join(lines, "\n"))
}

func entityAdvice(kind string) string {
	switch kind {
	case knowledge.EntityShortURL:
		return "短链接会隐藏真实网址，骗子常用，不要点。"
	case knowledge.EntityOddDomain:
		return "这种域名便宜、随用随弃，银行、法院、快递公司都不会用，不要点、不要填信息。"
	case knowledge.EntityURL:
		return "请核对是不是官方网站，不要在链接里填银行卡、密码和验证码。"
	case knowledge.EntityIntlPhone:
		return "境外来电冒充国内单位很常见，不要回拨。"
	case knowledge.EntityHotline:
		return "95、400 号码可以被冒充，请到官网核对。"
	case knowledge.EntityPhone:
		return "个人手机号不会是银行、公安、客服的办公电话。"
	case knowledge.EntityBankCard:
		return "不要向陌生人提供的卡号转账。"
	case knowledge.EntityQQ, knowledge.EntityWeChat:
		return "陌生人让你加 QQ、微信谈钱，要提高警惕。"
	}
	return ""
}

// warn speaks up once when someone posts a very likely scam without asking.
// Education (a police notice, a teacher's reminder, our own tips) never
// warns: the check decides the frame before the score counts.
func (h *handler) warn(c *bot.Context) error {
	if c.IsCounsellor() {
		return nil // the group's own teacher or grid worker forwards scams as examples
	}
	return h.warnVerdict(c, h.KB.Check(c.Args()))
}

// warnVerdict warns the group about v unless it is not due or was given
// recently enough.
func (h *handler) warnVerdict(c *bot.Context, v knowledge.Verdict) error {
	known, listed, err := h.known(c, itemsOf(v))
	if err != nil {
		return err
	}
	if !v.Warn && !listed {
		return nil
	}
	top := knowledge.TypeScore{ID: blocklisted, Name: "已核实的诈骗号码或链接"}
	if len(v.Types) > 0 && !listed {
		top = v.Types[0]
	}
	if c.Group.WarnsOnlyClassScams() && !listed && !classScams[top.ID] {
		return nil // a class group by default: only what targets its parents
	}
	now := h.Now()
	if h.Crowd != nil {
		muted, err := h.Crowd.Muted(c.Context(), c.Group.ID, top.ID, now)
		if err != nil {
			return err
		}
		if muted {
			return nil // the group's counsellor said this rule was wrong here
		}
	}
	for _, f := range []bot.EventFilter{
		{GroupID: c.Group.ID, Kind: bot.EventWarning, Since: now.Add(-warnAnyEvery)},
		{GroupID: c.Group.ID, Kind: bot.EventWarning, Detail: top.ID, Since: now.Add(-warnSameTypeEvery)},
	} {
		n, err := h.Events.CountEvents(c.Context(), f)
		if err != nil {
			return err
		}
		if n > 0 {
			return nil // warned recently enough
		}
	}
	c.Tally(bot.EventWarning, top.ID)
	if listed {
		return c.Reply("⚠️ 温馨提醒：刚才这条消息里有已核实的诈骗号码或链接。\n" + strings.Join(known, "\n") + "\n请大家不要联系、不要转账、不要点链接。" + knowledge.Hotline)
	}
	msg := "⚠️ 温馨提醒：刚才这条消息很像“" + top.Name + "”。"
	if v.Pattern != nil {
		msg += "\n判断依据：" + v.Pattern.Because + " → " + v.Pattern.Name
	}
	if len(top.Phrases) > 0 {
		msg += "\n可疑之处：“" + strings.Join(first(top.Phrases, 3), "”“") + "”"
	}
	if len(v.Dont) > 0 {
		msg += "\n❌ " + v.Dont[0]
	}
	msg += "\n请大家不要转账、不要点链接。" + knowledge.Hotline
	return c.Reply(msg)
}

// setWarn and setSamples are registered CounsellorOnly.
func (h *handler) setWarn(c *bot.Context, on bool) error {
	if _, err := h.Groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{WarnScams: &on}); err != nil {
		return err
	}
	if on {
		return c.Reply("已开启：群里有人发出高风险诈骗信息时，我会提醒大家（同类信息每天最多提醒一次）。")
	}
	return c.Reply("已关闭主动提醒。大家仍可以发“这是诈骗吗 + 内容”找我查询。")
}

func (h *handler) setSamples(c *bot.Context, on bool) error {
	if _, err := h.Groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{ShareSamples: &on}); err != nil {
		return err
	}
	if on {
		return c.Reply("已开启样本收集：本群之后查询的消息内容会被保存，只用于改进诈骗识别。可随时发送“关闭样本收集”。")
	}
	return c.Reply("已关闭样本收集：之后只记录查询结果，不保存消息内容。")
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
