package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"fanzha/bot"
)

// recorder is a channel that keeps what the bot said.
type recorder struct {
	mu      sync.Mutex
	replies []string
	posts   []string
}

func (r *recorder) Name() string                                   { return "test" }
func (r *recorder) Start(ctx context.Context, h bot.Handler) error { <-ctx.Done(); return nil }
func (r *recorder) Post(ctx context.Context, g string, p bot.Post) error {
	r.add(&r.posts, p.Text)
	return nil
}
func (r *recorder) Reply(ctx context.Context, m *bot.Message, rep bot.Reply) error {
	r.add(&r.replies, rep.Text)
	return nil
}
func (r *recorder) add(to *[]string, s string) { r.mu.Lock(); *to = append(*to, s); r.mu.Unlock() }

func msg(text string) *bot.Message {
	return &bot.Message{Channel: "test", GroupID: "g", SenderID: "u", Text: text, MentionsBot: true, PlatformMsgID: text}
}

func TestRouterCommands(t *testing.T) {
	r := bot.NewRouter(nil)
	var got []string
	for _, name := range []string{"绑定", "解绑", "help", "开始答题", "开始"} {
		r.Handle(func(c *bot.Context) error { got = append(got, c.Command()+"|"+c.Args()); return nil }, name)
	}
	r.HandleFallback(func(c *bot.Context) error { got = append(got, "fallback|"+c.Args()); return nil })
	tests := []struct{ text, want string }{
		{"绑定 幸福社区", "绑定|幸福社区"},
		{"绑定幸福社区", "绑定|幸福社区"},
		{"  绑定：幸福社区 ", "绑定|幸福社区"},
		{"/help", "help|"},
		{"HELP me", "help|me"},
		{"helpful", "fallback|helpful"},
		{"开始答题", "开始答题|"}, // longest command wins
		{"开始 3", "开始|3"},
		{"你好", "fallback|你好"},
	}
	for _, tt := range tests {
		got = nil
		if err := r.Dispatch(context.Background(), &recorder{}, msg(tt.text)); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%q routed to %v; want %q", tt.text, got, tt.want)
		}
	}
}

func TestRouterMatchersBeforeFallback(t *testing.T) {
	r := bot.NewRouter(nil)
	var got string
	r.HandleMatch("answer", func(c *bot.Context) bool { return c.Args() == "A" }, func(c *bot.Context) error { got = "answer"; return nil })
	r.HandleFallback(func(c *bot.Context) error { got = "fallback"; return nil })
	r.Dispatch(context.Background(), &recorder{}, msg("A"))
	if got != "answer" {
		t.Fatalf("A went to %s", got)
	}
	r.Dispatch(context.Background(), &recorder{}, msg("B"))
	if got != "fallback" {
		t.Fatalf("B went to %s", got)
	}
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	r := bot.NewRouter(nil)
	h := func(c *bot.Context) error { return nil }
	r.Handle(h, "帮助")
	defer func() {
		if recover() == nil {
			t.Fatal("registering 帮助 twice did not panic")
		}
	}()
	r.Handle(h, "帮助")
}

func TestRecoverRepliesPolitely(t *testing.T) {
	r := bot.NewRouter(nil)
	r.Use(bot.Recover(), bot.ReplyErrors())
	r.Handle(func(c *bot.Context) error { panic("boom") }, "炸")
	rec := &recorder{}
	err := r.Dispatch(context.Background(), rec, msg("炸"))
	if bot.ErrorCode(err) != bot.EINTERNAL {
		t.Fatalf("err = %v; want internal", err)
	}
	if len(rec.replies) != 1 || !strings.Contains(rec.replies[0], "抱歉") {
		t.Fatalf("replies = %q; want one apology", rec.replies)
	}
}

func TestValidate(t *testing.T) {
	r := bot.NewRouter(nil)
	r.Use(bot.Validate(100, nil))
	handled := 0
	r.HandleFallback(func(c *bot.Context) error { handled++; return nil })
	tests := []struct {
		text, code string
		replied    bool
	}{
		{"", bot.EEMPTY, false},
		{"   \n ", bot.EEMPTY, false},
		{strings.Repeat("骗", 40), bot.ETOOLARGE, true},
		{"ab\xffcd", bot.EBADTEXT, true},
		{"好的", "", false},
	}
	for _, tt := range tests {
		rec := &recorder{}
		err := r.Dispatch(context.Background(), rec, msg(tt.text))
		if bot.ErrorCode(err) != tt.code {
			t.Errorf("%q: code %q; want %q", tt.text, bot.ErrorCode(err), tt.code)
		}
		if (len(rec.replies) > 0) != tt.replied {
			t.Errorf("%q: replies %q", tt.text, rec.replies)
		}
	}
	if handled != 1 {
		t.Fatalf("handler ran %d times; want only for the valid message", handled)
	}
}

// memInbox is an in-memory bot.Inbox for the middleware test.
type memInbox struct {
	seen     map[string]*bot.Message
	done     map[string]bool
	events   []bot.Event // written with the done mark
	crashing bool        // the next Done fails before it writes anything, as a crash would
}

