package knowledge

import (
	"fmt"
	"strings"
)

// entityLabels name entity kinds for people.
var entityLabels = map[string]string{
	EntityURL:         "链接",
	EntityOfficialURL: "官方网站链接（仍请核对网址）",
	EntityShortURL:    "短链接（看不到真实网址）",
	EntityOddDomain:   "可疑域名的链接",
	EntityExampleURL:  "举例用的网址（打了码，点不开）",
	EntityGovHotline:  "政府服务热线",
	EntityPhone:       "手机号",
	EntityHotline:     "客服热线号码（请到官网核对是否真实）",
	EntityIntlPhone:   "境外号码",
	EntityBankCard:    "银行卡号",
	EntityQQ:          "QQ号",
	EntityWeChat:      "微信号",
	EntityAmount:      "金额",
	EntityCode:        "验证码",
}

// EntityLabel is the Chinese name of an entity kind.
func EntityLabel(kind string) string { return entityLabels[kind] }

// riskyEntity marks entities worth pointing out even when no scam type
// matched.
func riskyEntity(kind string) bool {
	return kind == EntityShortURL || kind == EntityOddDomain || kind == EntityIntlPhone || kind == EntityCode
}

const (
	maxShownPhrases  = 5
	maxShownEntities = 3
)

// Text renders the verdict for a chat: at most ten short lines, readable on
// a phone, saying what it looks like, why, what to do, and whom to call. It
// never claims certainty either way.
func (v Verdict) Text() string {
	if v.Frame == FrameEducation {
		return v.educationText()
	}
	var lines []string
	switch v.Level {
	case LevelHigh:
		lines = append(lines, fmt.Sprintf("⚠️ 高风险：很像“%s”。", v.Types[0].Name))
	case LevelSuspicious:
		lines = append(lines, fmt.Sprintf("❓ 可疑：有“%s”的特征，请先核实再行动。", v.Types[0].Name))
	default:
		lines = append(lines, "没有发现明显的诈骗特征，但这不代表一定安全。")
	}
	if v.Pattern != nil && v.Level != LevelNone {
		lines = append(lines, "判断依据："+v.Pattern.Because+" → "+v.Pattern.Name)
	}
	if len(v.Phrases) > 0 {
		shown := first(v.Phrases, maxShownPhrases)
		lines = append(lines, "可疑之处：“"+strings.Join(shown, "”“")+"”")
	}
	var ents []string
	for _, e := range v.Entities {
		if len(ents) == maxShownEntities {
			break
		}
		if v.Level == LevelNone && !riskyEntity(e.Kind) {
			continue
		}
		if e.Kind == EntityCode {
			ents = append(ents, "提到了验证码")
			continue
		}
		ents = append(ents, EntityLabel(e.Kind)+" "+e.Value)
	}
	if len(ents) > 0 {
		lines = append(lines, "留意："+strings.Join(ents, "；"))
	}
	if v.Level == LevelNone {
		lines = append(lines, "请再想一想：对方是否要你转账、报验证码、下载 App 或共享屏幕？")
	}
	for _, d := range v.Do {
		lines = append(lines, "✅ "+d)
	}
	for _, d := range v.Dont {
		lines = append(lines, "❌ "+d)
	}
	if len(v.Types) > 1 && v.Level != LevelNone {
		var also []string
		for _, t := range v.Types[1:] {
			// The pattern is named in 判断依据 already, and the headline type
			// once is enough.
			if t.Score >= suspiciousScore && !t.Pattern && t.Name != v.Types[0].Name {
				also = append(also, t.Name)
			}
		}
		if len(also) > 0 {
			lines = append(lines, "也有这些特征："+strings.Join(also, "、"))
		}
	}
	lines = append(lines, Hotline)
	if len(lines) > 10 { // keep the hotline, drop detail
		lines = append(lines[:9], Hotline)
	}
	return strings.Join(lines, "\n")
}

// educationText answers an asked check on anti-fraud education: it says
// what the message is, and still points out a live link or account in it.
func (v Verdict) educationText() string {
	lines := []string{"📢 这条读起来是一条反诈提醒或宣传：讲的是骗子的手法，不是骗局本身。"}
	var live []string
	for _, e := range v.Entities {
		if liveEntity(e.Kind) && len(live) < maxShownEntities {
			live = append(live, EntityLabel(e.Kind)+" "+e.Value)
		}
	}
	if len(live) > 0 {
		lines = append(lines, "⚠️ 但里面有"+strings.Join(live, "；")+"。正规的反诈宣传不会让你点陌生链接、加陌生账号或转账，请先核实发布者。")
	}
	var numbers []string
	for _, e := range v.Entities {
		if (e.Kind == EntityPhone || e.Kind == EntityHotline || e.Kind == EntityIntlPhone) && !OfficialNumber(e.Value) && len(numbers) < maxShownEntities {
			numbers = append(numbers, e.Value)
		}
	}
	if len(numbers) > 0 {
		lines = append(lines, "里面提到的号码 "+strings.Join(numbers, "、")+" 不是 96110 或 110：打之前先确认是发布者本人或官方的号码。")
	}
	if len(v.Types) > 0 && !v.Types[0].Pattern {
		lines = append(lines, "它讲到的是“"+v.Types[0].Name+"”。")
	}
	for _, d := range v.Do {
		lines = append(lines, "✅ "+d)
	}
	lines = append(lines, Hotline)
	return strings.Join(lines, "\n")
}
