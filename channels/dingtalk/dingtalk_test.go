package dingtalk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/handlers/campaign"
	"fanzha/store"
	"fanzha/store/storetest"
)

func TestMain(m *testing.M) {
	// The SDK's logger is an unsynchronised global: set it once.
	SetSDKLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// harness runs the real SDK client, through the channel, against the fake,
// with a real store and router behind it.
type harness struct {
	f    *fakeDingTalk
	ch   *Channel
	db   *store.DB
	logs *syncBuf

	mu      sync.Mutex
	handled map[string]int         // msgId → times the handler ran
	seen    map[string]bot.Message // msgId → the message the handler saw
}

func start(t *testing.T, secret string, keepAlive time.Duration) *harness {
	t.Helper()
	return startRouted(t, secret, keepAlive, nil, nil)
}

// startRouted is start with the features routes registers in place of the
// recording fallback.
func startRouted(t *testing.T, secret string, keepAlive time.Duration, routes func(r *bot.Router, db *store.DB), tweak func(*Config)) *harness {
	t.Helper()
	f := newFake(t)
	db := storetest.Open(t, "")
	var err error
	h := &harness{f: f, db: db, logs: &syncBuf{}, handled: map[string]int{}, seen: map[string]bot.Message{}}
	logger := slog.New(slog.NewTextHandler(h.logs, nil))
	cfg := Config{ClientID: "ding-app", ClientSecret: secret, RobotCode: "ding-robot", OpenAPIHost: f.srv.URL, KeepAlive: keepAlive}
	if tweak != nil {
		tweak(&cfg)
	}
	h.ch, err = New(cfg, db.Inbox(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h.ch.OnRemoved = func(ctx context.Context, groupID string) {
		gs, _ := db.Groups().FindGroups(ctx, bot.GroupFilter{Channel: Name, PlatformID: groupID})
		removed := true
		for _, g := range gs {
			db.Groups().UpdateGroup(ctx, g.ID, bot.GroupUpdate{Removed: &removed})
		}
	}
	r := bot.NewRouter(logger)
	r.UseStandard(db.Stores())
	if routes != nil {
		routes(r, db)
	} else {
		r.HandleFallback(func(c *bot.Context) error {
			h.mu.Lock()
			h.handled[c.Message().PlatformMsgID]++
			h.seen[c.Message().PlatformMsgID] = *c.Message()
			h.mu.Unlock()
			return c.Reply("收到：" + c.Message().Text)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.ch.Start(ctx, r)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

func (h *harness) ranTimes(msgID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handled[msgID]
}

func (h *harness) distinctHandled() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.handled)
}

func (h *harness) connected(t *testing.T, n int) {
	t.Helper()
	select {
	case got := <-h.f.connected:
		if got != n {
			t.Fatalf("gateway connection #%d; want #%d", got, n)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the client never made gateway connection #%d", n)
	}
}

func TestGroupMessageGetsReply(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	h.f.robotMessage("frame-1", "msg-1", "cid-group-1", "staff-42", "这是诈骗吗")
	waitFor(t, "the reply", func() bool { _, r, _ := h.f.snapshot(); return len(r) == 1 })
	_, replies, _ := h.f.snapshot()
	r := replies[0]
	if r["_webhook"] != "msg-1" || r["msgtype"] != "text" {
		t.Fatalf("reply went to %v as %v", r["_webhook"], r["msgtype"])
	}
	if text := r["text"].(map[string]any)["content"]; text != "收到：这是诈骗吗" {
		t.Fatalf("reply text %q (the leading space DingTalk sends must be trimmed)", text)
	}
	if at := fmt.Sprint(r["at"]); !strings.Contains(at, "staff-42") {
		t.Fatalf("the asker is not @-mentioned: %s", at)
	}
	waitFor(t, "the ACK", func() bool { h.f.mu.Lock(); defer h.f.mu.Unlock(); return h.f.acks["frame-1"] == 200 })
	// The group is known from its first @-mention, for later posts.
	gs, _ := h.db.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: Name, PlatformID: "cid-group-1"})
	if len(gs) != 1 || gs[0].Name != "幸福社区居民群" {
		t.Fatalf("group not stored: %+v", gs)
	}
}

func TestRedeliveredFrameProcessedOnce(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	h.f.robotMessage("frame-1", "msg-1", "cid-1", "staff-1", "帮助")
	waitFor(t, "the first message", func() bool { return h.ranTimes("msg-1") == 1 })
	// DingTalk delivers the same message again, in a new frame.
	h.f.robotMessage("frame-2", "msg-1", "cid-1", "staff-1", "帮助")
	waitFor(t, "both ACKs", func() bool { h.f.mu.Lock(); defer h.f.mu.Unlock(); return h.f.acks["frame-2"] == 200 })
	h.f.robotMessage("frame-3", "msg-2", "cid-1", "staff-1", "帮助")
	waitFor(t, "the next message", func() bool { return h.ranTimes("msg-2") == 1 })
	if n := h.ranTimes("msg-1"); n != 1 {
		t.Fatalf("redelivered message handled %d times", n)
	}
	if _, r, _ := h.f.snapshot(); len(r) != 2 {
		t.Fatalf("%d replies; want 2", len(r))
	}
}

// TestBurstOf2000Frames: v0.9.1 lost half the ACKs and corrupted the stream
// under this load; every frame must be ACKed and handled exactly once.
func TestBurstOf2000Frames(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	const n = 2000
	for i := 0; i < n; i++ {
		h.f.robotMessage(fmt.Sprintf("frame-%d", i), fmt.Sprintf("msg-%d", i), fmt.Sprintf("cid-%d", i%20), "staff-1", "帮助")
	}
	waitFor(t, "2000 ACKs", func() bool { a, _, _ := h.f.snapshot(); return a >= n })
	waitFor(t, "2000 messages handled", func() bool { return h.distinctHandled() == n })
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	for i := 0; i < n; i++ {
		if code := h.f.acks[fmt.Sprintf("frame-%d", i)]; code != 200 {
			t.Fatalf("frame %d ACKed with %d", i, code)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, times := range h.handled {
		if times != 1 {
			t.Fatalf("%s handled %d times", id, times)
		}
	}
}

// TestPingTimeoutAndDisconnectSurvived: the gateway stops answering pings,
// then later tells the client to disconnect. v0.9.1 crashed the process on
// the first. The client must reconnect each time and lose nothing.
func TestPingTimeoutAndDisconnectSurvived(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real keep-alive timeout and two reconnects")
	}
	h := start(t, "right-secret", 3*time.Second)
	h.connected(t, 1)
	h.f.robotMessage("f1", "before", "cid-1", "staff-1", "帮助")
	waitFor(t, "the first message", func() bool { return h.ranTimes("before") == 1 })
	h.f.deaf.Store(true) // pings go unanswered from now on
	h.connected(t, 2)
	h.f.robotMessage("f2", "after-ping-timeout", "cid-1", "staff-1", "帮助")
	waitFor(t, "a message on the new connection", func() bool { return h.ranTimes("after-ping-timeout") == 1 })

	h.f.frame("SYSTEM", "disconnect", "sys-1", map[string]string{"reason": "gateway restarting"})
	h.connected(t, 3)
	h.f.robotMessage("f3", "after-disconnect", "cid-1", "staff-1", "帮助")
	waitFor(t, "a message after the disconnect", func() bool { return h.ranTimes("after-disconnect") == 1 })
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.f.acks["sys-1"] != 200 {
		t.Fatalf("disconnect command not ACKed: %d", h.f.acks["sys-1"])
	}
}

func TestMalformedCallbackIsAckedAndIgnored(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	h.f.frame("CALLBACK", "/v1.0/im/bot/messages/get", "bad-1", map[string]any{"conversationId": "cid-1", "text": map[string]string{"content": "帮助"}}) // no msgId
	h.f.frame("CALLBACK", "/v1.0/im/bot/messages/get", "bad-2", "not an object")
	h.f.robotMessage("good", "msg-good", "cid-1", "staff-1", "帮助")
	waitFor(t, "the good message", func() bool { return h.ranTimes("msg-good") == 1 })
	waitFor(t, "ACKs for the bad frames", func() bool {
		h.f.mu.Lock()
		defer h.f.mu.Unlock()
		_, ok1 := h.f.acks["bad-1"]
		_, ok2 := h.f.acks["bad-2"]
		return ok1 && ok2
	})
	if n := h.distinctHandled(); n != 1 {
		t.Fatalf("%d messages handled; the malformed ones must not be", n)
	}
}

func TestWrongSecretBacksOffQuietly(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a retry")
	}
	h := start(t, "wrong-secret", 0)
	waitFor(t, "a second connection attempt", func() bool { h.f.mu.Lock(); defer h.f.mu.Unlock(); return h.f.opens >= 2 })
	logs := h.logs.String()
	if n := strings.Count(logs, "cannot connect to DingTalk"); n != 1 {
		t.Fatalf("%d error lines for 2 failed attempts; want exactly 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "client_secret") {
		t.Fatalf("the error does not say what to check:\n%s", logs)
	}
}

// sender sends the outbox through the DingTalk channel on a fake clock.
func (h *harness) sender(t *testing.T, now *time.Time) (*bot.Sender, *bot.Group) {
	t.Helper()
	h.ch.Now = func() time.Time { return *now }
	g, err := h.db.Groups().EnsureGroup(context.Background(), Name, "cid-tips", "东风村村民群")
	if err != nil {
		t.Fatal(err)
	}
	return &bot.Sender{Outbox: h.db.Outbox(), Channels: map[string]bot.Channel{Name: h.ch}, Limits: bot.NewPostLimiter(20, 0),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, g
}

func (h *harness) enqueue(t *testing.T, g *bot.Group, key, text string, due time.Time) {
	t.Helper()
	if _, err := h.db.Outbox().EnqueuePosts(context.Background(), []*bot.OutboxPost{{GroupID: g.ID, Kind: "tip", Key: key, Text: text, DueAt: due}}); err != nil {
		t.Fatal(err)
	}
}

func TestScheduledTipsThroughGroupSend(t *testing.T) {
	h := start(t, "right-secret", 0)
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	s, g := h.sender(t, &now)
	ctx := context.Background()

	h.enqueue(t, g, "tip:1", "【反诈提醒】刷单就是诈骗。", now)
	if n, err := s.Tick(ctx, now); err != nil || n != 1 {
		t.Fatalf("tick: %d, %v", n, err)
	}
	_, _, sends := h.f.snapshot()
	if len(sends) != 1 || sends[0].group != "cid-tips" || sends[0].robot != "ding-robot" || sends[0].token != "tok-1" || !strings.Contains(sends[0].text, "刷单") {
		t.Fatalf("group send: %+v", sends)
	}

	// Two hours later the token has expired: a new one is fetched first.
	now = now.Add(2 * time.Hour)
	h.enqueue(t, g, "tip:2", "【反诈提醒】验证码不给任何人。", now)
	s.Tick(ctx, now)
	_, _, sends = h.f.snapshot()
	if len(sends) != 2 || sends[1].token != "tok-2" {
		t.Fatalf("after expiry: %+v", sends)
	}

	// DingTalk throttles: the post waits and arrives once.
	h.f.mu.Lock()
	h.f.throttle = 2
	h.f.mu.Unlock()
	h.enqueue(t, g, "tip:3", "【反诈提醒】共享屏幕一律拒绝。", now)
	for i := 0; i < 30; i++ {
		now = now.Add(20 * time.Second)
		if _, err := s.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	_, _, sends = h.f.snapshot()
	count := 0
	for _, x := range sends {
		if strings.Contains(x.text, "共享屏幕") {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("throttled post arrived %d times; want 1", count)
	}
	posts, _ := h.db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID})
	if len(posts) != 3 || posts[2].Status != bot.PostSent || posts[2].Attempts != 3 {
		t.Fatalf("outbox: %+v", posts[len(posts)-1])
	}
}

func TestRobotRemovedMarksGroup(t *testing.T) {
	h := start(t, "right-secret", 0)
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	s, g := h.sender(t, &now)
	ctx := context.Background()
	h.f.mu.Lock()
	h.f.removed["cid-tips"] = true
	h.f.mu.Unlock()
	h.enqueue(t, g, "tip:1", "【反诈提醒】刷单就是诈骗。", now)
	s.Tick(ctx, now)
	failed, _ := h.db.Outbox().FindPosts(ctx, bot.PostFilter{Status: bot.PostFailed})
	if len(failed) != 1 || !strings.Contains(failed[0].LastError, "robotCode.notExsit") || failed[0].Attempts != 1 {
		t.Fatalf("a post to a group without the robot is not failed once, visibly: %+v", failed)
	}
	active, _ := h.db.Groups().FindGroups(ctx, bot.GroupFilter{Channel: Name, Active: true})
	if len(active) != 0 {
		t.Fatalf("group still active after robotCode.notExsit: %+v", active)
	}
}

// TestCampaignThroughGroupSend: a campaign planned for a bound DingTalk
// group reaches the fake DingTalk once, with how to answer.
func TestCampaignThroughGroupSend(t *testing.T) {
	h := start(t, "right-secret", 0)
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	s, g := h.sender(t, &now)
	ctx := context.Background()
	bound, err := h.db.Groups().BindGroup(ctx, g.ID, []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: "东风村"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &bot.Campaign{Kind: bot.CampaignNotice, Title: "防诈骗告知书", Text: "冒充客服退款诈骗高发。", Units: []int64{bound.OrgUnit.ID}}
	if err := bot.ValidateCampaign(c, now); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Campaigns().CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	p := &campaign.Planner{Campaigns: h.db.Campaigns(), Groups: h.db.Groups(), Units: h.db.Stats(), Outbox: h.db.Outbox(), Loc: time.UTC}
	for i := 0; i < 3; i++ {
		if _, err := p.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	_, _, sends := h.f.snapshot()
	if len(sends) != 1 || sends[0].group != "cid-tips" || !strings.Contains(sends[0].text, "【告知书】防诈骗告知书") || !strings.Contains(sends[0].text, "收到") {
		t.Fatalf("group sends: %+v", sends)
	}

	// Who read it, from DingTalk's read receipts, paged: counted once each,
	// however often asked, and kept pseudonymised.
	h.f.mu.Lock()
	h.f.readers = map[string][]string{"pq-1": {"staff-1", "staff-2", "staff-3", "staff-4", "staff-5"}}
	h.f.mu.Unlock()
	reads := &bot.ReadCollector{Store: h.db.Outbox(), Outbox: h.db.Outbox(), Channels: map[string]bot.Channel{Name: h.ch},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i, want := range []int{5, 0} {
		n, err := reads.Tick(ctx, now)
		if err != nil || n != want {
			t.Fatalf("collecting reads, round %d: %d new, %v; want %d", i, n, err, want)
		}
	}
	figs, err := h.db.Campaigns().CampaignFigures(ctx, c.ID)
	if err != nil || figs[g.ID] == nil || figs[g.ID].Reads != 5 {
		t.Fatalf("campaign figures: %+v, %v; want 5 reads", figs[g.ID], err)
	}
	if h.f.queries != 6 { // two rounds of three pages
		t.Errorf("%d queries; want 3 pages a round", h.f.queries)
	}
	var raw int
	h.db.QueryRowForTest(`SELECT count(*) FROM post_reads WHERE reader LIKE 'staff-%'`, &raw)
	if raw != 0 {
		t.Error("readers stored with their platform IDs")
	}

	// Cancelled the same day: the post is recalled; a day later it could
	// not be, and is not tried.
	if _, err := h.db.Campaigns().CancelCampaign(ctx, c.ID, now); err != nil {
		t.Fatal(err)
	}
	if n, err := reads.Recall(ctx, c.ID, now.Add(23*time.Hour)); err != nil || n != 1 {
		t.Fatalf("recall within a day: %d, %v", n, err)
	}
	if n, _ := reads.Recall(ctx, c.ID, now.Add(25*time.Hour)); n != 0 {
		t.Fatalf("recall after a day: %d groups", n)
	}
	if len(h.f.recalled) != 1 || h.f.recalled[0] != "pq-1" {
		t.Fatalf("recalled %v; want pq-1", h.f.recalled)
	}
}
