// Package wechat is fanzha's WeCom (企业微信) channel, on
// github.com/silenceper/wechat/v2:
//
//   - group messages that @-mention a WeCom 智能机器人 arrive as encrypted
//     JSON callbacks, answered once through their response_url as markdown
//     (the documented types there are markdown and template_card, not
//     text);
//   - posts go to a group through its group robot webhook (a key the
//     counsellor registers with 绑定机器人), or through work/appchat for
//     groups the app created;
//   - residents ask privately through an official account (公众号), which
//     answers in the HTTP response.
//
// Bots cannot join personal WeChat groups; see the README for what WeChat
// allows and what it does not.
//
// # Pictures and voice
//
// Besides "text", a 智能机器人 callback (decrypted JSON) may be:
//
//   - "image": {"image": {"url"}}, in 1:1 chats only;
//   - "mixed": {"mixed": {"msg_item": [{"msgtype": "text", "text":
//     {"content"}}, {"msgtype": "image", "image": {"url"}}, …]}}: text and
//     pictures, the way pictures reach the bot in a group (with an
//     @-mention). The text items become the message text, the @-mention
//     stripped as for text; each image an image Media (at most
//     bot.MaxMedia);
//   - "voice": {"voice": {"content"}}, in 1:1 chats only, content being
//     WeCom's own transcription: it becomes the message text and the voice
//     Media's Transcript. The clip itself is not offered.
//
// A picture's Ref is its URL. What the URL serves is encrypted: in the
// callback (URL) mode with the bot's own EncodingAESKey, the cipher of the
// callbacks (AES-256-CBC, key = base64-decode(EncodingAESKey + "="), IV =
// key[:16], PKCS#7 padding to a 32-byte block), but the plaintext is the
// image file alone, with no random prefix, length or receive-id.
// FetchMedia downloads (bounded) and decrypts it; a link that answers
// HTTP 404 or 410 is a picture WeCom no longer has. The long-connection mode
// gives each picture its own aeskey instead; this channel does not use
// that mode.
package wechat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work/appchat"
	workconfig "github.com/silenceper/wechat/v2/work/config"
	workctx "github.com/silenceper/wechat/v2/work/context"
	"github.com/silenceper/wechat/v2/work/robot"

	"fanzha/bot"
	"fanzha/channels/internal/download"
)

// Name is the channel name stored with WeCom groups and members.
const Name = "wechat"

const (
	maxCallbackBody = 1 << 20
	maxTextBytes    = 2000 // webhook and appchat text limit is 2048 bytes
	maxMarkdown     = 4000 // markdown limit is 4096 bytes
	freshness       = 5 * time.Minute
	responseURLTTL  = time.Hour
)

// Config switches the channel's parts on.
type Config struct {
	// BotToken and BotAESKey are the 智能机器人's callback Token and
	// EncodingAESKey.
	BotToken, BotAESKey string
	// CorpID, CorpSecret and AgentID let the app post with work/appchat.
	CorpID, CorpSecret, AgentID string
	// OA* configure the official account for 1:1 questions.
	OAAppID, OAAppSecret, OAToken, OAAESKey string
	// BotID and BotSecret run the 智能机器人 over the long connection
	// instead of callbacks (the two are exclusive on the platform); WSURL
	// overrides DefaultWSURL. Leases, if set, lets only one replica hold
	// the connection.
	BotID, BotSecret, WSURL string
	Leases                  bot.LeaseStore
}

// Channel is the WeCom channel. Its HTTP side is Handler.
type Channel struct {
	cfg    Config
	inbox  bot.Inbox
	groups bot.GroupStore
	logger *slog.Logger
	// Now is the clock of timestamp checks and response_url validity.
	Now func() time.Time
	// media downloads pictures. It has no timeout of its own: the caller's
	// ctx says how long is too long.
	media *http.Client

	robot   *robot.Client
	appchat *appchat.Client
	tokens  credential.AccessTokenHandle
	cache   cache.Cache
	oa      *officialaccount.OfficialAccount

	mu      sync.Mutex
	handler bot.Handler
	seen    map[string]time.Time // signatures of recent callbacks: replay guard
	bodies  map[string][32]byte  // official account: the body each signed URL came with
	used    map[string]bool      // response_urls already answered
	queue   *bot.Queue           // accepted messages, handled after the 200
	ws      *wsConn              // the long connection, while up

	leases   bot.LeaseStore
	wsHolder string      // this process, as a lease holder
	hourly   hourCounter // long-connection posts per chat this hour
}

