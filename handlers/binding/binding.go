// Package binding lets a counsellor or grid worker attach a group to its
// village, community, school or class, so the group's figures count for it.
package binding

import (
	"context"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"fanzha/bot"
)

// Register adds 绑定 and 解绑.
func Register(r *bot.Router, groups bot.GroupStore) { RegisterWith(r, &Binding{Groups: groups}) }

// Counsellors tells whether a chat member is linked to a 老师/网格员 account
// an admin created: proof that they may bind groups.
type Counsellors interface {
	IsLinkedCounsellor(ctx context.Context, memberID int64) (bool, error)
}

// Binding is the feature with its checks.
type Binding struct {
	Groups bot.GroupStore
	// Counsellors, if set, is asked before anyone binds a group on a real
	// platform: only linked 老师/网格员 may, so a student cannot claim the
	// class group first. Nil: anyone may (tests).
	Counsellors Counsellors
	// Sandbox is the channel where anyone may bind, for the tour: the
	// playground, whose groups never count where a real channel runs.
	Sandbox string
}

// RegisterWith adds the commands of b.
func RegisterWith(r *bot.Router, b *Binding) {
	groups := b.Groups
	r.Handle(func(c *bot.Context) error {
		if err := b.mayBind(c); err != nil {
			return err
		}
		return bind(c, groups)
	}, "绑定")
	r.Handle(func(c *bot.Context) error { return unbind(c, groups) }, "解绑", "取消绑定")
	r.Describe(bot.Usage{Say: "绑定 XX社区（或 XX村、XX学校 X年级X班）", Does: "把本群登记到所属村居或班级", Counsellor: true})
	r.Describe(bot.Usage{Say: "解绑", Does: "取消本群的登记", Counsellor: true})
	r.Handle(func(c *bot.Context) error { return registerWebhook(c, groups) }, "绑定机器人")
	r.Describe(bot.Usage{Say: "绑定机器人 + 群机器人地址", Does: "企业微信群：登记群机器人，用来按时推送提示和答题", Counsellor: true})
}

// mayBind checks that the sender is a linked 老师/网格员 where that is asked.
func (b *Binding) mayBind(c *bot.Context) error {
	if b.Counsellors == nil || c.Message().Channel == b.Sandbox {
		return nil
	}
	ok := false
	if c.Member != nil {
		var err error
		if ok, err = b.Counsellors.IsLinkedCounsellor(c.Context(), c.Member.ID); err != nil {
			return err
		}
	}
	if !ok {
		return bot.Errorf(bot.EFORBIDDEN, "绑定群需要老师或网格员的账号：请向镇街（学校）管理员要一个关联码，先发送“关联账号 关联码”，再发送“绑定 XX社区”。")
	}
	return nil
}

// webhookKeyRe is a WeCom group robot key, alone or inside its webhook URL.
var webhookKeyRe = regexp.MustCompile(`(?:key=)?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})`)

// registerWebhook stores the group robot key a counsellor pastes. The key
// lets anyone post to the group, so it is never repeated back.
func registerWebhook(c *bot.Context, groups bot.GroupStore) error {
	if c.Message().Channel != "wechat" || c.Group == nil {
		return bot.Errorf(bot.EINVALID, "只有企业微信群需要登记群机器人。")
	}
	if !c.Group.Bound() {
		return bot.Errorf(bot.ECONFLICT, "请先发送“绑定 XX社区”绑定本群，再登记群机器人。")
	}
	if !c.IsCounsellor() {
		return bot.Errorf(bot.EFORBIDDEN, "只有绑定本群的老师或网格员可以登记群机器人。")
	}
	m := webhookKeyRe.FindStringSubmatch(c.Args())
	if m == nil {
		return bot.Errorf(bot.EINVALID, "没有认出群机器人地址。请在群设置 → 群机器人 → 添加机器人后，复制它的 Webhook 地址发给我：绑定机器人 地址")
	}
	key := strings.ToLower(m[1])
	if _, err := groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{WebhookKey: &key}); err != nil {
		return err
	}
	return c.Reply("已登记本群的群机器人，之后的反诈提示和答题会通过它发到群里。为安全起见，请不要把机器人地址转发给别人。")
}

