package wechat

// # Long-connection mode
//
// The 智能机器人 can also be run without a public callback URL: the bot dials
// out to wss://openws.work.weixin.qq.com and WeCom pushes messages down that
// connection (the mode WeCom recommends; switching a bot to it turns its
// callback URL off). Frames are JSON text, TLS only, no message crypto:
//
//   - {"cmd": "aibot_subscribe", "headers": {"req_id"}, "body": {"bot_id",
//     "secret"}} first, answered within 10 s by {"headers": {"req_id"},
//     "errcode": 0, "errmsg": "ok"};
//   - {"cmd": "ping", "headers": {"req_id"}} every 30 s, answered the same
//     way; two unanswered pings and the connection is dead;
//   - in: {"cmd": "aibot_msg_callback", "headers": {"req_id"}, "body": …}
//     with the body of a callback (msgid, chatid, chattype, from.userid,
//     msgtype text / image / mixed / voice, …; each picture with its own
//     aeskey), and {"cmd": "aibot_event_callback", …, "body": {"event":
//     {"eventtype"}}} — "disconnected_event" when a newer connection of the
//     same bot displaced this one;
//   - out: {"cmd": "aibot_respond_msg", "headers": {"req_id": the
//     callback's}, "body": {"msgtype": "stream", "stream": {"id", "finish":
//     true, "content": markdown}}} answers a message (within 24 h); frames
//     of one req_id go one at a time, each acknowledged by a frame with its
//     req_id (5 s); {"cmd": "aibot_send_msg", "headers": {"req_id": own},
//     "body": {"chatid", "chat_type": 2, "msgtype": "markdown", "markdown":
//     {"content"}}} posts on the bot's own initiative (30 a minute and
//     1,000 an hour per chat).
//
// One connection per bot: a second process with the same bot displaces the
// first. So replicas take a lease in the store (bot.LeaseStore) and only
// the holder connects, and a displaced process does not connect again — it
// says so in the log and leaves the bot to whoever displaced it.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"fanzha/bot"
)

// DefaultWSURL is WeCom's long-connection endpoint.
const DefaultWSURL = "wss://openws.work.weixin.qq.com"

// Long-connection timing; tests shorten them.
var (
	wsPingEvery    = 30 * time.Second
	wsAckTimeout   = 5 * time.Second
	wsSubscribeBy  = 10 * time.Second
	wsBackoffFirst = time.Second
	wsBackoffMax   = 30 * time.Second
	wsLeaseTTL     = 90 * time.Second // renewed with every ping
	wsReplyValid   = 24 * time.Hour
)

// wsLease names the lease on the bot's one connection.
func (c *Channel) wsLease() string { return "wecom-ws:" + c.cfg.BotID }

// wsFrame is one frame either way.
type wsFrame struct {
	Cmd     string          `json:"cmd,omitempty"`
	Headers wsHeaders       `json:"headers"`
	Body    json.RawMessage `json:"body,omitempty"`
	ErrCode *int            `json:"errcode,omitempty"`
	ErrMsg  string          `json:"errmsg,omitempty"`
}

type wsHeaders struct {
	ReqID string `json:"req_id"`
}

// wsConn is one live connection.
type wsConn struct {
	conn    *websocket.Conn
	writeMu sync.Mutex
	mu      sync.Mutex
	pending map[string]chan wsFrame // req_id → waiting for its acknowledgement
	// byReq serialises the frames of one req_id: one at a time, acknowledged.
	byReq map[string]*sync.Mutex
	done  chan struct{}
}

func newReqID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", prefix, time.Now().UnixMilli(), hex.EncodeToString(b))
}

func (w *wsConn) write(f any) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	w.conn.SetWriteDeadline(time.Now().Add(wsAckTimeout))
	return w.conn.WriteJSON(f)
}

// request sends a frame with reqID and waits for its acknowledgement.
func (w *wsConn) request(ctx context.Context, cmd, reqID string, body any) (wsFrame, error) {
	w.mu.Lock()
	lock := w.byReq[reqID]
	if lock == nil {
		lock = &sync.Mutex{}
		w.byReq[reqID] = lock
	}
	w.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	ack := make(chan wsFrame, 1)
	w.mu.Lock()
	w.pending[reqID] = ack
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.pending, reqID)
		w.mu.Unlock()
	}()
	out := map[string]any{"cmd": cmd, "headers": wsHeaders{ReqID: reqID}}
	if body != nil {
		out["body"] = body
	}
	if err := w.write(out); err != nil {
		return wsFrame{}, fmt.Errorf("wechat ws: sending %s: %w", cmd, err)
	}
	timer := time.NewTimer(wsAckTimeout)
	defer timer.Stop()
	select {
	case f := <-ack:
		if f.ErrCode != nil && *f.ErrCode != 0 {
			return f, &postError{int64(*f.ErrCode), f.ErrMsg}
		}
		return f, nil
	case <-timer.C:
		return wsFrame{}, fmt.Errorf("wechat ws: %s not acknowledged within %s", cmd, wsAckTimeout)
	case <-w.done:
		return wsFrame{}, errors.New("wechat ws: connection closed")
	case <-ctx.Done():
		return wsFrame{}, ctx.Err()
	}
}

