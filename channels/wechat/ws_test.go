package wechat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"fanzha/bot"
	"fanzha/store"
	"fanzha/store/storetest"
)

// fakeOpenWS plays WeCom's long-connection server on 127.0.0.1: it checks
// the subscription's bot_id and secret, answers pings, acknowledges
// replies and posts by req_id, pushes messages and events, and can go
// silent, drop the connection or displace it.
type fakeOpenWS struct {
	srv *httptest.Server

	mu       sync.Mutex
	conns    []*websocket.Conn // every connection, in order
	writeMu  []*sync.Mutex     // one writer at a time per connection
	subs     int               // successful subscriptions
	frames   []wsFrame         // what the bot sent, after subscribing
	mute     bool              // stop answering pings
	refuseOn string            // a cmd to refuse with an errcode
}

func newFakeOpenWS(t *testing.T) *fakeOpenWS {
	f := &fakeOpenWS{}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		writeMu := &sync.Mutex{}
		f.mu.Lock()
		f.conns = append(f.conns, conn)
		f.writeMu = append(f.writeMu, writeMu)
		f.mu.Unlock()
		send := func(v any) {
			writeMu.Lock()
			defer writeMu.Unlock()
			conn.WriteJSON(v)
		}
		for {
			var fr wsFrame
			if err := conn.ReadJSON(&fr); err != nil {
				return
			}
			ack := map[string]any{"headers": fr.Headers, "errcode": 0, "errmsg": "ok"}
			switch fr.Cmd {
			case "aibot_subscribe":
				var b struct{ BotID, Secret string }
				json.Unmarshal(fr.Body, &struct {
					BotID  *string `json:"bot_id"`
					Secret *string `json:"secret"`
				}{&b.BotID, &b.Secret})
				if b.BotID != "bot-1" || b.Secret != "right-secret" {
					send(map[string]any{"headers": fr.Headers, "errcode": 40058, "errmsg": "invalid bot_id or secret"})
					continue
				}
				f.mu.Lock()
				f.subs++
				f.mu.Unlock()
				send(ack)
				continue
			case "ping":
				f.mu.Lock()
				mute := f.mute
				f.mu.Unlock()
				if mute {
					continue
				}
			}
			f.mu.Lock()
			f.frames = append(f.frames, fr)
			refuse := f.refuseOn == fr.Cmd
			f.mu.Unlock()
			if refuse {
				ack["errcode"], ack["errmsg"] = 45009, "api freq out of limit"
			}
			send(ack)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenWS) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

// push sends a frame down the newest connection.
func (f *fakeOpenWS) push(t *testing.T, v any) {
	t.Helper()
	f.mu.Lock()
	conn, writeMu := f.conns[len(f.conns)-1], f.writeMu[len(f.conns)-1]
	f.mu.Unlock()
	writeMu.Lock()
	defer writeMu.Unlock()
	if err := conn.WriteJSON(v); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeOpenWS) state() (conns, subs int, frames []wsFrame) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns), f.subs, append([]wsFrame(nil), f.frames...)
}

func (f *fakeOpenWS) sent(cmd string) []wsFrame {
	_, _, frames := f.state()
	var out []wsFrame
	for _, fr := range frames {
		if fr.Cmd == cmd {
			out = append(out, fr)
		}
	}
	return out
}

// wsHarness runs the channel in long-connection mode with a real store
// and router.
type wsHarness struct {
	f      *fakeOpenWS
	ch     *Channel
	db     *store.DB
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	handled map[string]int
	seen    map[string]bot.Message
}

// fastWS shortens the long connection's timings for tests.
func fastWS(t *testing.T) {
	saved := []time.Duration{wsPingEvery, wsAckTimeout, wsBackoffFirst, wsBackoffMax, wsLeaseTTL}
	wsPingEvery, wsAckTimeout, wsBackoffFirst, wsBackoffMax, wsLeaseTTL = 50*time.Millisecond, time.Second, 20*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	t.Cleanup(func() {
		wsPingEvery, wsAckTimeout, wsBackoffFirst, wsBackoffMax, wsLeaseTTL = saved[0], saved[1], saved[2], saved[3], saved[4]
	})
}

