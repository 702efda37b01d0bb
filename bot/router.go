package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HandlerFunc handles one message. Errors with a code are shown to the user;
// others are logged and answered with a generic apology.
type HandlerFunc func(c *Context) error

// MiddlewareFunc wraps a handler with behaviour every message shares.
type MiddlewareFunc func(next HandlerFunc) HandlerFunc

type command struct {
	name string
	h    HandlerFunc
}

type matcher struct {
	name  string
	match func(c *Context) bool
	h     HandlerFunc
}

// Router dispatches messages to handlers: by command word first ("帮助",
// "绑定 …"), then by matchers in registration order (a quiz answer, a
// message that looks like a scam), then to the fallback.
type Router struct {
	// Logger receives errors and recovered panics; slog.Default if nil.
	Logger *slog.Logger

	commands   []command // sorted longest name first
	names      map[string]bool
	matchers   []matcher
	fallback   HandlerFunc
	middleware []MiddlewareFunc
	usage      []Usage
}

// Usage is one line of the help text: how to say it and what it does.
type Usage struct {
	Say  string // e.g. "这是诈骗吗 + 可疑内容"
	Does string // e.g. "帮你判断一条消息是不是诈骗"
	// Counsellor marks commands meant for counsellors and grid workers.
	Counsellor bool
}

// NewRouter returns an empty router.
func NewRouter(logger *slog.Logger) *Router {
	return &Router{Logger: logger, names: map[string]bool{}}
}

func (r *Router) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Use appends middleware; the first added runs outermost.
func (r *Router) Use(mw ...MiddlewareFunc) { r.middleware = append(r.middleware, mw...) }

// Handle registers h for each command word in names. Registering a word twice
// is a programming error and panics at start-up.
func (r *Router) Handle(h HandlerFunc, names ...string) {
	if len(names) == 0 {
		panic("bot: Handle needs at least one command name")
	}
	for _, n := range names {
		key := strings.ToLower(n)
		if r.names[key] {
			panic(fmt.Sprintf("bot: command %q registered twice", n))
		}
		r.names[key] = true
		r.commands = append(r.commands, command{name: key, h: h})
	}
	sort.SliceStable(r.commands, func(i, j int) bool { return len(r.commands[i].name) > len(r.commands[j].name) })
}

// HandleMatch registers h for messages no command claimed and for which
// match reports true. Matchers are tried in registration order.
func (r *Router) HandleMatch(name string, match func(c *Context) bool, h HandlerFunc) {
	for _, m := range r.matchers {
		if m.name == name {
			panic(fmt.Sprintf("bot: matcher %q registered twice", name))
		}
	}
	r.matchers = append(r.matchers, matcher{name: name, match: match, h: h})
}

// HandleFallback sets the handler for messages nothing else claimed.
func (r *Router) HandleFallback(h HandlerFunc) {
	if r.fallback != nil {
		panic("bot: fallback registered twice")
	}
	r.fallback = h
}

// Describe adds a line to the help text. Features call it when they
// register, so help lists exactly what this build can do.
func (r *Router) Describe(u Usage) { r.usage = append(r.usage, u) }

// Usages returns the help lines in registration order.
func (r *Router) Usages() []Usage { return append([]Usage(nil), r.usage...) }

// Dispatch runs msg through the middleware and to its handler. It
// implements Handler, so the router is what every channel is started with.
func (r *Router) Dispatch(ctx context.Context, ch Channel, msg *Message) error {
	c := &Context{ctx: ctx, msg: msg, ch: ch, router: r}
	h := r.route
	for i := len(r.middleware) - 1; i >= 0; i-- {
		h = r.middleware[i](h)
	}
	return h(c)
}

func (r *Router) route(c *Context) error {
	if name, args, ok := r.parse(c.msg.Text); ok {
		c.command, c.args = name.name, args
		return name.h(c)
	}
	c.args = strings.TrimSpace(c.msg.Text)
	for _, m := range r.matchers {
		if m.match(c) {
			return m.h(c)
		}
	}
	if r.fallback != nil {
		return r.fallback(c)
	}
	return nil
}

// parse finds the longest command word at the start of text. Chinese
// commands need no space after them ("绑定XX社区"); ASCII ones must end at a
// word boundary so "helpful" is not "help".
func (r *Router) parse(text string) (command, string, bool) {
	t := strings.TrimLeftFunc(text, isSep)
	t = strings.TrimPrefix(t, "/")
	lower := strings.ToLower(t)
	for _, cmd := range r.commands {
		if !strings.HasPrefix(lower, cmd.name) {
			continue
		}
		rest := t[len(cmd.name):]
		if last, _ := utf8.DecodeLastRuneInString(cmd.name); last < utf8.RuneSelf && isASCIIWord(last) {
			if next, _ := utf8.DecodeRuneInString(rest); next < utf8.RuneSelf && isASCIIWord(next) {
				continue
			}
		}
		return cmd, strings.TrimFunc(rest, isSep), true
	}
	return command{}, "", false
}

func isASCIIWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// isSep reports separators people type between a command and its argument.
func isSep(r rune) bool {
	return unicode.IsSpace(r) || r == ':' || r == '：' || r == ',' || r == '，' || r == '\u3000'
}