// runWS keeps the long connection while ctx lasts: it takes the lease, dials,
// subscribes and serves, and after a drop dials again with back-off, from
// 1 s doubling to 30 s. Displaced by another connection, it stops.
func (c *Channel) runWS(ctx context.Context) {
	backoff := wsBackoffFirst
	holder := c.wsHolder
	for ctx.Err() == nil {
		if c.leases != nil {
			ok, err := c.leases.Lease(ctx, c.wsLease(), holder, wsLeaseTTL, c.Now())
			if err != nil || !ok {
				if err != nil {
					c.logger.Error("taking the long-connection lease", "err", err)
				}
				sleep(ctx, wsLeaseTTL/3) // another replica holds the connection
				continue
			}
		}
		served, displaced, err := c.wsSession(ctx)
		if displaced {
			c.logger.Error("WeCom closed this long connection because another one for the same bot opened (disconnected_event); not reconnecting: run one process per bot")
			if c.leases != nil {
				c.leases.Release(context.WithoutCancel(ctx), c.wsLease(), holder)
			}
			return
		}
		if ctx.Err() != nil {
			break
		}
		if served {
			backoff = wsBackoffFirst
		}
		c.logger.Warn("long connection lost; reconnecting", "err", err, "in", backoff)
		sleep(ctx, backoff)
		backoff = min(2*backoff, wsBackoffMax)
	}
	if c.leases != nil {
		c.leases.Release(context.WithoutCancel(ctx), c.wsLease(), holder)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// wsSession is one connection: dial, subscribe, then read frames until the
// connection dies or ctx ends. served says it subscribed; displaced, that
// WeCom handed the bot to a newer connection.
func (c *Channel) wsSession(ctx context.Context) (served, displaced bool, err error) {
	dialCtx, cancel := context.WithTimeout(ctx, wsSubscribeBy)
	conn, _, err := websocket.DefaultDialer.DialContext(dialCtx, c.wsURL(), nil)
	cancel()
	if err != nil {
		return false, false, fmt.Errorf("dialing %s: %w", c.wsURL(), err)
	}
	w := &wsConn{conn: conn, pending: map[string]chan wsFrame{}, byReq: map[string]*sync.Mutex{}, done: make(chan struct{})}
	defer func() {
		conn.Close()
		c.mu.Lock()
		if c.ws == w {
			c.ws = nil
		}
		c.mu.Unlock()
	}()
	sub := newReqID("aibot_subscribe")
	if err := w.write(map[string]any{"cmd": "aibot_subscribe", "headers": wsHeaders{ReqID: sub},
		"body": map[string]string{"bot_id": c.cfg.BotID, "secret": c.cfg.BotSecret}}); err != nil {
		return false, false, err
	}
	conn.SetReadDeadline(time.Now().Add(wsSubscribeBy))
	var ack wsFrame
	if err := conn.ReadJSON(&ack); err != nil {
		return false, false, fmt.Errorf("waiting for the subscription's answer: %w", err)
	}
	if ack.Headers.ReqID != sub || ack.ErrCode == nil || *ack.ErrCode != 0 {
		return false, false, fmt.Errorf("subscription refused: errcode %v %s (check bot_id and bot_secret)", ack.ErrCode, ack.ErrMsg)
	}
	conn.SetReadDeadline(time.Time{})
	c.mu.Lock()
	c.ws = w
	c.mu.Unlock()
	c.logger.Info("long connection subscribed", "bot", c.cfg.BotID)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // pings, lease renewal, and closing on ctx
		defer wg.Done()
		c.wsKeepAlive(ctx, w, stop)
	}()
	displaced, err = c.wsRead(ctx, w)
	close(w.done)
	close(stop)
	conn.Close()
	wg.Wait()
	return true, displaced, err
}

// wsKeepAlive pings every wsPingEvery and closes the connection after two
// unanswered pings, when the lease is lost, or when ctx ends.
func (c *Channel) wsKeepAlive(ctx context.Context, w *wsConn, stop chan struct{}) {
	tick := time.NewTicker(wsPingEvery)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			w.conn.Close()
			return
		case <-tick.C:
		}
		if c.leases != nil {
			if ok, err := c.leases.Lease(ctx, c.wsLease(), c.wsHolder, wsLeaseTTL, c.Now()); err == nil && !ok {
				c.logger.Warn("long-connection lease taken by another replica; closing")
				w.conn.Close()
				return
			}
		}
		// A ping waits at most until the next one is due.
		pctx, cancel := context.WithTimeout(ctx, wsPingEvery)
		_, err := w.request(pctx, "ping", newReqID("ping"), nil)
		cancel()
		if err != nil {
			missed++
			c.logger.Warn("ping unanswered", "missed", missed, "err", err)
			if missed >= 2 {
				c.logger.Warn("two pings unanswered: the long connection is dead")
				w.conn.Close()
				return
			}
			continue
		}
		missed = 0
	}
}