// New returns the channel.
func New(cfg Config, inbox bot.Inbox, groups bot.GroupStore, logger *slog.Logger) (*Channel, error) {
	if cfg.BotToken != "" && cfg.BotID != "" {
		return nil, errors.New("wechat: bot_token (callback URL) and bot_id (long connection) exclude each other: WeCom runs a 智能机器人 one way or the other")
	}
	if cfg.BotID != "" && cfg.BotSecret == "" {
		return nil, errors.New("wechat: bot_id needs bot_secret")
	}
	if cfg.BotToken == "" && cfg.OAToken == "" && cfg.BotID == "" {
		return nil, errors.New("wechat: set bot_token (智能机器人 callbacks), bot_id (智能机器人 long connection) or oa_token (公众号)")
	}
	if cfg.BotToken != "" {
		if _, err := aesKey(cfg.BotAESKey); err != nil {
			return nil, fmt.Errorf("wechat: bot_aes_key: %w", err)
		}
	}
	c := &Channel{cfg: cfg, inbox: inbox, groups: groups, logger: logger.With("channel", Name), Now: time.Now, media: &http.Client{},
		seen: map[string]time.Time{}, bodies: map[string][32]byte{}, used: map[string]bool{}, cache: cache.NewMemory(),
		leases: cfg.Leases, wsHolder: newReqID("replica")}
	wc := &workconfig.Config{CorpID: cfg.CorpID, CorpSecret: cfg.CorpSecret, AgentID: cfg.AgentID, Cache: c.cache}
	c.tokens = credential.NewWorkAccessToken(cfg.CorpID, cfg.CorpSecret, cfg.AgentID, credential.CacheKeyWorkPrefix, c.cache)
	ctx := &workctx.Context{Config: wc, AccessTokenHandle: c.tokens}
	c.robot = robot.NewClient(ctx)
	if cfg.CorpID != "" && cfg.CorpSecret != "" {
		c.appchat = appchat.NewClient(ctx)
	}
	if cfg.OAToken != "" {
		c.oa = officialaccount.NewOfficialAccount(&oaconfig.Config{AppID: cfg.OAAppID, AppSecret: cfg.OAAppSecret,
			Token: cfg.OAToken, EncodingAESKey: cfg.OAAESKey, Cache: c.cache})
	}
	return c, nil
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return Name }

// Start hands callbacks to h until ctx is done. Accepted messages are
// handled by a few workers, after WeCom has had its answer.
func (c *Channel) Start(ctx context.Context, h bot.Handler) error {
	q := bot.NewQueue(ctx, 4, h, c, c.logger)
	c.mu.Lock()
	c.handler, c.queue = h, q
	c.mu.Unlock()
	if c.cfg.BotID != "" {
		c.runWS(ctx)
	}
	<-ctx.Done()
	c.mu.Lock()
	c.handler = nil
	c.mu.Unlock()
	q.Wait()
	return nil
}

// Handler serves the callbacks:
//
//	GET  /wechat/bot   智能机器人 URL verification
//	POST /wechat/bot   智能机器人 messages
//	GET  /wechat/oa    official account URL verification
//	POST /wechat/oa    official account messages
func (c *Channel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wechat/bot", c.verifyURL)
	mux.HandleFunc("POST /wechat/bot", c.botCallback)
	mux.HandleFunc("/wechat/oa", c.officialAccount)
	return mux
}

// refuse answers a request that will not be processed, with one log line.
func (c *Channel) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	c.logger.Warn("callback refused", "path", r.URL.Path, "status", status, "why", why, "remote", r.RemoteAddr)
	http.Error(w, why, status)
}

// checkFresh refuses timestamps more than five minutes away from now: an
// old request captured on the wire cannot be played back later.
func (c *Channel) checkFresh(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("timestamp missing or not a number")
	}
	d := c.Now().Sub(time.Unix(sec, 0))
	if d > freshness || d < -freshness {
		return fmt.Errorf("timestamp %s is %v away from now", ts, d.Round(time.Second))
	}
	return nil
}

