// Package dingtalk is fanzha's DingTalk channel: a group robot in stream
// mode on github.com/open-dingtalk/dingtalk-stream-sdk-go (pinned at
// v0.9.2-beta.1, which fixes v0.9.1's ping-timeout panic and unsynchronised
// ACK writes), replies through each message's sessionWebhook, and proactive
// posts through the OpenAPI robot group send.
//
// Where the SDK is not robust enough on its own, the channel is: it
// deduplicates on msgId through the durable inbox, acknowledges a frame as
// soon as the message is stored and does the work afterwards, backs off
// when the credentials are wrong, and reads the error codes in response
// bodies rather than trusting HTTP 200.
//
// # Pictures and voice
//
// The SDK leaves a robot message's content as untyped JSON; the channel
// reads three msgtypes from it:
//
//   - "picture": {"downloadCode", "pictureDownloadCode"}. DingTalk sends it
//     in 1:1 chats only; in a group a picture arrives inside richText.
//   - "richText": {"richText": [{"text": "…"}, {"type": "picture",
//     "downloadCode", "pictureDownloadCode"}, …]}: the text parts become the
//     message text, each picture an image (at most bot.MaxMedia).
//   - "audio": {"duration" (ms), "downloadCode", "recognition"}: DingTalk's
//     own transcription becomes the message text and the voice Media's
//     Transcript. Group members cannot @-mention the robot with a voice
//     clip (nor a file or video): voice reaches it only in 1:1 chats.
//
// A picture's Ref is its downloadCode (pictureDownloadCode when there is no
// downloadCode), a short-lived code, never the bytes. FetchMedia trades it
// for a temporary link: POST {OpenAPIHost}/v1.0/robot/messageFiles/download
// with header x-acs-dingtalk-access-token (the app token proactive posts
// use) and body {"downloadCode", "robotCode"} answers {"downloadUrl"}; a
// plain GET of that link returns the file. Errors come as a non-200 with
// {"code", "message"}. DingTalk documents no code for an expired or unknown
// download code, so HTTP 404/410, and codes that name the download code or
// say not found or expired, count as "the picture is gone".
package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"

	"fanzha/bot"
	"fanzha/channels/internal/download"
)

// Name is the channel name stored with DingTalk groups and members.
const Name = "dingtalk"

// DefaultOpenAPIHost is DingTalk's API, for the stream gateway and sends.
const DefaultOpenAPIHost = "https://api.dingtalk.com"

// maxBody is DingTalk's limit for a sessionWebhook reply; the group send
// limit (msgParam) is 15,000 bytes.
const (
	maxReplyBytes = 20000
	maxParamBytes = 15000
)

// Config switches the channel on.
type Config struct {
	ClientID     string
	ClientSecret string
	RobotCode    string // usually the app's client ID
	// OpenAPIHost is where the stream gateway and the APIs are; tests point
	// it at a fake. Default DefaultOpenAPIHost.
	OpenAPIHost string
	// KeepAlive is the idle time before the client pings the gateway
	// (SDK minimum 3 s; default 120 s).
	KeepAlive time.Duration
	// Workers handle accepted messages concurrently (default 8).
	Workers int
	// MaxPending bounds frames being stored at once. The SDK leaves frames
	// beyond it un-ACKed for DingTalk to deliver again a minute later; a
	// campaign message to many groups arrives as a burst, so the default is
	// 4096 (a pending frame is one small goroutine).
	MaxPending int
	// CardTemplateID, if set, sends posts that ask for one of a few answers
	// as interactive cards built on that template (cards.go).
	CardTemplateID string
}

