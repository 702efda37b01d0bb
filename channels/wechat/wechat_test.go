package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"fanzha/bot"
	"fanzha/handlers/binding"
	"fanzha/handlers/campaign"
	"fanzha/store"
	"fanzha/store/storetest"
)

const (
	botToken = "fanzhaBotToken"
	botKey   = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
	oaToken  = "fanzhaOAToken"
	hookKey  = "693a91f6-7d1c-4bc4-97a0-0ec2a1fa5aaa"
)

// fakeWeCom is the platform side on 127.0.0.1: the qyapi endpoints the SDK
// calls (group robot webhook, gettoken, appchat), response_url, and the
// encrypted pictures 智能机器人 callbacks link to.
type fakeWeCom struct {
	srv *httptest.Server

	mu        sync.Mutex
	webhook   []string // texts posted through the group robot
	appchat   []string // "chatid|text" posted through appchat
	responses []string // texts answered through response_url
	throttle  int      // answer this many webhook posts with 45009 first
	tokens    int
	media     map[string][]byte // /media/{name} → the bytes served, as stored
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	f := &fakeWeCom{media: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/webhook/send", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text struct{ Content string } }
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.URL.Query().Get("key") != hookKey:
			fmt.Fprint(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
		case f.throttle > 0:
			f.throttle--
			fmt.Fprint(w, `{"errcode":45009,"errmsg":"api freq out of limit"}`)
		default:
			f.webhook = append(f.webhook, body.Text.Content)
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		}
	})
	mux.HandleFunc("GET /cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.tokens++
		n := f.tokens
		f.mu.Unlock()
		if r.URL.Query().Get("corpsecret") != "corp-secret" {
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
			return
		}
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":"wtok-%d","expires_in":7200}`, n)
	})
	mux.HandleFunc("POST /cgi-bin/appchat/send", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ChatID string
			Text   struct{ Content string }
		}
		json.NewDecoder(r.Body).Decode(&body)
		if !strings.HasPrefix(r.URL.Query().Get("access_token"), "wtok-") {
			fmt.Fprint(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
			return
		}
		f.mu.Lock()
		f.appchat = append(f.appchat, body.ChatID+"|"+body.Text.Content)
		f.mu.Unlock()
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	// response_url takes the documented types only, markdown and
	// template_card; a text reply is refused as the real server refuses it.
	mux.HandleFunc("POST /respond/{id}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			MsgType  string
			Markdown struct{ Content string }
		}
		json.NewDecoder(r.Body).Decode(&body)
		if body.MsgType != "markdown" && body.MsgType != "template_card" {
			fmt.Fprintf(w, `{"errcode":40008,"errmsg":"invalid message type %s"}`, body.MsgType)
			return
		}
		f.mu.Lock()
		f.responses = append(f.responses, body.Markdown.Content)
		f.mu.Unlock()
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	// A picture link: what is stored, sent as is. Files over 64 KiB are
	// streamed without a Content-Length. An unknown name is a 404.
	mux.HandleFunc("GET /media/{name}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		b, ok := f.media[r.PathValue("name")]
		f.mu.Unlock()
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if len(b) <= 64<<10 {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b)
			return
		}
		for len(b) > 0 {
			n := min(len(b), 16<<10)
			if _, err := w.Write(b[:n]); err != nil {
				return // the reader stopped reading
			}
			w.(http.Flusher).Flush()
			b = b[n:]
		}
	})
	f.srv = httptest.NewServer(mux)
	// The SDK's base URL is a constant; its documented hooks redirect it.
	// They are process globals: no t.Parallel in this package.
	old := util.DefaultHTTPClient
	util.DefaultHTTPClient = &http.Client{Timeout: 5 * time.Second}
	util.SetURIModifier(func(u string) string { return strings.Replace(u, "https://qyapi.weixin.qq.com", f.srv.URL, 1) })
	t.Cleanup(func() {
		util.SetURIModifier(func(u string) string { return u })
		util.DefaultHTTPClient = old
		f.srv.Close()
	})
	return f
}

