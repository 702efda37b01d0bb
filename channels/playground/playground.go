// Package playground is the channel that needs no platform: simulated chat
// groups in the browser, served by the bot itself. It goes through the same
// Router as the real channels, so everything the bot does can be tried here,
// and its JSON API is what the end-to-end tests drive.
package playground

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"fanzha/bot"
)

// Name is the channel name stored with playground groups and members.
const Name = bot.PlaygroundChannel

// maxBody bounds a request body; larger bodies are refused before decoding.
// A message may carry pictures, base64-encoded: maxImageBody.
const (
	maxBody      = 1 << 20
	maxImageBody = 16 << 20
)

// Pictures posted to the playground wait in memory, never on disk, for the
// bot to fetch them, as on a platform's file server: at most keptImages of
// them and keptImageBytes in all, oldest forgotten first.
const (
	keptImages     = 64
	keptImageBytes = 64 << 20
	maxImageBytes  = 10 << 20
)

//go:embed index.html
var page embed.FS

// Line is one line of a simulated group's chat.
type Line = bot.TranscriptLine

// Transcript stores the simulated chats.
type Transcript = bot.Transcript

// Channel is the playground channel. Its HTTP side is Handler.
type Channel struct {
	transcript Transcript
	groups     bot.GroupStore
	logger     *slog.Logger

	// Now is the clock messages are stamped with; tests replace it.
	Now func() time.Time

	ready     chan struct{}
	readyOnce sync.Once
	mu        sync.RWMutex
	handler   bot.Handler
	ctx       context.Context

	imgMu     sync.Mutex
	images    map[string][]byte
	imageIDs  []string // oldest first
	imageSize int
}

// New returns a playground channel keeping its chats in t.
func New(t Transcript, groups bot.GroupStore, logger *slog.Logger) *Channel {
	return &Channel{transcript: t, groups: groups, logger: logger, Now: time.Now, ready: make(chan struct{}), images: map[string][]byte{}}
}

// Ready is closed once Start has taken its handler: messages posted from
// then on are handled.
func (c *Channel) Ready() <-chan struct{} { return c.ready }

// Name implements bot.Channel.
func (c *Channel) Name() string { return Name }

// Start implements bot.Channel: from now on, messages posted through the
// API are handed to h. It blocks until ctx is done.
func (c *Channel) Start(ctx context.Context, h bot.Handler) error {
	c.mu.Lock()
	c.handler, c.ctx = h, ctx
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	<-ctx.Done()
	c.mu.Lock()
	c.handler = nil
	c.mu.Unlock()
	return nil
}

// Reply implements bot.Channel: the answer appears in the group's chat.
func (c *Channel) Reply(ctx context.Context, msg *bot.Message, r bot.Reply) error {
	text := r.Text
	if r.AtSender && msg.SenderName != "" {
		text = "@" + msg.SenderName + " " + text
	}
	gid := msg.GroupID
	if msg.Direct {
		gid = "dm:" + msg.SenderID
	}
	_, err := c.transcript.AppendLine(ctx, &Line{GroupID: gid, FromBot: true, Kind: "reply", Text: text})
	return err
}

// Post implements bot.Channel: a scheduled post appears in the group's chat.
func (c *Channel) Post(ctx context.Context, groupID string, p bot.Post) error {
	return c.PostKeyed(ctx, groupID, p, "")
}

// PostKeyed implements bot.KeyedPoster: a post sent again with the same key
// appears once, as a platform that deduplicates would show it.
func (c *Channel) PostKeyed(ctx context.Context, groupID string, p bot.Post, key string) error {
	g, err := c.findGroup(ctx, groupID)
	if err != nil {
		return err
	}
	if g == nil {
		return bot.Errorf(bot.ENOTFOUND, "群 %s 不存在。", groupID)
	}
	msgID := ""
	if key != "" {
		msgID = "post:" + key
	}
	_, err = c.transcript.AppendLine(ctx, &Line{GroupID: groupID, FromBot: true, MsgID: msgID, Kind: p.Kind, Text: p.Text})
	return err
}