// wsRead reads frames until the connection ends.
func (c *Channel) wsRead(ctx context.Context, w *wsConn) (displaced bool, err error) {
	for {
		var f wsFrame
		if err := w.conn.ReadJSON(&f); err != nil {
			return false, err
		}
		switch f.Cmd {
		case "aibot_msg_callback":
			c.wsMessage(ctx, f)
		case "aibot_event_callback":
			var ev wsEvent
			json.Unmarshal(f.Body, &ev)
			switch ev.Event.EventType {
			case "disconnected_event":
				return true, nil
			case "feedback_event":
				// A thumb on one of the bot's replies: 1 accurate, 2 not.
				if word, ok := feedbackWords[ev.Event.Feedback.Type]; ok {
					c.wsAction(ctx, f, &ev, "feedback:", word)
				}
				continue
			case "template_card_event":
				// A tap on one of fanzha's buttons: the answer as typed.
				key := ev.Event.Card.EventKey
				if key == "" {
					key = ev.Event.EventKey
				}
				if answer, ok := strings.CutPrefix(key, cardKeyPrefix); ok && answer != "" {
					c.wsAction(ctx, f, &ev, "card:", answer)
				}
				continue
			}
			c.logger.Info("long-connection event", "type", ev.Event.EventType)
		default: // an acknowledgement
			w.mu.Lock()
			ack := w.pending[f.Headers.ReqID]
			w.mu.Unlock()
			if ack != nil {
				ack <- f
			}
		}
	}
}

// wsMessage takes a pushed message into the inbox, as a callback is.
func (c *Channel) wsMessage(ctx context.Context, f wsFrame) {
	var cb callback
	if err := json.Unmarshal(f.Body, &cb); err != nil || cb.MsgID == "" || f.Headers.ReqID == "" {
		c.logger.Warn("malformed message frame ignored", "req_id", f.Headers.ReqID)
		return
	}
	msg := c.toMessage(&cb)
	msg.ReplyHandle, msg.ReplyExpires = wsHandle+f.Headers.ReqID, c.Now().Add(wsReplyValid)
	c.accept(ctx, msg)
}

// accept takes a message from the connection into the inbox and queues
// it; a redelivery is dropped.
func (c *Channel) accept(ctx context.Context, msg *bot.Message) {
	c.mu.Lock()
	queue := c.queue
	c.mu.Unlock()
	if queue == nil {
		return
	}
	if err := c.inbox.Accept(ctx, msg); err != nil {
		if bot.ErrorCode(err) != bot.EDUPLICATE {
			c.logger.Error("storing message", "err", err)
		}
		return
	}
	queue.Put(msg)
}

// wsHandle marks a reply handle that is a long connection's req_id.
const wsHandle = "ws:"

func (c *Channel) wsURL() string {
	if c.cfg.WSURL != "" {
		return c.cfg.WSURL
	}
	return DefaultWSURL
}

// wsReply answers a pushed message down the connection. The reply carries
// a feedback id, the message's id, so that a 👍 or 👎 on it comes back as
// feedback_event.
func (c *Channel) wsReply(ctx context.Context, reqID, msgID, text string) error {
	w := c.liveWS()
	if w == nil {
		return errors.New("wechat ws: not connected")
	}
	_, err := w.request(ctx, "aibot_respond_msg", reqID, map[string]any{"msgtype": "stream",
		"stream": map[string]any{"id": newReqID("reply"), "finish": true, "content": Markdown(text),
			"feedback": map[string]string{"id": msgID}}})
	return err
}

// feedbackWords are what a thumb on a reply means: 1 accurate, 2 not.
var feedbackWords = map[int]string{1: "有用", 2: "没用"}

// wsEvent is an aibot_event_callback's body, the parts fanzha reads.
type wsEvent struct {
	MsgID    string                  `json:"msgid"`
	ChatID   string                  `json:"chatid"`
	ChatType string                  `json:"chattype"`
	From     struct{ UserID string } `json:"from"`
	Event    struct {
		EventType string `json:"eventtype"`
		EventKey  string `json:"event_key"`
		Card      struct {
			EventKey string `json:"event_key"`
		} `json:"template_card_event"`
		Feedback struct {
			ID   string `json:"id"`
			Type int    `json:"type"`
		} `json:"feedback_event"`
	} `json:"event"`
}