func (f *fakeWeCom) snapshot() (webhook, appchat, responses []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.webhook...), append([]string(nil), f.appchat...), append([]string(nil), f.responses...)
}

type harness struct {
	f   *fakeWeCom
	ch  *Channel
	db  *store.DB
	web *httptest.Server
	now time.Time

	mu      sync.Mutex
	handled map[string]int
	seen    map[string]bot.Message // msgid → the message the handler saw
}

func start(t *testing.T) *harness {
	t.Helper()
	f := newFakeWeCom(t)
	db := storetest.Open(t, "")
	var err error
	h := &harness{f: f, db: db, handled: map[string]int{}, seen: map[string]bot.Message{}, now: time.Now()}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.ch, err = New(Config{BotToken: botToken, BotAESKey: botKey, CorpID: "ww-corp", CorpSecret: "corp-secret", AgentID: "1000002",
		OAAppID: "wx-oa", OAAppSecret: "oa-secret", OAToken: oaToken}, db.Inbox(), db.Groups(), logger)
	if err != nil {
		t.Fatal(err)
	}
	h.ch.Now = func() time.Time { return h.now }
	r := bot.NewRouter(logger)
	r.UseStandard(db.Stores())
	binding.Register(r, db.Groups())
	r.HandleFallback(func(c *bot.Context) error {
		h.mu.Lock()
		h.handled[c.Message().PlatformMsgID]++
		h.seen[c.Message().PlatformMsgID] = *c.Message()
		h.mu.Unlock()
		return c.Reply("收到：" + c.Message().Text)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.ch.Start(ctx, r); close(done) }()
	waitFor(t, "the channel to start", func() bool { h.ch.mu.Lock(); defer h.ch.mu.Unlock(); return h.ch.queue != nil })
	h.web = httptest.NewServer(h.ch.Handler())
	t.Cleanup(func() {
		h.web.Close()
		cancel()
		<-done
	})
	return h
}

func (h *harness) times(msgID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handled[msgID]
}

// callback builds a 智能机器人 callback exactly as WeCom does: the JSON
// message encrypted with the EncodingAESKey and an empty receive-id, then
// msg_signature over token, timestamp, nonce and the ciphertext.
func (h *harness) callback(t *testing.T, msg map[string]any, ts time.Time, nonce string) (query url.Values, body []byte) {
	t.Helper()
	plain, _ := json.Marshal(msg)
	enc, err := util.EncryptMsg([]byte("abcdefghijklmnop"), plain, "", botKey)
	if err != nil {
		t.Fatal(err)
	}
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	q := url.Values{"msg_signature": {util.Signature(botToken, timestamp, nonce, string(enc))}, "timestamp": {timestamp}, "nonce": {nonce}}
	body, _ = json.Marshal(map[string]string{"encrypt": string(enc)})
	return q, body
}

func (h *harness) post(t *testing.T, path string, q url.Values, body []byte) (int, string) {
	t.Helper()
	ctype := "application/json"
	if bytes.HasPrefix(body, []byte("<xml>")) {
		ctype = "text/xml" // what WeChat sends to an official account
	}
	resp, err := http.Post(h.web.URL+path+"?"+q.Encode(), ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) get(t *testing.T, path string, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(h.web.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func groupMessage(h *harness, msgID, user, text string) map[string]any {
	return map[string]any{"msgid": msgID, "aibotid": "aib-1", "chatid": "wrkGroup1", "chattype": "group",
		"from": map[string]string{"userid": user}, "response_url": h.f.srv.URL + "/respond/" + msgID,
		"msgtype": "text", "text": map[string]string{"content": "@反诈助手 " + text}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a speed assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestURLVerification(t *testing.T) {
	h := start(t)
	echo, _ := util.EncryptMsg([]byte("abcdefghijklmnop"), []byte("8730521947"), "", botKey)
	ts := strconv.FormatInt(h.now.Unix(), 10)
	q := url.Values{"msg_signature": {util.Signature(botToken, ts, "n1", string(echo))}, "timestamp": {ts},
		"nonce": {"n1"}, "echostr": {string(echo)}}
	resp, _ := http.Get(h.web.URL + "/wechat/bot?" + q.Encode())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "8730521947" {
		t.Fatalf("URL verification: %d %q", resp.StatusCode, b)
	}
	q.Set("msg_signature", strings.Repeat("0", 40))
	resp, _ = http.Get(h.web.URL + "/wechat/bot?" + q.Encode())
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged URL verification: %d", resp.StatusCode)
	}
	// A correctly signed but old verification is refused: timestamp=1.
	q = url.Values{"msg_signature": {util.Signature(botToken, "1", "n2", string(echo))}, "timestamp": {"1"}, "nonce": {"n2"}, "echostr": {string(echo)}}
	if status, _ := h.get(t, "/wechat/bot", q); status != http.StatusForbidden {
		t.Fatalf("a verification with timestamp=1: %d", status)
	}
}

func TestGroupMessageRepliedOnceThroughResponseURL(t *testing.T) {
	h := start(t)
	q, body := h.callback(t, groupMessage(h, "m1", "zhangsan", "这是诈骗吗 刷单返利"), h.now, "nonce-1")
	if status, _ := h.post(t, "/wechat/bot", q, body); status != 200 {
		t.Fatalf("callback: %d", status)
	}
	waitFor(t, "the reply", func() bool { _, _, r := h.f.snapshot(); return len(r) == 1 })
	if _, _, r := h.f.snapshot(); r[0] != "收到：这是诈骗吗 刷单返利" {
		t.Fatalf("reply %q: the @-mention must be stripped", r[0])
	}
	// Answered through response_url in a type WeCom accepts there, not
	// posted to the group as a fallback.
	if webhook, appchat, _ := h.f.snapshot(); len(webhook)+len(appchat) != 0 {
		t.Fatalf("reply fell back to a group post: %q %q", webhook, appchat)
	}
	gs, _ := h.db.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: Name, PlatformID: "wrkGroup1"})
	if len(gs) != 1 {
		t.Fatal("group not learned from its first message")
	}
}

func TestForgedStaleReplayedAndMalformed(t *testing.T) {
	h := start(t)
	good := func(id, nonce string) (url.Values, []byte) {
		return h.callback(t, groupMessage(h, id, "u1", "帮助"), h.now, nonce)
	}
	q, body := good("forged", "n-forged")
	q.Set("msg_signature", util.Signature("wrong-token", q.Get("timestamp"), q.Get("nonce"), "x"))
	if s, _ := h.post(t, "/wechat/bot", q, body); s != http.StatusForbidden {
		t.Errorf("forged: %d", s)
	}
	q, body = h.callback(t, groupMessage(h, "stale", "u1", "帮助"), h.now.Add(-10*time.Minute), "n-stale")
	if s, _ := h.post(t, "/wechat/bot", q, body); s != http.StatusForbidden {
		t.Errorf("stale: %d", s)
	}
	q, body = good("replay", "n-replay")
	if s, _ := h.post(t, "/wechat/bot", q, body); s != 200 {
		t.Fatalf("original: %d", s)
	}
	if s, _ := h.post(t, "/wechat/bot", q, body); s != http.StatusConflict {
		t.Errorf("replay: %d", s)
	}
	for name, b := range map[string][]byte{"not json": []byte("<xml/>"), "no encrypt": []byte(`{"x":1}`), "empty": nil} {
		q, _ := good("mal", "n-"+name)
		if s, _ := h.post(t, "/wechat/bot", q, b); s != http.StatusBadRequest {
			t.Errorf("%s: %d", name, s)
		}
	}
	// Signed correctly but not a robot message inside.
	enc, _ := util.EncryptMsg([]byte("abcdefghijklmnop"), []byte("not json"), "", botKey)
	ts := strconv.FormatInt(h.now.Unix(), 10)
	q = url.Values{"msg_signature": {util.Signature(botToken, ts, "n-inner", string(enc))}, "timestamp": {ts}, "nonce": {"n-inner"}}
	b, _ := json.Marshal(map[string]string{"encrypt": string(enc)})
	if s, _ := h.post(t, "/wechat/bot", q, b); s != http.StatusBadRequest {
		t.Errorf("bad inner message: %d", s)
	}
	waitFor(t, "the original message", func() bool { return h.times("replay") == 1 })
	for _, id := range []string{"forged", "stale", "mal"} {
		if h.times(id) != 0 {
			t.Errorf("%s was processed", id)
		}
	}
	// The same message delivered again by WeCom (new nonce): handled once.
	q, body = good("replay", "n-again")
	h.post(t, "/wechat/bot", q, body)
	q, body = good("after", "n-after")
	h.post(t, "/wechat/bot", q, body)
	waitFor(t, "a later message", func() bool { return h.times("after") == 1 })
	if n := h.times("replay"); n != 1 {
		t.Fatalf("redelivered message handled %d times", n)
	}
}

func (h *harness) bindGroup(t *testing.T) *bot.Group {
	t.Helper()
	for i, text := range []string{"绑定 幸福社区", "绑定机器人 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + hookKey} {
		id := fmt.Sprintf("setup-%d", i)
		q, body := h.callback(t, groupMessage(h, id, "wanglaoshi", text), h.now, "n-"+id)
		h.post(t, "/wechat/bot", q, body)
		waitFor(t, "setup reply", func() bool { _, _, r := h.f.snapshot(); return len(r) == i+1 })
	}
	_, _, r := h.f.snapshot()
	if strings.Contains(r[1], hookKey) || !strings.Contains(r[1], "已登记") {
		t.Fatalf("绑定机器人 reply: %q (the key must never be echoed)", r[1])
	}
	gs, _ := h.db.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: Name, PlatformID: "wrkGroup1"})
	if gs[0].WebhookKey != hookKey {
		t.Fatalf("key not stored")
	}
	return gs[0]
}

func TestTipThroughWebhookWithFrequencyLimit(t *testing.T) {
	h := start(t)
	g := h.bindGroup(t)
	h.f.mu.Lock()
	h.f.throttle = 2
	h.f.mu.Unlock()
	ctx := context.Background()
	now := h.now
	h.db.Outbox().EnqueuePosts(ctx, []*bot.OutboxPost{{GroupID: g.ID, Kind: "tip", Key: "tip:1", Text: "【反诈提醒】刷单就是诈骗。", DueAt: now}})
	s := &bot.Sender{Outbox: h.db.Outbox(), Channels: map[string]bot.Channel{Name: h.ch}, Limits: bot.NewPostLimiter(20, 0),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 20; i++ {
		if _, err := s.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(30 * time.Second)
	}
	webhook, _, _ := h.f.snapshot()
	if len(webhook) != 1 || webhook[0] != "【反诈提醒】刷单就是诈骗。" {
		t.Fatalf("after two 45009s the tip arrived %d times: %q", len(webhook), webhook)
	}
	posts, _ := h.db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID})
	if posts[0].Status != bot.PostSent || posts[0].Attempts != 3 {
		t.Fatalf("outbox: %s after %d attempts", posts[0].Status, posts[0].Attempts)
	}
}

