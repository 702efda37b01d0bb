package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTextBytes is the largest message text the bot accepts. Scam messages
// people forward are short; anything larger is a paste accident or abuse.
const MaxTextBytes = 8 << 10

// MaxMedia is the most pictures one message may carry (a phone shares at
// most nine at once).
const MaxMedia = 9

// Recover turns a panic in a handler into a logged error and a polite reply,
// so one bad message never takes the bot down.
func Recover() MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					c.Logger().Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = Errorf(EINTERNAL, "handler panicked: %v", p)
					if c.Mentioned() || c.Command() != "" {
						_ = c.Reply(ErrorMessage(err))
					}
				}
			}()
			return next(c)
		}
	}
}

// Validate refuses messages with neither text nor media, invalid UTF-8 or text larger than
// max bytes, telling the sender why when they addressed the bot. A refused
// message the channel had already put into inbox is marked done there, so
// it is not replayed, and refused again, after every restart.
func Validate(max int, inbox Inbox) MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) error {
			var err error
			switch t := c.msg.Text; {
			case !utf8.ValidString(t):
				err = Errorf(EBADTEXT, "这条消息含有无法识别的字符，请重新输入文字后再发。")
			case len(t) > max:
				err = Errorf(ETOOLARGE, "消息太长了（超过 %d 字节）。请只粘贴可疑的那一段内容。", max)
			case len(c.msg.Media) > MaxMedia:
				err = Errorf(ETOOLARGE, "一次最多发 %d 张图片，请分开发送。", MaxMedia)
			case strings.TrimSpace(t) == "" && len(c.msg.Media) == 0:
				err = Errorf(EEMPTY, "消息是空的。可以发送“帮助”看看我能做什么。")
			case c.msg.PlatformMsgID == "":
				err = Errorf(EINVALID, "消息缺少编号，无法处理。")
			}
			if err != nil {
				c.Logger().Warn("message refused", "code", ErrorCode(err), "bytes", len(c.msg.Text))
				if c.Mentioned() && ErrorCode(err) != EEMPTY {
					_ = c.Reply(ErrorMessage(err))
				}
				if inbox != nil && c.ctx.Value(replayKey{}) != nil && c.msg.PlatformMsgID != "" {
					if derr := inbox.Done(c.ctx, c.msg, nil); derr != nil {
						return errors.Join(err, derr)
					}
				}
				return err
			}
			return next(c)
		}
	}
}

type replayKey struct{}

// WithAccepted marks ctx for a message the channel already put into the
// inbox itself, as channels that must acknowledge the platform quickly do:
// accept durably, acknowledge, then dispatch with this context.
func WithAccepted(ctx context.Context) context.Context {
	return context.WithValue(ctx, replayKey{}, true)
}

// Dedupe records each message in the inbox before handling it and refuses
// redeliveries, across restarts. Only a handler that finished, successfully
// or with an error shown to the user, marks the message done; a crash leaves
// it pending for Router.Replay.
func Dedupe(inbox Inbox) MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) error {
			if c.ctx.Value(replayKey{}) == nil {
				if err := inbox.Accept(c.ctx, c.msg); err != nil {
					if ErrorCode(err) == EDUPLICATE {
						c.Logger().Info("duplicate delivery ignored")
					}
					return err
				}
			}
			c.deferEvents = true
			err := next(c)
			if code := ErrorCode(err); code == EINTERNAL {
				return err // stays pending; Replay retries it after restart
			}
			var events []Event
			if c.eventsReady {
				events = c.events
			}
			if derr := inbox.Done(c.ctx, c.msg, events); derr != nil {
				return errors.Join(err, derr)
			}
			return err
		}
	}
}

// Replay handles the messages of ch that were accepted but not finished,
// typically because the process died. Call it once at start-up, before the
// channel starts receiving.
func (r *Router) Replay(ctx context.Context, ch Channel, inbox Inbox) (int, error) {
	msgs, err := inbox.Pending(ctx, ch.Name())
	if err != nil {
		return 0, err
	}
	rctx := WithAccepted(ctx)
	for _, m := range msgs {
		if err := r.Dispatch(rctx, ch, m); err != nil {
			r.logger().Error("replaying message", "key", m.Key(), "err", err)
		}
	}
	return len(msgs), nil
}

// Resolve fills Context.Group and Context.Member from the stores, creating
// them at first sight.
func Resolve(groups GroupStore, members MemberStore) MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) error {
			m := c.msg
			if m.Time.IsZero() {
				m.Time = time.Now()
			}
			if !m.Direct {
				if m.GroupID == "" {
					return Errorf(EINVALID, "消息缺少群编号，无法处理。")
				}
				g, err := groups.EnsureGroup(c.ctx, m.Channel, m.GroupID, m.GroupName)
				if err != nil {
					return fmt.Errorf("resolving group: %w", err)
				}
				c.Group = g
			}
			if m.SenderID != "" {
				mem, err := members.EnsureMember(c.ctx, m.Channel, m.SenderID, m.SenderName)
				if err != nil {
					return fmt.Errorf("resolving member: %w", err)
				}
				c.Member = mem
			}
			return next(c)
		}
	}
}

// Tally records the participation events a handler noted with
// Context.Tally, once the handler succeeded: with the message's done mark
// when Dedupe runs (one transaction), else at once.
func Tally(events EventStore) MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) error {
			if err := next(c); err != nil {
				return err
			}
			for i := range c.events {
				if c.Group != nil {
					c.events[i].GroupID = c.Group.ID
				}
				if c.Member != nil {
					c.events[i].MemberID = c.Member.ID
				}
			}
			c.eventsReady = true
			if c.deferEvents {
				return nil
			}
			for _, e := range c.events {
				if err := events.CreateEvent(c.ctx, &e); err != nil {
					return fmt.Errorf("recording %s event: %w", e.Kind, err)
				}
			}
			return nil
		}
	}
}

// ReplyErrors answers errors meant for the user and swallows them, so a
// "请告诉我要绑定的社区名" is a reply, not a failure. Internal errors get a
// generic apology and are passed on to be logged.
func ReplyErrors() MiddlewareFunc {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Context) error {
			err := next(c)
			if err == nil {
				return nil
			}
			if ErrorCode(err) == EINTERNAL {
				c.Logger().Error("handler failed", "err", err)
				if c.Mentioned() || c.Command() != "" {
					_ = c.Reply(ErrorMessage(err))
				}
				return err
			}
			return c.Reply(ErrorMessage(err))
		}
	}
}

// Stores are the services the standard middleware needs.
type Stores struct {
	Inbox   Inbox
	Groups  GroupStore
	Members MemberStore
	Events  EventStore
}

// UseStandard installs the middleware every message passes, in the order
// it must run: recover from panics, refuse bad input, dedupe through the
// inbox, resolve group and member, tally participation, reply with errors
// meant for the user.
func (r *Router) UseStandard(s Stores) {
	r.Use(Recover(), Validate(MaxTextBytes, s.Inbox), Dedupe(s.Inbox), Resolve(s.Groups, s.Members), Tally(s.Events), ReplyErrors())
}

// CounsellorOnly lets only the counsellor who bound the group use h; others
// are told who may (Context.RequireCounsellor).
func CounsellorOnly(h HandlerFunc) HandlerFunc {
	return func(c *Context) error {
		if err := c.RequireCounsellor(); err != nil {
			return err
		}
		return h(c)
	}
}