// Channel is the DingTalk channel. It implements bot.Channel.
type Channel struct {
	cfg    Config
	inbox  bot.Inbox
	logger *slog.Logger
	http   *http.Client
	// media downloads pictures. It has no timeout of its own: a large
	// picture on a slow link may take a while, and the caller's ctx says how
	// long is too long.
	media *http.Client
	// Now is the clock of token expiry and webhook validity.
	Now   func() time.Time
	cards cardGroups
	// OnRemoved is called when DingTalk says the robot is no longer in a
	// group (robotCode.notExsit).
	OnRemoved func(ctx context.Context, groupID string)

	mu       sync.Mutex
	token    string
	tokenExp time.Time
	queue    *bot.Queue // accepted messages, handled after the ACK
}

// New returns the channel. inbox is where messages are made durable before
// DingTalk is told they arrived.
func New(cfg Config, inbox bot.Inbox, logger *slog.Logger) (*Channel, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("dingtalk: client_id and client_secret are required")
	}
	if cfg.RobotCode == "" {
		cfg.RobotCode = cfg.ClientID
	}
	if cfg.OpenAPIHost == "" {
		cfg.OpenAPIHost = DefaultOpenAPIHost
	}
	cfg.OpenAPIHost = strings.TrimRight(cfg.OpenAPIHost, "/")
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 4096
	}
	return &Channel{cfg: cfg, inbox: inbox, logger: logger.With("channel", Name),
		http: &http.Client{Timeout: 10 * time.Second}, media: &http.Client{}, Now: time.Now}, nil
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return Name }

// Start connects to the stream gateway and hands messages to h until ctx is
// done. A connection that cannot be opened (wrong secret, network down) is
// retried with growing pauses and logged once per distinct error, so a bad
// configuration neither crashes the bot nor floods the log.
func (c *Channel) Start(ctx context.Context, h bot.Handler) error {
	q := bot.NewQueue(ctx, c.cfg.Workers, h, c, c.logger)
	c.mu.Lock()
	c.queue = q
	c.mu.Unlock()
	opts := []client.ClientOption{
		client.WithAppCredential(client.NewAppCredentialConfig(c.cfg.ClientID, c.cfg.ClientSecret)),
		client.WithOpenApiHost(c.cfg.OpenAPIHost),
		client.WithMaxPendingHandlers(c.cfg.MaxPending),
	}
	if c.cfg.KeepAlive > 0 {
		opts = append(opts, client.WithKeepAlive(c.cfg.KeepAlive))
	}
	cli := client.NewStreamClient(opts...)
	cli.RegisterChatBotCallbackRouter(c.receive)
	if c.cfg.CardTemplateID != "" {
		cli.RegisterCardCallbackRouter(c.cardTap)
	}

	backoff, lastErr := 3*time.Second, ""
	for {
		err := cli.Start(ctx)
		if err == nil {
			c.logger.Info("connected to the DingTalk stream gateway")
			break
		}
		if ctx.Err() != nil {
			break
		}
		if msg := err.Error(); msg != lastErr {
			c.logger.Error("cannot connect to DingTalk; check dingtalk.client_id and dingtalk.client_secret. Retrying with backoff",
				"err", err)
			lastErr = msg
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Minute)
	}
	<-ctx.Done()
	cli.Close()
	q.Wait()
	return nil
}

// receive is the SDK's callback for one robot message. It returns as soon
// as the message is in the inbox, so the SDK acknowledges the frame; the
// work happens on the workers. A redelivered msgId is acknowledged and
// dropped.
func (c *Channel) receive(ctx context.Context, data *chatbot.BotCallbackDataModel) ([]byte, error) {
	msg, err := toMessage(data)
	if err != nil {
		c.logger.Warn("malformed robot message ignored", "err", err)
		return nil, nil // ACK: redelivering a malformed message will not fix it
	}
	return c.accept(ctx, msg)
}