// Handler serves the playground page and its JSON API:
//
//	GET  /playground/                            the page
//	GET  /playground/groups                      list simulated groups
//	POST /playground/groups                      create one: {"name": "...", "id": "..."}
//	POST /playground/groups/{id}/messages        say something: {"sender_id","sender_name","text","mention","msg_id"}
//	GET  /playground/groups/{id}/messages?after= the chat since line after
func (c *Channel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /playground/{$}", c.servePage)
	mux.HandleFunc("GET /playground/groups", c.listGroups)
	mux.HandleFunc("POST /playground/groups", c.createGroup)
	mux.HandleFunc("POST /playground/groups/{id}/messages", c.postMessage)
	mux.HandleFunc("GET /playground/groups/{id}/messages", c.listMessages)
	return mux
}

func (c *Channel) servePage(w http.ResponseWriter, r *http.Request) {
	b, _ := page.ReadFile("index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (c *Channel) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	c.logger.Warn("playground request refused", "path", r.URL.Path, "status", status, "code", code)
	writeJSON(w, status, apiError{Error: msg, Code: code})
}

// decode reads a JSON body into v, refusing bodies that are too large, not
// UTF-8 or not JSON, with a message a person can act on.
func (c *Channel) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return c.decodeMax(w, r, v, maxBody)
}

func (c *Channel) decodeMax(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	// Only this page may post: a JSON body needs a CORS preflight no other
	// site gets past, and an Origin, when sent, must be this host.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		c.fail(w, r, http.StatusUnsupportedMediaType, bot.EINVALID, "请以 application/json 发送。")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			c.fail(w, r, http.StatusForbidden, bot.EFORBIDDEN, "不接受来自其他网站的请求。")
			return false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		c.fail(w, r, http.StatusRequestEntityTooLarge, bot.ETOOLARGE, "请求太大了。")
		return false
	case err != nil:
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "读取请求失败。")
		return false
	case !utf8.Valid(body):
		c.fail(w, r, http.StatusBadRequest, bot.EBADTEXT, "请求内容不是有效的 UTF-8 文本。")
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "请求不是有效的 JSON："+err.Error())
		return false
	}
	if dec.More() {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "请求里只能有一个 JSON 对象。")
		return false
	}
	return true
}

// maxIDRunes bounds a group or message ID given through the API.
const maxIDRunes = 64

// clean drops control characters (NUL, ANSI escapes) from what people
// type, keeping line breaks and tabs.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

type groupView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Bound string `json:"bound_to,omitempty"`
}

func (c *Channel) listGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := c.groups.FindGroups(r.Context(), bot.GroupFilter{Channel: Name})
	if err != nil {
		c.logger.Error("listing playground groups", "err", err)
		c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "读取群列表失败。")
		return
	}
	out := []groupView{}
	for _, g := range gs {
		v := groupView{ID: g.PlatformID, Name: g.Name, Kind: string(g.Kind)}
		if g.OrgUnit != nil {
			v.Bound = g.OrgUnit.Name
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

func (c *Channel) createGroup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if !c.decode(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(clean(req.Name))
	if utf8.RuneCountInString(req.ID) > maxIDRunes || clean(req.ID) != req.ID {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, fmt.Sprintf("群编号最多 %d 个字符，且不能含控制字符。", maxIDRunes))
		return
	}
	if req.Name == "" || utf8.RuneCountInString(req.Name) > 40 {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "群名称不能为空，且不超过 40 个字。")
		return
	}
	existing, err := c.groups.FindGroups(r.Context(), bot.GroupFilter{Channel: Name})
	if err != nil {
		c.logger.Error("listing playground groups", "err", err)
		c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "创建群失败。")
		return
	}
	for _, g := range existing {
		if g.Name == req.Name && g.PlatformID != req.ID {
			c.fail(w, r, http.StatusConflict, bot.ECONFLICT, "已经有一个叫“"+req.Name+"”的群了，换个名字吧。")
			return
		}
	}
	if req.ID == "" {
		req.ID = "pg-" + randomID()
	}
	g, err := c.groups.EnsureGroup(r.Context(), Name, req.ID, req.Name)
	if err != nil {
		c.logger.Error("creating playground group", "err", err)
		c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "创建群失败。")
		return
	}
	writeJSON(w, http.StatusCreated, groupView{ID: g.PlatformID, Name: g.Name, Kind: string(g.Kind)})
}