// wsAction turns what a resident did on the platform — a thumb on a reply,
// a tap on a button — into what they could have typed, handled silently by
// the same handlers: a thumb is 有用 or 没用 on the group's latest check, a
// tap a quiz answer, 收到 or a survey option (first answer counts, windows
// checked). prefix keeps its message ID apart from chat messages'.
func (c *Channel) wsAction(ctx context.Context, f wsFrame, ev *wsEvent, prefix, text string) {
	if ev.MsgID == "" || ev.From.UserID == "" {
		c.logger.Warn("malformed event ignored", "req_id", f.Headers.ReqID, "type", ev.Event.EventType)
		return
	}
	msg := &bot.Message{Channel: Name, SenderID: ev.From.UserID, Text: text, MentionsBot: true, Silent: true,
		PlatformMsgID: prefix + ev.MsgID, Time: c.Now()}
	if ev.ChatType == "group" {
		msg.GroupID = ev.ChatID
	} else {
		msg.Direct = true
	}
	c.accept(ctx, msg)
}

// wsPost posts to a group on the bot's own initiative: as markdown, or,
// when the post asks for one of a few answers (a quiz question, 收到, a
// survey), as a button card whose taps come back as template_card_event.
func (c *Channel) wsPost(ctx context.Context, chatID string, p bot.Post) error {
	w := c.liveWS()
	if w == nil {
		return errors.New("wechat ws: not connected") // retried by the outbox
	}
	if !c.hourly.allow(chatID, c.Now()) {
		// WeCom allows 1,000 posts an hour per chat (the outbox's per-minute
		// limit allows 1,200): the outbox tries again later.
		return &postError{errFrequencyLimit, "1,000 posts this hour to this chat"}
	}
	body := map[string]any{"chatid": chatID, "chat_type": 2, "msgtype": "markdown", "markdown": map[string]string{"content": Markdown(p.Text)}}
	if n := len(p.Choices); n > 0 && n <= maxButtons {
		body = map[string]any{"chatid": chatID, "chat_type": 2, "msgtype": "template_card", "template_card": buttonCard(p)}
	}
	_, err := w.request(ctx, "aibot_send_msg", newReqID("aibot_send_msg"), body)
	return err
}

// perChatHour is WeCom's limit of proactive posts to one chat in an hour.
const perChatHour = 1000

// hourCounter counts posts per chat in fixed hours.
type hourCounter struct {
	mu    sync.Mutex
	hour  time.Time
	count map[string]int
}

// allow counts a post to chat at now, or refuses it when the hour's limit
// is reached.
func (h *hourCounter) allow(chat string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hour := now.Truncate(time.Hour); !hour.Equal(h.hour) || h.count == nil {
		h.hour, h.count = hour, map[string]int{}
	}
	if h.count[chat] >= perChatHour {
		return false
	}
	h.count[chat]++
	return true
}

// maxButtons is the most buttons a button_interaction card shows.
const maxButtons = 6

// cardKeyPrefix marks the keys of fanzha's buttons; what follows is the
// answer as typed.
const cardKeyPrefix = "fz:"

// buttonCard renders p as a button_interaction card: its first line as the
// title, the rest as the text, a button per choice.
func buttonCard(p bot.Post) map[string]any {
	title, rest, _ := strings.Cut(p.Text, "\n")
	var buttons []map[string]any
	for _, ch := range p.Choices {
		buttons = append(buttons, map[string]any{"text": ch, "key": cardKeyPrefix + ch, "style": 1})
	}
	return map[string]any{"card_type": "button_interaction", "task_id": newReqID("card"),
		"main_title":     map[string]string{"title": truncateRunes(title, 36)},
		"sub_title_text": truncateRunes(strings.TrimSpace(rest), 1000), "button_list": buttons}
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (c *Channel) liveWS() *wsConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

// mediaKey returns the per-picture key carried in a long connection's
// picture reference (URL#aeskey=…), or "" for the bot's own key.
func mediaKey(ref string) (string, string) {
	u, err := url.Parse(ref)
	if err != nil || !strings.HasPrefix(u.Fragment, "aeskey=") {
		return ref, ""
	}
	key := strings.TrimPrefix(u.Fragment, "aeskey=")
	u.Fragment = ""
	return u.String(), key
}

// perPictureKey decodes a long connection's picture aeskey: base64 of the
// 32-byte key, with or without padding.
func perPictureKey(s string) ([]byte, error) {
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("picture aeskey is not base64 of 32 bytes")
	}
	return key, nil
}