// urlReused records which body a signed URL came with and reports whether
// it came before with another one.
func (c *Channel) urlReused(key string, body [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.bodies[key]; ok {
		return prev != body
	}
	if len(c.bodies) > maxRemembered {
		clear(c.bodies) // the freshness window does the rest
	}
	c.bodies[key] = body
	return false
}

// maxRemembered bounds the signed URLs remembered for the replay guard.
const maxRemembered = 100000

// replayed records a signature and reports whether it was seen within the
// freshness window.
func (c *Channel) replayed(sig, nonce string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	for k, at := range c.seen {
		if now.Sub(at) > 2*freshness {
			delete(c.seen, k)
		}
	}
	key := sig + "/" + nonce
	if _, ok := c.seen[key]; ok {
		return true
	}
	c.seen[key] = now
	return false
}

func (c *Channel) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if c.cfg.BotToken == "" {
		c.refuse(w, r, http.StatusNotFound, "智能机器人 is not configured")
		return
	}
	echo := q.Get("echostr")
	if !verify(c.cfg.BotToken, q.Get("timestamp"), q.Get("nonce"), echo, q.Get("msg_signature")) {
		c.refuse(w, r, http.StatusForbidden, "bad msg_signature")
		return
	}
	if err := c.checkFresh(q.Get("timestamp")); err != nil {
		c.refuse(w, r, http.StatusForbidden, "stale verification: "+err.Error())
		return
	}
	plain, _, err := decrypt(c.cfg.BotAESKey, echo)
	if err != nil {
		c.refuse(w, r, http.StatusBadRequest, "echostr does not decrypt: "+err.Error())
		return
	}
	w.Write(plain)
}

// callback is the decrypted 智能机器人 message.
type callback struct {
	MsgID       string                  `json:"msgid"`
	AIBotID     string                  `json:"aibotid"`
	ChatID      string                  `json:"chatid"`
	ChatType    string                  `json:"chattype"` // "group" or "single"
	From        struct{ UserID string } `json:"from"`
	ResponseURL string                  `json:"response_url"`
	MsgType     string                  `json:"msgtype"` // "text", "image", "mixed", "voice", …
	Text        textItem                `json:"text"`
	Image       imageItem               `json:"image"`
	Mixed       struct {
		Items []struct {
			MsgType string    `json:"msgtype"`
			Text    textItem  `json:"text"`
			Image   imageItem `json:"image"`
		} `json:"msg_item"`
	} `json:"mixed"`
	Voice struct {
		Content string `json:"content"` // WeCom's transcription
	} `json:"voice"`
}

type textItem struct {
	Content string `json:"content"`
}

type imageItem struct {
	URL string `json:"url"`
	// AESKey is the picture's own key, on the long connection only.
	AESKey string `json:"aeskey"`
}

// ref is the picture's Media reference: its URL, with its own key, if it
// has one, as the fragment (never sent to the server).
func (i imageItem) ref() string {
	if i.AESKey == "" {
		return i.URL
	}
	return i.URL + "#aeskey=" + i.AESKey
}

func (c *Channel) botCallback(w http.ResponseWriter, r *http.Request) {
	if c.cfg.BotToken == "" {
		c.refuse(w, r, http.StatusNotFound, "智能机器人 is not configured")
		return
	}
	q := r.URL.Query()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		c.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return
	}
	var env struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		c.refuse(w, r, http.StatusBadRequest, "body is not {\"encrypt\": ...}")
		return
	}
	if !verify(c.cfg.BotToken, q.Get("timestamp"), q.Get("nonce"), env.Encrypt, q.Get("msg_signature")) {
		c.refuse(w, r, http.StatusForbidden, "bad msg_signature")
		return
	}
	if err := c.checkFresh(q.Get("timestamp")); err != nil {
		c.refuse(w, r, http.StatusForbidden, "stale request: "+err.Error())
		return
	}
	if c.replayed(q.Get("msg_signature"), q.Get("nonce")) {
		c.refuse(w, r, http.StatusConflict, "replayed request")
		return
	}
	plain, _, err := decrypt(c.cfg.BotAESKey, env.Encrypt)
	if err != nil {
		c.refuse(w, r, http.StatusBadRequest, "does not decrypt: "+err.Error())
		return
	}
	var cb callback
	if err := json.Unmarshal(plain, &cb); err != nil || cb.MsgID == "" {
		c.refuse(w, r, http.StatusBadRequest, "decrypted message is not a robot message")
		return
	}
	switch cb.MsgType {
	case "text", "image", "mixed", "voice":
	default:
		w.WriteHeader(http.StatusOK) // files, events: nothing to do
		return
	}
	msg := c.toMessage(&cb)
	c.mu.Lock()
	queue := c.queue
	c.mu.Unlock()
	if queue == nil {
		c.refuse(w, r, http.StatusServiceUnavailable, "not started yet")
		return
	}
	if err := c.inbox.Accept(r.Context(), msg); err != nil {
		if bot.ErrorCode(err) == bot.EDUPLICATE {
			c.logger.Info("duplicate delivery ignored", "msg", msg.PlatformMsgID)
			w.WriteHeader(http.StatusOK)
			return
		}
		c.logger.Error("storing message", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable) // WeCom retries
		return
	}
	// Stored: WeCom gets its answer now; the reply goes to response_url.
	w.WriteHeader(http.StatusOK)
	queue.Put(msg) // if shutting down, the inbox has it for the next start
}