// findGroup returns the simulated group with platform ID id.
func (c *Channel) findGroup(ctx context.Context, id string) (*bot.Group, error) {
	if id == "" {
		return nil, nil
	}
	gs, err := c.groups.FindGroups(ctx, bot.GroupFilter{Channel: Name, PlatformID: id})
	if err != nil || len(gs) == 0 {
		return nil, err
	}
	return gs[0], nil
}

// statusFor maps a dispatch error to the HTTP status the API answers with.
func statusFor(code string) int {
	switch code {
	case bot.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case bot.EEMPTY, bot.EINVALID, bot.EBADTEXT:
		return http.StatusBadRequest
	case bot.ENOTFOUND:
		return http.StatusNotFound
	case bot.EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func (c *Channel) postMessage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SenderID   string `json:"sender_id"`
		SenderName string `json:"sender_name"`
		Text       string `json:"text"`
		Mention    bool   `json:"mention"`
		MsgID      string `json:"msg_id"`
		// Images are pictures, base64 (a data: URL is fine too).
		Images []string `json:"images"`
	}
	if !c.decodeMax(w, r, &req, maxImageBody) {
		return
	}
	if len(req.Images) > bot.MaxMedia {
		c.fail(w, r, http.StatusRequestEntityTooLarge, bot.ETOOLARGE, fmt.Sprintf("一次最多发 %d 张图片。", bot.MaxMedia))
		return
	}
	pictures := make([][]byte, 0, len(req.Images))
	for _, enc := range req.Images {
		if i := strings.Index(enc, ";base64,"); strings.HasPrefix(enc, "data:") && i > 0 {
			enc = enc[i+len(";base64,"):]
		}
		data, err := base64.StdEncoding.DecodeString(enc)
		switch {
		case err != nil:
			c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "图片不是有效的 base64 编码。")
			return
		case len(data) > maxImageBytes:
			c.fail(w, r, http.StatusRequestEntityTooLarge, bot.ETOOLARGE, fmt.Sprintf("图片太大了（超过 %d MB）。", maxImageBytes>>20))
			return
		}
		pictures = append(pictures, data)
	}
	c.mu.RLock()
	h, runCtx := c.handler, c.ctx
	c.mu.RUnlock()
	if h == nil {
		c.fail(w, r, http.StatusServiceUnavailable, "not_ready", "机器人还没有启动完成，请稍后再试。")
		return
	}
	g, err := c.findGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		c.logger.Error("finding playground group", "err", err)
		c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "读取群信息失败。")
		return
	}
	if g == nil {
		c.fail(w, r, http.StatusNotFound, bot.ENOTFOUND, "没有这个群，请先创建群。")
		return
	}
	if req.SenderID == "" {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, "请填写发送人（sender_id）。")
		return
	}
	if utf8.RuneCountInString(req.SenderID) > maxIDRunes || utf8.RuneCountInString(req.MsgID) > maxIDRunes || utf8.RuneCountInString(req.SenderName) > maxIDRunes {
		c.fail(w, r, http.StatusBadRequest, bot.EINVALID, fmt.Sprintf("发送人、昵称和消息编号最多 %d 个字符。", maxIDRunes))
		return
	}
	req.Text, req.SenderName = clean(req.Text), clean(req.SenderName)
	if req.MsgID == "" {
		req.MsgID = randomID()
	}
	text, mention := stripMention(req.Text)
	msg := &bot.Message{
		Channel: Name, GroupID: g.PlatformID, GroupName: g.Name,
		SenderID: req.SenderID, SenderName: req.SenderName,
		Text: text, MentionsBot: req.Mention || mention,
		PlatformMsgID: req.MsgID, Time: c.Now(),
	}
	for _, data := range pictures {
		msg.Media = append(msg.Media, bot.Media{Kind: bot.MediaImage, Ref: c.keepImage(data)})
	}
	// The transcript plays the platform: it keeps what people said, and a
	// message sent again with the same ID is a redelivery the bot must ignore.
	shown := req.Text
	if len(pictures) > 0 {
		shown = strings.TrimSpace(strings.Repeat("[图片] ", len(pictures)) + shown) // the transcript never keeps the picture
	}
	line := &Line{GroupID: g.PlatformID, SenderID: req.SenderID, SenderName: req.SenderName,
		MsgID: req.MsgID, Mentions: msg.MentionsBot, Text: shown}
	if len(shown) <= bot.MaxTextBytes && utf8.ValidString(shown) {
		if _, err := c.transcript.AppendLine(r.Context(), line); err != nil {
			c.logger.Error("storing playground line", "err", err)
			c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "保存消息失败。")
			return
		}
	}
	// Handle on the channel's context, not the request's: a client that
	// hangs up must not cut a handler short halfway.
	err = h.Dispatch(context.WithoutCancel(runCtx), c, msg)
	code := bot.ErrorCode(err)
	if err != nil && code != bot.EDUPLICATE {
		status := statusFor(code)
		if status == http.StatusInternalServerError {
			c.logger.Error("handling playground message", "err", err)
		}
		c.fail(w, r, status, code, bot.ErrorMessage(err))
		return
	}
	replies, err := c.transcript.Lines(r.Context(), g.PlatformID, line.ID, 50)
	if err != nil {
		replies = nil
	}
	bots := []Line{}
	for _, l := range replies {
		if l.FromBot {
			bots = append(bots, l)
		}
	}
	status := http.StatusOK
	if code == bot.EDUPLICATE {
		bots = []Line{}
	}
	writeJSON(w, status, map[string]any{"msg_id": req.MsgID, "duplicate": code == bot.EDUPLICATE, "replies": bots})
}