// accept stores msg in the inbox and queues it for the workers. A
// redelivery is dropped; a message that cannot be stored is an error, so
// the frame is not acknowledged and DingTalk delivers it again.
func (c *Channel) accept(ctx context.Context, msg *bot.Message) ([]byte, error) {
	if err := c.inbox.Accept(ctx, msg); err != nil {
		if bot.ErrorCode(err) == bot.EDUPLICATE {
			c.logger.Info("duplicate delivery ignored", "msg", msg.PlatformMsgID)
			return nil, nil
		}
		return nil, fmt.Errorf("storing message: %w", err)
	}
	c.mu.Lock()
	q := c.queue
	c.mu.Unlock()
	if !q.Put(msg) {
		c.logger.Info("message stored during shutdown; it is handled at the next start", "msg", msg.PlatformMsgID)
	}
	return nil, nil
}

// toMessage turns a robot callback into a bot.Message.
func toMessage(d *chatbot.BotCallbackDataModel) (*bot.Message, error) {
	if d.MsgId == "" || d.ConversationId == "" {
		return nil, errors.New("msgId or conversationId missing")
	}
	sender := d.SenderStaffId
	if sender == "" {
		sender = d.SenderId // external users have no staff ID
	}
	m := &bot.Message{
		Channel:       Name,
		GroupName:     d.ConversationTitle,
		SenderID:      sender,
		SenderName:    d.SenderNick,
		Text:          strings.TrimSpace(d.Text.Content),
		MentionsBot:   d.IsInAtList || d.ConversationType == "1",
		Direct:        d.ConversationType == "1",
		PlatformMsgID: d.MsgId,
		Time:          time.UnixMilli(d.CreateAt),
		ReplyHandle:   d.SessionWebhook,
		ReplyExpires:  time.UnixMilli(d.SessionWebhookExpiredTime),
	}
	if d.CreateAt == 0 {
		m.Time = time.Now()
	}
	if !m.Direct {
		m.GroupID = d.ConversationId
	}
	switch d.Msgtype {
	case "picture":
		var c pictureContent
		if err := decodeContent(d.Content, &c); err != nil {
			return nil, fmt.Errorf("picture content: %w", err)
		}
		m.Text = ""
		if ref := c.ref(); ref != "" {
			m.Media = []bot.Media{{Kind: bot.MediaImage, Ref: ref}}
		}
	case "richText":
		var c struct {
			RichText []struct {
				Type string `json:"type"`
				Text string `json:"text"`
				pictureContent
			} `json:"richText"`
		}
		if err := decodeContent(d.Content, &c); err != nil {
			return nil, fmt.Errorf("richText content: %w", err)
		}
		var texts []string
		for _, part := range c.RichText {
			if t := strings.TrimSpace(part.Text); t != "" {
				texts = append(texts, t)
			}
			// Some clients leave out "type" on pictures: a download code
			// says enough.
			ref := part.ref()
			if ref != "" && (part.Type == "picture" || part.Type == "") && len(m.Media) < bot.MaxMedia {
				m.Media = append(m.Media, bot.Media{Kind: bot.MediaImage, Ref: ref})
			}
		}
		m.Text = strings.Join(texts, "\n")
	case "audio":
		var c struct {
			Recognition string `json:"recognition"`
		}
		// The transcription is read like typed text by every feature; a
		// clip without one (or with unreadable content) has no text, and
		// the handler asks the sender to type.
		_ = decodeContent(d.Content, &c)
		m.Text = strings.TrimSpace(c.Recognition)
		m.Media = []bot.Media{{Kind: bot.MediaVoice, Transcript: m.Text}}
	}
	return m, nil
}

// pictureContent is how DingTalk names a picture, alone or in richText.
type pictureContent struct {
	DownloadCode        string `json:"downloadCode"`
	PictureDownloadCode string `json:"pictureDownloadCode"`
}

func (p pictureContent) ref() string {
	if p.DownloadCode != "" {
		return p.DownloadCode
	}
	return p.PictureDownloadCode
}