func (c *Channel) toMessage(cb *callback) *bot.Message {
	// Group messages reach a 智能机器人 only when they @-mention it; 1:1 ones
	// are addressed to it anyway.
	m := &bot.Message{Channel: Name, SenderID: cb.From.UserID, MentionsBot: true,
		PlatformMsgID: cb.MsgID, Time: c.Now(), ReplyHandle: cb.ResponseURL, ReplyExpires: c.Now().Add(responseURLTTL)}
	if cb.ChatType == "group" {
		m.GroupID = cb.ChatID
	} else {
		m.Direct = true
	}
	switch cb.MsgType {
	case "text":
		m.Text = stripMention(cb.Text.Content)
	case "image":
		if cb.Image.URL != "" {
			m.Media = []bot.Media{{Kind: bot.MediaImage, Ref: cb.Image.ref()}}
		}
	case "mixed":
		var texts []string
		first := true
		for _, it := range cb.Mixed.Items {
			switch it.MsgType {
			case "text":
				t := strings.TrimSpace(it.Text.Content)
				if first {
					t, first = stripMention(t), false // the mention leads the first text
				}
				if t != "" {
					texts = append(texts, t)
				}
			case "image":
				if it.Image.URL != "" && len(m.Media) < bot.MaxMedia {
					m.Media = append(m.Media, bot.Media{Kind: bot.MediaImage, Ref: it.Image.ref()})
				}
			}
		}
		m.Text = strings.Join(texts, "\n")
	case "voice":
		// Read like typed text by every feature; without a transcription
		// the handler asks the sender to type.
		m.Text = strings.TrimSpace(cb.Voice.Content)
		m.Media = []bot.Media{{Kind: bot.MediaVoice, Transcript: m.Text}}
	}
	return m
}

// stripMention trims text and removes a leading @-mention: in "@反诈助手
// 帮助" the mention is not part of the question.
func stripMention(text string) string {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "@") {
		return text
	}
	if i := strings.IndexAny(text, " \u2005\u3000"); i > 0 {
		return strings.TrimSpace(text[i:])
	}
	return ""
}

// FetchMedia downloads a picture of msg from its URL, at most max bytes of
// it, and decrypts it with the bot's EncodingAESKey. It implements
// bot.MediaFetcher.
func (c *Channel) FetchMedia(ctx context.Context, msg *bot.Message, m bot.Media, max int64) ([]byte, error) {
	ref, ownKey := mediaKey(m.Ref)
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("wechat: %s media of message %s has no usable URL", m.Kind, msg.PlatformMsgID)
	}
	// The ciphertext is the picture plus 1 to 32 bytes of padding: one
	// over max+32 bytes cannot hold a picture of max bytes.
	ct, err := download.Bounded(ctx, c.media, ref, "wechat", max+blockPad, max)
	if err != nil {
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			c.logger.Info("picture no longer downloadable", "msg", msg.PlatformMsgID)
		}
		return nil, err
	}
	var refusal util.CommonError
	if bytes.HasPrefix(ct, []byte("{")) && json.Unmarshal(ct, &refusal) == nil && refusal.ErrCode != 0 {
		return nil, fmt.Errorf("wechat: downloading a picture: errcode %d %s", refusal.ErrCode, refusal.ErrMsg)
	}
	var plain []byte
	if ownKey != "" {
		key, kerr := perPictureKey(ownKey)
		if kerr != nil {
			return nil, fmt.Errorf("wechat: picture of message %s: %w", msg.PlatformMsgID, kerr)
		}
		plain, err = openCBCKey(key, ct)
	} else {
		plain, err = decryptMedia(c.cfg.BotAESKey, ct)
	}
	if err != nil {
		return nil, fmt.Errorf("wechat: picture of message %s does not decrypt with bot_aes_key: %w", msg.PlatformMsgID, err)
	}
	if int64(len(plain)) > max {
		return nil, download.TooLarge(max)
	}
	return plain, nil
}

