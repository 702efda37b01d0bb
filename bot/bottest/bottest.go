// Package bottest runs features the way the bot does, for their package
// tests: a router with the standard middleware over a real SQLite store, a
// channel that records what the bot said, and a clock the test moves.
package bottest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/store"
	"fanzha/store/storetest"
)

// Harness is one bot with one store.
type Harness struct {
	T      testing.TB
	DB     *store.DB
	Router *bot.Router
	Chat   *Recorder
	now    time.Time
	seq    int
}

// New returns a harness on a fresh store; register adds the features under
// test to its router, after the standard middleware.
func New(t testing.TB, register func(h *Harness, r *bot.Router)) *Harness {
	t.Helper()
	h := &Harness{T: t, DB: storetest.Open(t, ""), Chat: &Recorder{}, now: time.Date(2026, 11, 24, 15, 0, 0, 0, Shanghai)}
	h.DB.Now = h.Now
	h.Router = bot.NewRouter(nil)
	h.Router.UseStandard(h.DB.Stores())
	register(h, h.Router)
	return h
}

// Shanghai is the campaign's time zone.
var Shanghai = time.FixedZone("CST", 8*3600)

// Now is the harness's clock.
func (h *Harness) Now() time.Time { return h.now }

// Advance moves the clock on.
func (h *Harness) Advance(d time.Duration) { h.now = h.now.Add(d) }

// Say sends text to group as sender, addressed to the bot, and returns the
// bot's replies to it.
func (h *Harness) Say(group, sender, text string) []string {
	h.T.Helper()
	return h.send(group, sender, text, true)
}

// Overhear sends text to group as sender without @-mentioning the bot.
func (h *Harness) Overhear(group, sender, text string) []string {
	h.T.Helper()
	return h.send(group, sender, text, false)
}

// Tap sends what a platform action means as text (a 👎 on a reply is
// "没用"), silently: it is handled, never answered.
func (h *Harness) Tap(group, sender, text string) []string {
	h.T.Helper()
	return h.dispatch(&bot.Message{Channel: "test", GroupID: group, GroupName: group, SenderID: sender, Text: text,
		MentionsBot: true, Silent: true})
}

func (h *Harness) send(group, sender, text string, mention bool) []string {
	h.T.Helper()
	return h.dispatch(&bot.Message{Channel: "test", GroupID: group, GroupName: group, SenderID: sender, SenderName: sender, Text: text,
		MentionsBot: mention})
}

func (h *Harness) dispatch(msg *bot.Message) []string {
	h.T.Helper()
	h.seq++
	before := len(h.Chat.Replies())
	msg.PlatformMsgID, msg.Time = fmt.Sprint("m", h.seq), h.now
	text := msg.Text
	if err := h.Router.Dispatch(context.Background(), h.Chat, msg); err != nil {
		h.T.Fatalf("dispatching %q: %v", text, err)
	}
	return h.Chat.Replies()[before:]
}

// Group returns the stored group of platform ID id.
func (h *Harness) Group(id string) *bot.Group {
	h.T.Helper()
	gs, err := h.DB.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: "test", PlatformID: id})
	if err != nil || len(gs) != 1 {
		h.T.Fatalf("group %s: %v", id, err)
	}
	return gs[0]
}

// Recorder is a channel that keeps what the bot said.
type Recorder struct {
	mu      sync.Mutex
	replies []string
	posts   []string
}

func (r *Recorder) Name() string { return "test" }

func (r *Recorder) Start(ctx context.Context, h bot.Handler) error { <-ctx.Done(); return nil }

func (r *Recorder) Post(ctx context.Context, group string, p bot.Post) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, p.Text)
	return nil
}

func (r *Recorder) Reply(ctx context.Context, m *bot.Message, rep bot.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, rep.Text)
	return nil
}

// Replies is everything the bot replied so far.
func (r *Recorder) Replies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.replies...)
}

// Posts is everything the bot posted on its own so far.
func (r *Recorder) Posts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.posts...)
}
