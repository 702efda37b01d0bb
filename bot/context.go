package bot

import (
	"context"
	"log/slog"
)

// Context is what a handler sees of one incoming message: the message, the
// group and member it came from, and a way to answer. Handlers never see the
// platform payload.
type Context struct {
	ctx     context.Context
	msg     *Message
	ch      Channel
	router  *Router
	args    string
	command string
	replies int
	events  []Event
	// eventsReady: the handler succeeded and Tally filled in the events'
	// group and member; deferEvents: Dedupe writes them with the done mark.
	eventsReady, deferEvents bool

	// Group is the group the message came from; nil in a 1:1 chat.
	Group *Group
	// Member is the pseudonymous sender.
	Member *Member
}

// Context returns the request's context.Context.
func (c *Context) Context() context.Context { return c.ctx }

// Message returns the incoming message.
func (c *Context) Message() *Message { return c.msg }

// Channel returns the channel the message came through.
func (c *Context) Channel() Channel { return c.ch }

// Command is the command word the router matched, "" for the fallback.
func (c *Context) Command() string { return c.command }

// Args is the text after the command word, trimmed.
func (c *Context) Args() string { return c.args }

// Logger returns the router's logger with the message's identifiers attached.
func (c *Context) Logger() *slog.Logger {
	return c.router.logger().With("channel", c.msg.Channel, "group", c.msg.GroupID, "msg", c.msg.PlatformMsgID)
}

// Reply answers the message in its conversation.
func (c *Context) Reply(text string) error {
	c.replies++
	if c.msg.Silent {
		return nil // a tap on a button or a thumb is not answered in the chat
	}
	return c.ch.Reply(c.ctx, c.msg, Reply{Text: text, AtSender: !c.msg.Direct})
}

// Replied reports whether a handler has answered yet.
func (c *Context) Replied() bool { return c.replies > 0 }

// Tally records that the sender took part, with kind such as "scam_check" or
// "quiz_answer". The event is written once the handler succeeds.
func (c *Context) Tally(kind EventKind, detail string) {
	c.events = append(c.events, Event{Kind: kind, Detail: detail, At: c.msg.Time})
}

// TallyCheck records a scam check with its outcome.
func (c *Context) TallyCheck(level CheckLevel, detail string) {
	c.events = append(c.events, Event{Kind: EventScamCheck, Level: level, Detail: detail, At: c.msg.Time})
}

// Mentioned reports whether the sender addressed the bot: an @-mention or a
// 1:1 chat. Only then does the bot answer things it did not understand.
func (c *Context) Mentioned() bool { return c.msg.MentionsBot || c.msg.Direct }

// IsCounsellor reports whether the sender is the counsellor who bound the
// group. Settings of a group are theirs to change.
func (c *Context) IsCounsellor() bool {
	return c.Group != nil && c.Group.BoundBy != 0 && c.Member != nil && c.Member.ID == c.Group.BoundBy
}

// RequireCounsellor returns a user-facing error unless the group is bound
// and the sender is the counsellor who bound it: group settings, quiz rounds
// and group figures are theirs.
func (c *Context) RequireCounsellor() error {
	if c.Group == nil || !c.Group.Bound() {
		return Errorf(ECONFLICT, "请先由老师或网格员发送“绑定 XX社区”绑定本群。")
	}
	if !c.IsCounsellor() {
		return Errorf(EFORBIDDEN, "只有绑定本群的老师或网格员可以这样做。")
	}
	return nil
}