// keepImage holds a posted picture in memory for FetchMedia and returns
// its reference.
func (c *Channel) keepImage(data []byte) string {
	id := "img-" + randomID()
	c.imgMu.Lock()
	defer c.imgMu.Unlock()
	c.images[id] = data
	c.imageIDs = append(c.imageIDs, id)
	c.imageSize += len(data)
	for len(c.imageIDs) > keptImages || c.imageSize > keptImageBytes {
		old := c.imageIDs[0]
		c.imageIDs = c.imageIDs[1:]
		c.imageSize -= len(c.images[old])
		delete(c.images, old)
	}
	return id
}

// FetchMedia implements bot.MediaFetcher: the pictures posted with a
// message, while they are still held.
func (c *Channel) FetchMedia(ctx context.Context, msg *bot.Message, m bot.Media, max int64) ([]byte, error) {
	c.imgMu.Lock()
	data, ok := c.images[m.Ref]
	c.imgMu.Unlock()
	switch {
	case !ok:
		return nil, bot.Errorf(bot.ENOTFOUND, "图片已经过期，请重新发送。")
	case int64(len(data)) > max:
		return nil, bot.Errorf(bot.ETOOLARGE, "图片太大了（超过 %d MB），请截取可疑的那一部分再发。", max>>20)
	}
	return data, nil
}

func (c *Channel) listMessages(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	g, err := c.findGroup(r.Context(), r.PathValue("id"))
	if err != nil || g == nil {
		c.fail(w, r, http.StatusNotFound, bot.ENOTFOUND, "没有这个群。")
		return
	}
	lines, err := c.transcript.Lines(r.Context(), g.PlatformID, after, 500)
	if err != nil {
		c.logger.Error("reading playground lines", "err", err)
		c.fail(w, r, http.StatusInternalServerError, bot.EINTERNAL, "读取消息失败。")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": lines})
}

// stripMention removes a leading "@机器人"-style mention, as the real
// platforms do before the bot sees the text.
func stripMention(text string) (string, bool) {
	t := strings.TrimSpace(text)
	for _, p := range []string{"@bot", "@反诈助手", "@反诈机器人", "@fanzha", "＠反诈助手", "＠bot"} {
		if len(t) >= len(p) && strings.EqualFold(t[:len(p)], p) {
			return strings.TrimSpace(t[len(p):]), true
		}
	}
	return text, false
}

func randomID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("playground: no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}