func (m *memInbox) Accept(ctx context.Context, msg *bot.Message) error {
	if _, ok := m.seen[msg.Key()]; ok {
		return bot.Errorf(bot.EDUPLICATE, "dup")
	}
	m.seen[msg.Key()] = msg
	return nil
}
func (m *memInbox) Done(ctx context.Context, msg *bot.Message, events []bot.Event) error {
	if m.crashing {
		m.crashing = false
		return errors.New("crashed before commit")
	}
	m.done[msg.Key()] = true
	m.events = append(m.events, events...)
	return nil
}
func (m *memInbox) Pending(ctx context.Context, ch string) ([]*bot.Message, error) {
	var out []*bot.Message
	for k, v := range m.seen {
		if !m.done[k] {
			out = append(out, v)
		}
	}
	return out, nil
}

func TestDedupeAndReplay(t *testing.T) {
	in := &memInbox{seen: map[string]*bot.Message{}, done: map[string]bool{}}
	r := bot.NewRouter(nil)
	r.Use(bot.Dedupe(in))
	calls := map[string]int{}
	fail := true
	r.HandleFallback(func(c *bot.Context) error {
		calls[c.Message().Text]++
		if c.Message().Text == "flaky" && fail {
			return errors.New("database is locked")
		}
		return nil
	})
	ch := &recorder{}
	ctx := context.Background()
	r.Dispatch(ctx, ch, msg("ok"))
	if err := r.Dispatch(ctx, ch, msg("ok")); bot.ErrorCode(err) != bot.EDUPLICATE {
		t.Fatalf("redelivery: %v", err)
	}
	r.Dispatch(ctx, ch, msg("flaky"))
	if calls["ok"] != 1 || calls["flaky"] != 1 {
		t.Fatalf("calls = %v", calls)
	}
	fail = false
	n, err := r.Replay(ctx, ch, in)
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want the one failed message", n, err)
	}
	if calls["flaky"] != 2 || !in.done["test:flaky"] {
		t.Fatalf("flaky not replayed to completion: calls %v done %v", calls, in.done)
	}
}

// TestCounsellorOnly: a counsellor-only command is not run for someone who
// did not bind the group; they are told who may use it.
func TestCounsellorOnly(t *testing.T) {
	r := bot.NewRouter(nil)
	ran := false
	r.Handle(bot.CounsellorOnly(func(c *bot.Context) error { ran = true; return nil }), "开始答题")
	rec := &recorder{}
	err := r.Dispatch(context.Background(), rec, msg("开始答题"))
	if ran {
		t.Fatal("a counsellor-only command ran for someone in an unbound group")
	}
	if bot.ErrorCode(err) != bot.ECONFLICT && !strings.Contains(strings.Join(rec.replies, ""), "绑定") {
		t.Fatalf("no explanation: err %v, replies %q", err, rec.replies)
	}
}

// TestRefusedMessageIsNotReplayed: a message the channel accepted into the
// inbox and the bot then refused (too long, empty) is marked done, so it is
// not replayed and refused again after every restart.
func TestRefusedMessageIsNotReplayed(t *testing.T) {
	in := &memInbox{seen: map[string]*bot.Message{}, done: map[string]bool{}}
	r := bot.NewRouter(nil)
	r.UseStandard(bot.Stores{Inbox: in})
	r.HandleFallback(func(c *bot.Context) error { t.Fatal("a refused message was handled"); return nil })
	for _, text := range []string{"", strings.Repeat("长", bot.MaxTextBytes)} {
		m := msg(text)
		m.PlatformMsgID = fmt.Sprint("refused-", len(text))
		if err := in.Accept(context.Background(), m); err != nil { // the channel accepts first
			t.Fatal(err)
		}
		r.Dispatch(bot.WithAccepted(context.Background()), &recorder{}, m)
	}
	if pending, _ := in.Pending(context.Background(), "test"); len(pending) != 0 {
		t.Fatalf("%d refused messages stay pending", len(pending))
	}
}

// noEvents is an EventStore the standard middleware must not use when it
// has an inbox: events go with the done mark.
type noEvents struct{ t *testing.T }

func (n noEvents) CreateEvent(ctx context.Context, e *bot.Event) error {
	n.t.Fatalf("event %s written apart from the done mark", e.Kind)
	return nil
}
func (n noEvents) CountEvents(ctx context.Context, f bot.EventFilter) (int, error) { return 0, nil }

// TestEventsCommitWithTheDoneMark: a message's events are written in the
// same step as its done mark, so a crash before that step and the replay
// after it count the message once.
func TestEventsCommitWithTheDoneMark(t *testing.T) {
	in := &memInbox{seen: map[string]*bot.Message{}, done: map[string]bool{}, crashing: true}
	r := bot.NewRouter(nil)
	r.Use(bot.Dedupe(in), bot.Tally(noEvents{t}))
	r.HandleFallback(func(c *bot.Context) error { c.TallyCheck(bot.CheckHigh, "shuadan"); return nil })
	m := msg("这是诈骗吗 刷单返利")
	if err := r.Dispatch(context.Background(), &recorder{}, m); err == nil {
		t.Fatal("the crash was not reported")
	}
	if len(in.events) != 0 {
		t.Fatalf("events written before the crash: %v", in.events)
	}
	if n, err := r.Replay(context.Background(), &recorder{}, in); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	if len(in.events) != 1 || in.events[0].Level != bot.CheckHigh {
		t.Fatalf("after crash and replay: %v; want one high scam check", in.events)
	}
}