func TestTipThroughAppchat(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	g, _ := h.db.Groups().EnsureGroup(ctx, Name, "wrkAppChat9", "东风村村民群") // created by the app: no robot key
	if err := h.ch.Post(ctx, g.PlatformID, bot.Post{Kind: "tip", Text: "【反诈提醒】验证码不给任何人。"}); err != nil {
		t.Fatal(err)
	}
	_, appchat, _ := h.f.snapshot()
	if len(appchat) != 1 || appchat[0] != "wrkAppChat9|【反诈提醒】验证码不给任何人。" {
		t.Fatalf("appchat: %q", appchat)
	}
}

func TestOfficialAccountAnswersPrivately(t *testing.T) {
	h := start(t)
	ts := strconv.FormatInt(h.now.Unix(), 10)
	q := url.Values{"signature": {util.Signature(oaToken, ts, "oa-nonce")}, "timestamp": {ts}, "nonce": {"oa-nonce"}, "openid": {"o-resident"}}
	xml := `<xml><ToUserName><![CDATA[gh_fanzha]]></ToUserName><FromUserName><![CDATA[o-resident]]></FromUserName>` +
		`<CreateTime>` + ts + `</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[这是诈骗吗 先交保证金才能放款]]></Content><MsgId>7700000001</MsgId></xml>`
	status, body := h.post(t, "/wechat/oa", q, []byte(xml))
	if status != 200 || !strings.Contains(body, "收到：这是诈骗吗 先交保证金才能放款") || !strings.Contains(body, "o-resident") {
		t.Fatalf("official account: %d %s", status, body)
	}
	// WeChat retries a message it got no answer for: handled once.
	status, body = h.post(t, "/wechat/oa", q, []byte(xml))
	if status != 200 || body != "success" || h.times("oa:7700000001") != 1 {
		t.Fatalf("retry: %d %q, handled %d times", status, body, h.times("oa:7700000001"))
	}
	// The same signed URL with another body is a replay, not a retry.
	other := strings.Replace(xml, "7700000001", "7700000002", 1)
	if status, _ := h.post(t, "/wechat/oa", q, []byte(other)); status != http.StatusConflict || h.times("oa:7700000002") != 0 {
		t.Fatalf("a signed URL reused with another body: %d, handled %d times", status, h.times("oa:7700000002"))
	}
	// A verification request must be fresh too.
	old := url.Values{"signature": {util.Signature(oaToken, "1", "n1")}, "timestamp": {"1"}, "nonce": {"n1"}, "echostr": {"hello"}}
	if status, _ := h.get(t, "/wechat/oa", old); status != http.StatusForbidden {
		t.Fatalf("a verification with timestamp=1: %d", status)
	}
	q.Set("signature", strings.Repeat("0", 40))
	if status, _ := h.post(t, "/wechat/oa", q, []byte(xml)); status != http.StatusForbidden {
		t.Fatalf("forged official account request: %d", status)
	}
}