// decodeContent reads a robot message's content, which the SDK leaves as
// decoded but untyped JSON, into v. A content sent as a JSON document in a
// string is read too.
func decodeContent(content any, v any) error {
	if content == nil {
		return errors.New("no content")
	}
	raw, ok := content.(string)
	if !ok {
		b, err := json.Marshal(content)
		if err != nil {
			return err
		}
		raw = string(b)
	}
	return json.Unmarshal([]byte(raw), v)
}

// apiError is DingTalk's error body: new APIs use code/message, webhook
// robots errcode/errmsg.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// sendError classifies a failed call: retryable (throttled, server error)
// or permanent (wrapped in bot.ErrPermanent).
type sendError struct {
	status int
	body   apiError
}

func (e *sendError) Error() string {
	code, msg := e.body.Code, e.body.Message
	if code == "" && e.body.ErrCode != 0 {
		code, msg = fmt.Sprint(e.body.ErrCode), e.body.ErrMsg
	}
	return fmt.Sprintf("dingtalk: HTTP %d %s %s", e.status, code, msg)
}

// throttled are DingTalk's "slow down" answers.
func (e *sendError) throttled() bool {
	switch e.body.ErrCode {
	case 90002, 90018, 90019, 130101:
		return true
	}
	c := strings.ToLower(e.body.Code)
	return e.status == http.StatusTooManyRequests || strings.Contains(c, "throttl") || strings.Contains(c, "ratelimit") ||
		strings.Contains(c, "qps")
}

func (e *sendError) Unwrap() error {
	if e.status >= 500 || e.throttled() {
		return nil // retry with backoff
	}
	return bot.ErrPermanent
}

// robotRemoved: the robot is not (or no longer) in the conversation.
func (e *sendError) robotRemoved() bool {
	return strings.Contains(e.body.Code, "robotCode.notExsit") || strings.Contains(e.body.Code, "robot.notExist")
}

// call POSTs body as JSON and decodes a 2xx answer into out. Any non-2xx
// status, or a 2xx with a non-zero errcode, is a *sendError.
func (c *Channel) call(ctx context.Context, url string, header map[string]string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("dingtalk: %w", err) // network: retry
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ae apiError
	_ = json.Unmarshal(raw, &ae)
	if resp.StatusCode/100 != 2 || ae.ErrCode != 0 {
		return &sendError{status: resp.StatusCode, body: ae}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("dingtalk: unreadable answer from %s: %w", url, err)
		}
	}
	return nil
}

// tokenMargin: a token is renewed this long before it expires.
const tokenMargin = 5 * time.Minute

// accessToken returns a cached app token, fetching a new one when it is
// about to expire or when force is set (the last one was refused).
func (c *Channel) accessToken(ctx context.Context, force bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.token != "" && c.Now().Before(c.tokenExp.Add(-tokenMargin)) {
		return c.token, nil
	}
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int    `json:"expireIn"`
	}
	err := c.call(ctx, c.cfg.OpenAPIHost+"/v1.0/oauth2/accessToken", nil,
		map[string]string{"appKey": c.cfg.ClientID, "appSecret": c.cfg.ClientSecret}, &out)
	if err != nil {
		return "", fmt.Errorf("getting an access token: %w", err)
	}
	if out.AccessToken == "" {
		return "", errors.New("dingtalk: empty access token")
	}
	c.token, c.tokenExp = out.AccessToken, c.Now().Add(time.Duration(out.ExpireIn)*time.Second)
	return c.token, nil
}

