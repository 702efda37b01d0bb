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
		c.Tally("help", "")
		return c.Reply(Text(r.Usages()))
	}, "帮助", "help", "菜单", "功能")
	r.HandleFallback(func(c *bot.Context) error {
		if !c.Mentioned() {
			return nil // ordinary group chat is not for the bot
		}
		return c.Reply("抱歉，我没看懂这句话。发送“帮助”可以看到我能做的事。")
	})
}

// Text renders the help reply from the registered usages.
func Text(us []bot.Usage) string {
	var b strings.Builder
	b.WriteString("我是反诈助手，可以帮大家识破骗局：")
	var staff []bot.Usage
	for _, u := range us {
		if u.Counsellor {
			staff = append(staff, u)
			continue
		}
		b.WriteString("\n· " + u.Say + "：" + u.Does)
	}
	if len(staff) > 0 {
		b.WriteString("\n老师、网格员可用：")
		for _, u := range staff {
			b.WriteString("\n· " + u.Say + "：" + u.Does)
		}
	}
	b.WriteString("\n遇到可疑情况，请拨打 96110 咨询；已经被骗请立即报警 110。")
	return b.String()
}