// Reply answers through the message's response_url, once; later replies to
// the same message, or after it expired, go to the group as posts.
func (c *Channel) Reply(ctx context.Context, msg *bot.Message, r bot.Reply) error {
	if reqID, ok := strings.CutPrefix(msg.ReplyHandle, wsHandle); ok && c.Now().Before(msg.ReplyExpires) {
		err := c.wsReply(ctx, reqID, msg.PlatformMsgID, r.Text)
		if err == nil || msg.Direct {
			return err
		}
		c.logger.Warn("reply down the long connection failed; posting to the group instead", "err", err)
		return c.Post(ctx, msg.GroupID, bot.Post{Kind: "reply", Text: r.Text})
	}
	c.mu.Lock()
	fresh := msg.ReplyHandle != "" && !c.used[msg.ReplyHandle] && c.Now().Before(msg.ReplyExpires)
	if fresh {
		c.used[msg.ReplyHandle] = true
	}
	c.mu.Unlock()
	if fresh {
		body := map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": Markdown(r.Text)}}
		raw, err := util.PostJSONContext(ctx, msg.ReplyHandle, body)
		if err == nil {
			var res util.CommonError
			if json.Unmarshal(raw, &res) == nil && res.ErrCode == 0 {
				return nil
			}
			err = fmt.Errorf("response_url: errcode %d %s", res.ErrCode, res.ErrMsg)
		}
		c.logger.Warn("reply through response_url failed; posting to the group instead", "err", err)
	}
	if msg.Direct {
		return fmt.Errorf("wechat: cannot answer 1:1 message %s again", msg.PlatformMsgID)
	}
	return c.Post(ctx, msg.GroupID, bot.Post{Kind: "reply", Text: r.Text})
}

// markdownEscapes replace the characters WeCom's markdown would read as
// emphasis, code or links with their full-width forms, which look the same
// in Chinese text.
var markdownEscapes = strings.NewReplacer("*", "＊", "_", "＿", "`", "｀", "[", "［", "]", "］", "<", "＜", ">", "＞")

// Markdown renders a plain reply in WeCom's markdown subset: the text as
// written, line by line, with nothing in it read as markup, within the
// 4,096-byte limit.
func Markdown(text string) string {
	lines := strings.Split(bot.Truncate(text, maxMarkdown), "\n")
	for i, l := range lines {
		l = markdownEscapes.Replace(l)
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			l = "\u200b" + l // not a heading or a list item
		}
		lines[i] = l
	}
	return bot.Truncate(strings.Join(lines, "\n"), maxMarkdown)
}

// postError is a refusal from WeCom, retryable or not.
type postError struct {
	code int64
	msg  string
}

func (e *postError) Error() string { return fmt.Sprintf("wechat: errcode %d %s", e.code, e.msg) }

// WeCom error codes that retrying can fix.
const (
	errSystemBusy      = -1    // 系统繁忙
	errFrequencyLimit  = 45009 // 接口调用超过限制
	errConcurrentLimit = 45033 // 接口并发调用超过限制
)

// Unwrap makes refusals that retrying cannot fix permanent: all but a busy
// system and the frequency and concurrency limits, which are retried with
// backoff.
func (e *postError) Unwrap() error {
	switch e.code {
	case errSystemBusy, errFrequencyLimit, errConcurrentLimit:
		return nil
	}
	return bot.ErrPermanent
}