// Reply answers through the message's sessionWebhook while it is valid,
// @-mentioning the asker in groups; otherwise through the group send.
func (c *Channel) Reply(ctx context.Context, msg *bot.Message, r bot.Reply) error {
	if msg.ReplyHandle != "" && c.Now().Before(msg.ReplyExpires) {
		body := map[string]any{"msgtype": "text", "text": map[string]string{"content": bot.Truncate(r.Text, maxReplyBytes-200)}}
		if r.AtSender && !msg.Direct && msg.SenderID != "" {
			body["at"] = map[string]any{"atUserIds": []string{msg.SenderID}}
		}
		err := c.call(ctx, msg.ReplyHandle, nil, body, nil)
		if err == nil {
			return nil
		}
		c.logger.Warn("sessionWebhook reply failed; trying the group send", "err", err)
	}
	if msg.Direct {
		return fmt.Errorf("dingtalk: the 1:1 reply webhook expired; cannot answer %s", msg.PlatformMsgID)
	}
	return c.Post(ctx, msg.GroupID, bot.Post{Kind: "reply", Text: r.Text})
}

// Post sends to a group with the robot group send API, or as a card.
func (c *Channel) Post(ctx context.Context, groupID string, p bot.Post) error {
	_, err := c.PostForReceipt(ctx, groupID, p)
	return err
}

// post sends and returns the post's processQueryKey.
func (c *Channel) post(ctx context.Context, groupID string, p bot.Post) (string, error) {
	param, _ := json.Marshal(map[string]string{"content": bot.Truncate(p.Text, maxParamBytes-100)})
	body := map[string]string{"robotCode": c.cfg.RobotCode, "openConversationId": groupID, "msgKey": "sampleText", "msgParam": string(param)}
	var out struct {
		ProcessQueryKey string `json:"processQueryKey"`
	}
	err := c.openAPI(ctx, "/v1.0/robot/groupMessages/send", body, &out)
	var se *sendError
	if errors.As(err, &se) && se.robotRemoved() && c.OnRemoved != nil {
		c.OnRemoved(ctx, groupID)
	}
	if err != nil {
		return "", err
	}
	if out.ProcessQueryKey == "" {
		return "", errors.New("dingtalk: group send answered without processQueryKey")
	}
	return out.ProcessQueryKey, nil
}

// FetchMedia downloads a picture of msg: its download code is traded for a
// temporary link (messageFiles/download, with the robot code proactive
// posts use), and the link is read, at most max bytes of it. It implements
// bot.MediaFetcher.
func (c *Channel) FetchMedia(ctx context.Context, msg *bot.Message, m bot.Media, max int64) ([]byte, error) {
	if m.Ref == "" {
		return nil, fmt.Errorf("dingtalk: %s media of message %s has no download code", m.Kind, msg.PlatformMsgID)
	}
	link, err := c.downloadURL(ctx, m.Ref)
	if err != nil {
		var se *sendError
		if errors.As(err, &se) && se.gone() {
			c.logger.Info("picture no longer downloadable", "msg", msg.PlatformMsgID, "err", err)
			return nil, download.Gone()
		}
		return nil, err
	}
	b, err := download.Bounded(ctx, c.media, link, "dingtalk", max, max)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		c.logger.Info("picture no longer downloadable", "msg", msg.PlatformMsgID)
	}
	return b, err
}

// downloadURL trades a download code for a temporary download link.
func (c *Channel) downloadURL(ctx context.Context, code string) (string, error) {
	body := map[string]string{"downloadCode": code, "robotCode": c.cfg.RobotCode}
	var out struct {
		DownloadURL string `json:"downloadUrl"`
	}
	if err := c.openAPI(ctx, "/v1.0/robot/messageFiles/download", body, &out); err != nil {
		return "", fmt.Errorf("dingtalk: messageFiles/download: %w", err)
	}
	if out.DownloadURL == "" {
		return "", errors.New("dingtalk: messageFiles/download answered without downloadUrl")
	}
	return out.DownloadURL, nil
}

// gone reports whether DingTalk no longer has the file a download code
// named. No code for that is documented: these are the answers that say so.
func (e *sendError) gone() bool {
	if e.status == http.StatusNotFound || e.status == http.StatusGone {
		return true
	}
	code := strings.ToLower(e.body.Code)
	for _, w := range []string{"downloadcode", "notfound", "notexist", "notexsit", "expired"} {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}
