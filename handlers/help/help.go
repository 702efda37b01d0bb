// Package help answers "帮助" with what the bot can do, and anything
// addressed to the bot that nothing understood with a pointer to it.
package help

import (
	"strings"

	"fanzha/bot"
)

// Register adds 帮助/help and the fallback for messages nobody understood.
// Call it after every other feature, so the help lists all of them.
func Register(r *bot.Router) {
	r.Handle(func(c *bot.Context) error {
		c.Tally(bot.EventHelp, "")
		// Residents get their own commands; counsellor commands only to the
		// counsellor, where binding is the next step, or when asked for.
		staff := c.IsCounsellor() || c.Group == nil || !c.Group.Bound() || strings.Contains(c.Args(), "管理")
		return c.Reply(Text(r.Usages(), staff))
	}, "帮助", "help", "菜单", "功能")
	r.HandleFallback(func(c *bot.Context) error {
		if !c.Mentioned() {
			return nil // ordinary group chat is not for the bot
		}
		return c.Reply("抱歉，我没看懂这句话。发送“帮助”可以看到我能做的事。")
	})
}

// Text renders the help reply from the registered usages, with the
// counsellor commands if staff is set.
func Text(us []bot.Usage, staff bool) string {
	var b strings.Builder
	b.WriteString("我是反诈助手，可以帮大家识破骗局：")
	var counsellor []bot.Usage
	for _, u := range us {
		if u.Counsellor {
			counsellor = append(counsellor, u)
			continue
		}
		b.WriteString("\n· " + u.Say + "：" + u.Does)
	}
	switch {
	case len(counsellor) == 0:
	case staff:
		b.WriteString("\n老师、网格员可用：")
		for _, u := range counsellor {
			b.WriteString("\n· " + u.Say + "：" + u.Does)
		}
	default:
		b.WriteString("\n老师、网格员：发送“帮助 管理”查看管理命令。")
	}
	b.WriteString("\n遇到可疑情况，请拨打 96110 咨询；已经被骗请立即报警 110。")
	return b.String()
}