// Post sends to a group: through its registered group robot webhook if it
// has one, else through appchat for a group the app created.
func (c *Channel) Post(ctx context.Context, groupID string, p bot.Post) error {
	gs, err := c.groups.FindGroups(ctx, bot.GroupFilter{Channel: Name, PlatformID: groupID})
	if err != nil {
		return err
	}
	text := bot.Truncate(p.Text, maxTextBytes)
	if len(gs) == 1 && gs[0].WebhookKey != "" {
		info, err := c.robot.RobotBroadcast(gs[0].WebhookKey, map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
		if err != nil {
			return fmt.Errorf("wechat webhook: %w", err)
		}
		if info.ErrCode != 0 { // the SDK returns err == nil here
			return &postError{info.ErrCode, info.ErrMsg}
		}
		return nil
	}
	if c.cfg.BotID != "" {
		return c.wsPost(ctx, groupID, p)
	}
	if c.appchat == nil {
		return fmt.Errorf("wechat: group %s has no group robot key (绑定机器人) and appchat is not configured: %w", groupID, bot.ErrPermanent)
	}
	for attempt := 0; ; attempt++ {
		_, err := c.appchat.SendText(appchat.SendTextRequest{SendRequestCommon: &appchat.SendRequestCommon{ChatID: groupID, MsgType: "text"},
			Text: appchat.TextField{Content: text}})
		if err == nil {
			return nil
		}
		var ce *util.CommonError
		if !errors.As(err, &ce) {
			return fmt.Errorf("wechat appchat: %w", err) // network: retry
		}
		if (ce.ErrCode == 40014 || ce.ErrCode == 42001) && attempt == 0 {
			// The SDK does not drop a token WeCom rejected: do it, and try once more.
			c.cache.Delete(c.tokenCacheKey())
			continue
		}
		return &postError{ce.ErrCode, ce.ErrMsg}
	}
}

// tokenCacheKey is where the SDK caches the app's access token.
func (c *Channel) tokenCacheKey() string {
	if c.cfg.AgentID != "" {
		return fmt.Sprintf("%s_access_token_%s_%s", credential.CacheKeyWorkPrefix, c.cfg.CorpID, c.cfg.AgentID)
	}
	return fmt.Sprintf("%s_access_token_%s", credential.CacheKeyWorkPrefix, c.cfg.CorpID)
}

// officialAccount answers 1:1 questions from residents who follow the
// county's official account. The answer goes in the HTTP response, within
// WeChat's five seconds: a scam check takes microseconds.
func (c *Channel) officialAccount(w http.ResponseWriter, r *http.Request) {
	if c.oa == nil {
		c.refuse(w, r, http.StatusNotFound, "official account is not configured")
		return
	}
	// Every request, the URL verification too, must be fresh; a signed URL
	// (its signature covers timestamp and nonce, not the body) is good for
	// one request only.
	q := r.URL.Query()
	if err := c.checkFresh(q.Get("timestamp")); err != nil {
		c.refuse(w, r, http.StatusForbidden, "stale request: "+err.Error())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			c.refuse(w, r, http.StatusRequestEntityTooLarge, "body: "+err.Error())
			return
		}
		// WeChat retries with the same URL and body: that is handled once by
		// its MsgId. The same URL with another body is a replay.
		sum := sha256.Sum256(body)
		if c.urlReused(q.Get("signature")+"/"+q.Get("timestamp")+"/"+q.Get("nonce"), sum) {
			c.refuse(w, r, http.StatusConflict, "replayed request: a signed URL with another body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.mu.Lock()
	h := c.handler
	c.mu.Unlock()
	if h == nil {
		c.refuse(w, r, http.StatusServiceUnavailable, "not started yet")
		return
	}
	srv := c.oa.GetServer(r, w)
	srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
		if m.MsgType != message.MsgTypeText {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText("请把收到的可疑内容以文字发给我，例如：这是诈骗吗 恭喜您中奖，请先交税……")}
		}
		msg := &bot.Message{Channel: Name, SenderID: "oa:" + string(m.FromUserName), Text: strings.TrimSpace(m.Content),
			Direct: true, MentionsBot: true, PlatformMsgID: "oa:" + strconv.FormatInt(m.MsgID, 10), Time: c.Now()}
		out := &captured{Channel: c}
		if err := h.Dispatch(r.Context(), out, msg); err != nil && bot.ErrorCode(err) != bot.EDUPLICATE && out.text.Len() == 0 {
			c.logger.Error("handling official account message", "err", err)
		}
		if out.text.Len() == 0 {
			return nil // "success": nothing to say (a retry of a handled message)
		}
		return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(out.text.String())}
	})
	if err := srv.Serve(); err != nil {
		c.refuse(w, r, http.StatusForbidden, "official account request refused: "+err.Error())
		return
	}
	if err := srv.Send(); err != nil {
		c.logger.Error("official account reply", "err", err)
	}
}

// captured collects what handlers answer a 1:1 official account message,
// for the passive reply.
type captured struct {
	*Channel
	text strings.Builder
}

func (o *captured) Reply(ctx context.Context, msg *bot.Message, r bot.Reply) error {
	if o.text.Len() > 0 {
		o.text.WriteString("\n")
	}
	o.text.WriteString(r.Text)
	return nil
}