func startWS(t *testing.T, f *fakeOpenWS, db *store.DB, secret string) *wsHarness {
	t.Helper()
	if db == nil {
		db = storetest.Open(t, "")
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ch, err := New(Config{BotID: "bot-1", BotSecret: secret, WSURL: f.url(), Leases: db.Leases()}, db.Inbox(), db.Groups(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h := &wsHarness{f: f, ch: ch, db: db, handled: map[string]int{}, seen: map[string]bot.Message{}, done: make(chan struct{})}
	r := bot.NewRouter(logger)
	r.UseStandard(db.Stores())
	r.HandleFallback(func(c *bot.Context) error {
		h.mu.Lock()
		h.handled[c.Message().PlatformMsgID]++
		h.seen[c.Message().PlatformMsgID] = *c.Message()
		h.mu.Unlock()
		return c.Reply("收到：" + c.Message().Text)
	})
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() { ch.Start(ctx, r); close(h.done) }()
	t.Cleanup(h.stop)
	return h
}

func (h *wsHarness) stop() {
	h.cancel()
	<-h.done
}

func (h *wsHarness) times(msgID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handled[msgID]
}

func wsMessage(reqID, msgID, text string) map[string]any {
	return map[string]any{"cmd": "aibot_msg_callback", "headers": map[string]string{"req_id": reqID},
		"body": map[string]any{"msgid": msgID, "aibotid": "bot-1", "chatid": "wrkGroup1", "chattype": "group",
			"from": map[string]string{"userid": "zhangsan"}, "msgtype": "text", "text": map[string]string{"content": "@反诈助手 " + text}}}
}

// TestLongConnectionMessageAndReply: the bot subscribes with its id and
// secret; a pushed message is handled once however often it comes, and
// its reply goes back under the message's req_id, as markdown in a
// finished stream; a post goes out as aibot_send_msg and is acknowledged;
// a refused post is an error the outbox retries.
func TestLongConnectionMessageAndReply(t *testing.T) {
	fastWS(t)
	f := newFakeOpenWS(t)
	h := startWS(t, f, nil, "right-secret")
	waitFor(t, "the subscription", func() bool { _, subs, _ := f.state(); return subs == 1 })

	f.push(t, wsMessage("req-cb-1", "msg-1", "这是诈骗吗 [点此]领取"))
	f.push(t, wsMessage("req-cb-1b", "msg-1", "这是诈骗吗 [点此]领取")) // the same message again
	waitFor(t, "the reply", func() bool { return len(f.sent("aibot_respond_msg")) == 1 })
	reply := f.sent("aibot_respond_msg")[0]
	var body struct {
		MsgType string `json:"msgtype"`
		Stream  struct {
			ID       string `json:"id"`
			Finish   bool   `json:"finish"`
			Content  string `json:"content"`
			Feedback struct {
				ID string `json:"id"`
			} `json:"feedback"`
		} `json:"stream"`
	}
	json.Unmarshal(reply.Body, &body)
	if reply.Headers.ReqID != "req-cb-1" || body.MsgType != "stream" || !body.Stream.Finish || body.Stream.ID == "" ||
		body.Stream.Content != "收到：这是诈骗吗 ［点此］领取" || body.Stream.Feedback.ID != "msg-1" {
		t.Fatalf("reply %s %s", reply.Headers.ReqID, reply.Body)
	}

	// A 👎 on that reply comes back as feedback_event: it is handled as the
	// resident's "没用", once, and not answered in the chat.
	fb := map[string]any{"cmd": "aibot_event_callback", "headers": map[string]string{"req_id": "ev-fb"},
		"body": map[string]any{"msgid": "ev-msg-1", "chatid": "wrkGroup1", "chattype": "group", "from": map[string]string{"userid": "zhangsan"},
			"msgtype": "event", "event": map[string]any{"eventtype": "feedback_event", "feedback_event": map[string]any{"id": "msg-1", "type": 2}}}}
	f.push(t, fb)
	f.push(t, fb)
	waitFor(t, "the feedback", func() bool { return h.times("feedback:ev-msg-1") == 1 })
	h.mu.Lock()
	got := h.seen["feedback:ev-msg-1"]
	h.mu.Unlock()
	if got.Text != "没用" || !got.Silent || got.GroupID != "wrkGroup1" {
		t.Fatalf("feedback became %+v", got)
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.times("msg-1"); n != 1 || h.times("feedback:ev-msg-1") != 1 {
		t.Fatalf("message handled %d times, feedback %d; want once each", n, h.times("feedback:ev-msg-1"))
	}
	if n := len(f.sent("aibot_respond_msg")); n != 1 {
		t.Fatalf("%d replies; the feedback must not be answered", n)
	}

	if err := h.ch.Post(context.Background(), "wrkGroup1", bot.Post{Kind: "tip", Text: "【防骗提示】陌生链接不要点"}); err != nil {
		t.Fatal(err)
	}
	posts := f.sent("aibot_send_msg")
	if len(posts) != 1 || !strings.Contains(string(posts[0].Body), `"chatid":"wrkGroup1"`) ||
		!strings.Contains(string(posts[0].Body), `"msgtype":"markdown"`) || !strings.Contains(string(posts[0].Body), "陌生链接不要点") {
		t.Fatalf("posts: %+v", posts)
	}
	f.mu.Lock()
	f.refuseOn = "aibot_send_msg"
	f.mu.Unlock()
	err := h.ch.Post(context.Background(), "wrkGroup1", bot.Post{Kind: "tip", Text: "第二条"})
	var pe *postError
	if err == nil || !errorsAs(err, &pe) || pe.code != 45009 {
		t.Fatalf("a refused post: %v; want errcode 45009", err)
	}
}

func errorsAs(err error, target **postError) bool {
	for ; err != nil; err = unwrap(err) {
		if p, ok := err.(*postError); ok {
			*target = p
			return true
		}
	}
	return false
}

func unwrap(err error) error {
	if u, ok := err.(interface{ Unwrap() error }); ok {
		return u.Unwrap()
	}
	return nil
}

// TestLongConnectionPingAndReconnect: two unanswered pings mean a dead
// connection, and the bot dials again and subscribes again; so it does
// when the server drops the connection.
func TestLongConnectionPingAndReconnect(t *testing.T) {
	fastWS(t)
	f := newFakeOpenWS(t)
	startWS(t, f, nil, "right-secret")
	waitFor(t, "pings", func() bool { return len(f.sent("ping")) >= 2 })
	f.mu.Lock()
	f.mute = true
	f.mu.Unlock()
	waitFor(t, "a new connection after the pings went unanswered", func() bool { conns, subs, _ := f.state(); return conns == 2 && subs == 2 })
	f.mu.Lock()
	f.mute = false
	f.conns[1].Close() // the server drops it
	f.mu.Unlock()
	waitFor(t, "a new connection after the drop", func() bool { conns, subs, _ := f.state(); return conns == 3 && subs == 3 })
}

// TestLongConnectionDisplacedAndWrongSecret: displaced by another
// connection of the same bot, the bot does not connect again; with a
// wrong secret it backs off instead of hammering the server.
func TestLongConnectionDisplacedAndWrongSecret(t *testing.T) {
	fastWS(t)
	f := newFakeOpenWS(t)
	startWS(t, f, nil, "right-secret")
	waitFor(t, "the subscription", func() bool { _, subs, _ := f.state(); return subs == 1 })
	f.push(t, map[string]any{"cmd": "aibot_event_callback", "headers": map[string]string{"req_id": "ev-1"},
		"body": map[string]any{"msgtype": "event", "event": map[string]string{"eventtype": "disconnected_event"}}})
	time.Sleep(500 * time.Millisecond) // ten back-off periods
	if conns, _, _ := f.state(); conns != 1 {
		t.Fatalf("%d connections after being displaced; want no new one", conns)
	}

	g := newFakeOpenWS(t)
	startWS(t, g, nil, "wrong-secret")
	time.Sleep(500 * time.Millisecond)
	conns, subs, _ := g.state()
	if subs != 0 || conns < 2 || conns > 10 {
		t.Fatalf("wrong secret: %d connections, %d subscriptions; want a few attempts with back-off, none subscribed", conns, subs)
	}
}

// TestOneReplicaHoldsTheConnection: two processes on one store, one bot:
// only the lease holder connects; when it stops, the other takes over.
func TestOneReplicaHoldsTheConnection(t *testing.T) {
	fastWS(t)
	f := newFakeOpenWS(t)
	db := storetest.Open(t, "")
	first := startWS(t, f, db, "right-secret")
	waitFor(t, "the first replica's subscription", func() bool { _, subs, _ := f.state(); return subs == 1 })
	startWS(t, f, db, "right-secret")
	time.Sleep(400 * time.Millisecond)
	if conns, _, _ := f.state(); conns != 1 {
		t.Fatalf("%d connections with two replicas; want one", conns)
	}
	first.stop()
	waitFor(t, "the second replica to take over", func() bool { conns, subs, _ := f.state(); return conns == 2 && subs == 2 })
}

// TestLongConnectionPicture: a picture pushed with its own aeskey is
// downloaded and decrypted with that key, not the bot's.
func TestLongConnectionPicture(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	img := []byte("\x89PNG\r\n\x1a\nthe picture itself")
	full := base64.StdEncoding.EncodeToString(key) // as the message carries it, padded
	ct := sealPicture(t, strings.TrimSuffix(full, "="), img)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(ct) }))
	t.Cleanup(files.Close)
	ch, err := New(Config{BotID: "bot-1", BotSecret: "s"}, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cb := callback{MsgID: "m", ChatType: "single", MsgType: "image"}
	cb.Image.URL, cb.Image.AESKey = files.URL+"/pic?x=1", full
	msg := ch.toMessage(&cb)
	got, err := ch.FetchMedia(context.Background(), msg, msg.Images()[0], 1<<20)
	if err != nil || string(got) != string(img) {
		t.Fatalf("fetched %q, %v", got, err)
	}
	if _, err := ch.FetchMedia(context.Background(), &bot.Message{}, bot.Media{Kind: bot.MediaImage, Ref: files.URL + "/pic#aeskey=" +
		base64.StdEncoding.EncodeToString([]byte("another key, 32 bytes long......"))}, 1<<20); err == nil {
		t.Fatal("a picture decrypted with the wrong key")
	}
}

// TestLongConnectionCards: a post that asks for one of a few answers goes
// out as a button card; a tap comes back as the answer a resident would
// have typed, silently, once however often WeCom delivers it.
func TestLongConnectionCards(t *testing.T) {
	fastWS(t)
	f := newFakeOpenWS(t)
	h := startWS(t, f, nil, "right-secret")
	waitFor(t, "the subscription", func() bool { _, subs, _ := f.state(); return subs == 1 })
	q := bot.Post{Kind: bot.PostQuizQuestion, Text: "【有奖问答 第1/3题】陌生人让你下载App共享屏幕，怎么办？\nA. 照做\nB. 挂断并核实", Choices: []string{"A", "B"}}
	if err := h.ch.Post(context.Background(), "wrkGroup1", q); err != nil {
		t.Fatal(err)
	}
	posts := f.sent("aibot_send_msg")
	if len(posts) != 1 {
		t.Fatalf("%d posts", len(posts))
	}
	var body struct {
		ChatID  string `json:"chatid"`
		MsgType string `json:"msgtype"`
		Card    struct {
			CardType string `json:"card_type"`
			TaskID   string `json:"task_id"`
			Title    struct {
				Title string `json:"title"`
			} `json:"main_title"`
			Text    string `json:"sub_title_text"`
			Buttons []struct {
				Text, Key string
			} `json:"button_list"`
		} `json:"template_card"`
	}
	json.Unmarshal(posts[0].Body, &body)
	if body.MsgType != "template_card" || body.Card.CardType != "button_interaction" || body.Card.TaskID == "" ||
		body.Card.Title.Title != "【有奖问答 第1/3题】陌生人让你下载App共享屏幕，怎么办？" || !strings.Contains(body.Card.Text, "B. 挂断并核实") ||
		len(body.Card.Buttons) != 2 || body.Card.Buttons[1].Text != "B" || body.Card.Buttons[1].Key != "fz:B" {
		t.Fatalf("card: %s", posts[0].Body)
	}

	tap := map[string]any{"cmd": "aibot_event_callback", "headers": map[string]string{"req_id": "ev-card"},
		"body": map[string]any{"msgid": "ev-tap-1", "chatid": "wrkGroup1", "chattype": "group", "from": map[string]string{"userid": "lisi"},
			"msgtype": "event", "event": map[string]any{"eventtype": "template_card_event",
				"template_card_event": map[string]any{"card_type": "button_interaction", "event_key": "fz:B", "task_id": body.Card.TaskID}}}}
	f.push(t, tap)
	f.push(t, tap) // delivered again
	waitFor(t, "the tap", func() bool { return h.times("card:ev-tap-1") == 1 })
	time.Sleep(100 * time.Millisecond)
	h.mu.Lock()
	got, n := h.seen["card:ev-tap-1"], h.handled["card:ev-tap-1"]
	h.mu.Unlock()
	if n != 1 || got.Text != "B" || !got.Silent || !got.MentionsBot || got.GroupID != "wrkGroup1" {
		t.Fatalf("tap became %+v, handled %d times", got, n)
	}
	if len(f.sent("aibot_respond_msg")) != 0 {
		t.Fatal("a tap was answered in the chat")
	}

	// WeCom's 1,000 posts an hour per chat: the next is refused as a
	// frequency limit, which the outbox retries later.
	h.ch.hourly.mu.Lock()
	h.ch.hourly.hour, h.ch.hourly.count = h.ch.Now().Truncate(time.Hour), map[string]int{"wrkGroup1": perChatHour}
	h.ch.hourly.mu.Unlock()
	var pe *postError
	if err := h.ch.Post(context.Background(), "wrkGroup1", bot.Post{Kind: "tip", Text: "提示"}); !errorsAs(err, &pe) || pe.code != errFrequencyLimit {
		t.Fatalf("post 1,001 in the hour: %v", err)
	}
	h.ch.hourly.mu.Lock()
	h.ch.hourly.count = map[string]int{}
	h.ch.hourly.mu.Unlock()

	// A post with no choices, or too many for a card, stays markdown.
	if err := h.ch.Post(context.Background(), "wrkGroup1", bot.Post{Kind: "tip", Text: "提示"}); err != nil {
		t.Fatal(err)
	}
	if posts := f.sent("aibot_send_msg"); !strings.Contains(string(posts[1].Body), `"msgtype":"markdown"`) {
		t.Fatalf("a tip: %s", posts[1].Body)
	}
}