// maxNameRunes bounds one org unit name.
const maxNameRunes = 32

// rank orders levels from the outermost; a path must go inward.
var rank = map[bot.OrgKind]int{bot.OrgDistrict: 0, bot.OrgTown: 1, bot.OrgVillage: 2, bot.OrgCommunity: 2, bot.OrgSchool: 2, bot.OrgClass: 3}

// ParsePath reads "XX镇 XX村" or "实验小学 三年级2班" into org units,
// outermost first.
func ParsePath(s string) ([]bot.OrgUnit, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '/' || r == '>' || r == '，' || r == ',' })
	if len(fields) == 0 {
		return nil, bot.Errorf(bot.EINVALID, "请在“绑定”后面写上村、社区、学校或班级名称，例如：绑定 幸福社区。")
	}
	if len(fields) > 4 {
		return nil, bot.Errorf(bot.EINVALID, "名称层级太多了，最多写到“镇 村”或“学校 班级”两三级即可。")
	}
	var path []bot.OrgUnit
	for i, f := range fields {
		if utf8.RuneCountInString(f) > maxNameRunes {
			return nil, bot.Errorf(bot.EINVALID, "名称“%s…”太长了，请不超过 %d 个字。", string([]rune(f)[:8]), maxNameRunes)
		}
		kind, ok := bot.OrgKindOfName(f)
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "没能识别“%s”是村、社区、学校还是班级。请用完整名称，以“村”“社区”“学校”“班”等结尾。", f)
		}
		if i > 0 && rank[kind] <= rank[path[i-1].Kind] {
			return nil, bot.Errorf(bot.EINVALID, "请按从大到小的顺序写，例如：绑定 实验小学 三年级2班。")
		}
		path = append(path, bot.OrgUnit{Kind: kind, Name: f})
	}
	if last := path[len(path)-1].Kind; last == bot.OrgDistrict || last == bot.OrgTown {
		return nil, bot.Errorf(bot.EINVALID, "群要绑定到具体的村、社区、学校或班级，例如：绑定 %s 幸福社区。", path[len(path)-1].Name)
	}
	return path, nil
}

func bind(c *bot.Context, groups bot.GroupStore) error {
	g := c.Group
	if g == nil {
		return bot.Errorf(bot.EINVALID, "绑定要在群里进行：请把我拉进群，再在群里发送“绑定 XX社区”。")
	}
	if g.Bound() && c.Member != nil && g.BoundBy != 0 && g.BoundBy != c.Member.ID {
		return bot.Errorf(bot.EFORBIDDEN, "本群已由其他老师或网格员绑定到“%s”。如需更改，请由原绑定人操作，或联系管理员。", g.OrgUnit.Name)
	}
	path, err := ParsePath(c.Args())
	if err != nil {
		return err
	}
	var by int64
	if c.Member != nil {
		by = c.Member.ID
	}
	g, err = groups.BindGroup(c.Context(), g.ID, path, by)
	if err != nil {
		return err
	}
	c.Group = g
	c.Tally(bot.EventBind, string(g.OrgUnit.Kind))
	names := make([]string, len(path))
	for i, u := range path {
		names[i] = u.Name
	}
	return c.Reply("好的，本群已绑定到“" + strings.Join(names, " ") + "”。之后本群的反诈提示、答题和参与情况都会计入这里。")
}

func unbind(c *bot.Context, groups bot.GroupStore) error {
	g := c.Group
	if g == nil || !g.Bound() {
		return bot.Errorf(bot.ECONFLICT, "本群还没有绑定，不需要解绑。")
	}
	if c.Member == nil || (g.BoundBy != 0 && g.BoundBy != c.Member.ID) {
		return bot.Errorf(bot.EFORBIDDEN, "只有绑定本群的老师或网格员才能解绑。")
	}
	if err := groups.UnbindGroup(c.Context(), g.ID); err != nil {
		return err
	}
	return c.Reply("已解除本群与“" + g.OrgUnit.Name + "”的绑定。需要时可以重新发送“绑定 XX社区”。")
}