func TestMarkdownKeepsTextAsWritten(t *testing.T) {
	tests := []struct{ in, want string }{
		{"⚠️ 高风险：很像“刷单返利”。\n✅ 报警", "⚠️ 高风险：很像“刷单返利”。\n✅ 报警"},
		{"#1 名 *张三* [链接](x) a_b `c`", "\u200b#1 名 ＊张三＊ ［链接］(x) a＿b ｀c｀"},
		{"- 不是列表\n> 不是引用", "\u200b- 不是列表\n＞ 不是引用"},
	}
	for _, tt := range tests {
		if got := Markdown(tt.in); got != tt.want {
			t.Errorf("Markdown(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := Markdown(strings.Repeat("骗", 3000)); len(got) > 4096 {
		t.Errorf("markdown of %d bytes; WeCom takes 4,096", len(got))
	}
}

// TestCampaignThroughWebhook: a campaign planned for a bound WeCom group
// reaches the fake WeCom robot webhook once.
func TestCampaignThroughWebhook(t *testing.T) {
	h := start(t)
	g := h.bindGroup(t)
	ctx := context.Background()
	now := h.now
	c := &bot.Campaign{Kind: bot.CampaignPledge, Title: "反诈承诺书", Text: "我承诺：不轻信、不透露、不转账。", Units: []int64{g.OrgUnit.ID}}
	if err := bot.ValidateCampaign(c, now); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Campaigns().CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	p := &campaign.Planner{Campaigns: h.db.Campaigns(), Groups: h.db.Groups(), Units: h.db.Stats(), Outbox: h.db.Outbox(), Loc: time.UTC}
	s := &bot.Sender{Outbox: h.db.Outbox(), Channels: map[string]bot.Channel{Name: h.ch}, Limits: bot.NewPostLimiter(20, 0),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 3; i++ {
		if _, err := p.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	webhook, _, _ := h.f.snapshot()
	if len(webhook) != 1 || !strings.Contains(webhook[0], "反诈承诺书") || !strings.Contains(webhook[0], "我承诺") {
		t.Fatalf("webhook: %q", webhook)
	}
}
