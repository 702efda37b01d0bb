package dingtalk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeDingTalk is the platform side, on 127.0.0.1, speaking DingTalk's wire
// protocol: the stream gateway's connection-open endpoint and websocket,
// sessionWebhook receivers, the token endpoint, the robot group send, and
// the robot file download (messageFiles/download and the temporary links
// it hands out).
type fakeDingTalk struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	conn     *websocket.Conn
	connMu   sync.Mutex // serialises writes to conn
	opens    int
	conns    int
	acks     map[string]int // messageId → code of the last ACK
	ackCount int
	replies  []map[string]any
	sends    []sent
	tokens   []string
	expireIn int
	throttle int                 // answer this many group sends with a throttle error first
	removed  map[string]bool     // conversations the robot was removed from
	files    map[string][]byte   // download code → the file behind it
	deleted  map[string]bool     // download codes whose link answers 404
	denied   bool                // refuse messageFiles/download: no permission
	fetches  []sent              // messageFiles/download calls: token, robot, text = code
	readers  map[string][]string // processQueryKey → who read the post
	topics   []string            // topics the client subscribed to
	cards    []map[string]any    // createAndDeliver bodies
	queries  int                 // groupMessages/query calls
	recalled []string            // processQueryKeys recalled

	deaf      atomic.Bool // stop reading the websocket: pings go unanswered
	connected chan int    // each new gateway connection's number
}

type sent struct {
	token, group, robot, text string
}

func newFake(t *testing.T) *fakeDingTalk {
	f := &fakeDingTalk{t: t, secret: "right-secret", acks: map[string]int{}, expireIn: 7200,
		removed: map[string]bool{}, files: map[string][]byte{}, deleted: map[string]bool{}, connected: make(chan int, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/gateway/connections/open", f.open)
	mux.HandleFunc("GET /gateway", f.gateway)
	mux.HandleFunc("POST /webhook/{id}", f.webhook)
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", f.accessToken)
	mux.HandleFunc("POST /v1.0/robot/groupMessages/send", f.groupSend)
	mux.HandleFunc("POST /v1.0/robot/messageFiles/download", f.fileDownload)
	mux.HandleFunc("POST /v1.0/robot/groupMessages/query", f.groupQuery)
	mux.HandleFunc("POST /v1.0/robot/groupMessages/recall", f.groupRecall)
	mux.HandleFunc("POST /v1.0/card/instances/createAndDeliver", f.cardDeliver)
	mux.HandleFunc("GET /files/{code}", f.file)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.conn != nil {
			f.conn.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeDingTalk) open(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ClientID      string `json:"clientId"`
		ClientSecret  string `json:"clientSecret"`
		Subscriptions []struct{ Type, Topic string }
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.opens++
	n := f.opens
	for _, s := range req.Subscriptions {
		f.topics = append(f.topics, s.Topic)
	}
	f.mu.Unlock()
	if req.ClientSecret != f.secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "InvalidAuthentication", "message": "clientSecret is wrong"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"endpoint": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gateway",
		"ticket": fmt.Sprintf("ticket-%d", n)})
}

var upgrader = websocket.Upgrader{}

func (f *fakeDingTalk) gateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("ticket") == "" {
		http.Error(w, "no ticket", http.StatusUnauthorized)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conn = conn
	f.conns++
	n := f.conns
	f.mu.Unlock()
	f.deaf.Store(false)
	// Answer the client's keep-alive pings, unless told to play dead.
	conn.SetPingHandler(func(data string) error {
		if f.deaf.Load() {
			return nil
		}
		f.connMu.Lock()
		defer f.connMu.Unlock()
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	f.connected <- n
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			Code    int               `json:"code"`
			Headers map[string]string `json:"headers"`
		}
		if json.Unmarshal(data, &ack) == nil {
			f.mu.Lock()
			f.acks[ack.Headers["messageId"]] = ack.Code
			f.ackCount++
			f.mu.Unlock()
		}
	}
}

// frame sends one data frame in the real format: every header a string,
// data a JSON document in a string.
func (f *fakeDingTalk) frame(typ, topic, messageID string, data any) {
	f.t.Helper()
	d, _ := json.Marshal(data)
	fr := map[string]any{"specVersion": "1.0", "type": typ, "data": string(d),
		"headers": map[string]string{"topic": topic, "messageId": messageID, "contentType": "application/json",
			"time": fmt.Sprint(time.Now().UnixMilli()), "appId": "app-1"}}
	f.mu.Lock()
	conn := f.conn
	f.mu.Unlock()
	f.connMu.Lock()
	defer f.connMu.Unlock()
	if err := conn.WriteJSON(fr); err != nil {
		f.t.Fatalf("writing frame: %v", err)
	}
}

// robotMessage is a group @-message as DingTalk delivers it.
func (f *fakeDingTalk) robotMessage(frameID, msgID, conv, staff, text string) {
	f.frame("CALLBACK", "/v1.0/im/bot/messages/get", frameID, map[string]any{
		"conversationId": conv, "conversationType": "2", "conversationTitle": "幸福社区居民群",
		"msgId": msgID, "createAt": time.Now().UnixMilli(), "senderStaffId": staff, "senderNick": "张阿姨",
		"senderId": "$:LWCP_v1:$enc" + staff, "isInAtList": true, "chatbotUserId": "$:bot",
		"sessionWebhook": f.srv.URL + "/webhook/" + msgID, "sessionWebhookExpiredTime": time.Now().Add(90 * time.Minute).UnixMilli(),
		"text": map[string]string{"content": " " + text}, "msgtype": "text", "robotCode": "ding-robot",
	})
}

// mediaMessage is a robot message of another msgtype: its content is what
// DingTalk puts under "content" for that type.
func (f *fakeDingTalk) mediaMessage(frameID, msgID string, direct bool, msgtype string, content any) {
	conv, convType := "cid-group-media", "2"
	if direct {
		conv, convType = "cid-1to1-media", "1"
	}
	f.frame("CALLBACK", "/v1.0/im/bot/messages/get", frameID, map[string]any{
		"conversationId": conv, "conversationType": convType, "conversationTitle": "幸福社区居民群",
		"msgId": msgID, "createAt": time.Now().UnixMilli(), "senderStaffId": "staff-7", "senderNick": "李大爷",
		"senderId": "$:LWCP_v1:$encstaff-7", "isInAtList": !direct, "chatbotUserId": "$:bot",
		"sessionWebhook": f.srv.URL + "/webhook/" + msgID, "sessionWebhookExpiredTime": time.Now().Add(90 * time.Minute).UnixMilli(),
		"msgtype": msgtype, "content": content, "robotCode": "ding-robot",
	})
}

func (f *fakeDingTalk) webhook(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 400001, "errmsg": "bad json"})
		return
	}
	body["_webhook"] = r.PathValue("id")
	f.mu.Lock()
	f.replies = append(f.replies, body)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

func (f *fakeDingTalk) accessToken(w http.ResponseWriter, r *http.Request) {
	var req struct{ AppKey, AppSecret string }
	json.NewDecoder(r.Body).Decode(&req)
	if req.AppSecret != f.secret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidClientSecret", "message": "wrong appSecret"})
		return
	}
	f.mu.Lock()
	tok := fmt.Sprintf("tok-%d", len(f.tokens)+1)
	f.tokens = append(f.tokens, tok)
	exp := f.expireIn
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": exp})
}

func (f *fakeDingTalk) groupSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RobotCode, OpenConversationID, MsgKey, MsgParam string
	}
	json.NewDecoder(r.Body).Decode(&req)
	tok := r.Header.Get("x-acs-dingtalk-access-token")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, tok) {
		return
	}
	if f.throttle > 0 {
		f.throttle--
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"code": "Throttling.Api", "message": "too many requests"})
		return
	}
	if f.removed[req.OpenConversationID] {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter.robotCode.notExsit", "message": "robot not in group"})
		return
	}
	var param struct{ Content string }
	if req.MsgKey != "sampleText" || json.Unmarshal([]byte(req.MsgParam), &param) != nil || param.Content == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter.msgParam", "message": "bad msgParam"})
		return
	}
	f.sends = append(f.sends, sent{token: tok, group: req.OpenConversationID, robot: req.RobotCode, text: param.Content})
	writeJSON(w, http.StatusOK, map[string]string{"processQueryKey": fmt.Sprintf("pq-%d", len(f.sends))})
}

// fileDownload trades a download code for a temporary link, as
// messageFiles/download does: {"downloadCode","robotCode"} → {"downloadUrl"}.
func (f *fakeDingTalk) fileDownload(w http.ResponseWriter, r *http.Request) {
	var req struct{ DownloadCode, RobotCode string }
	json.NewDecoder(r.Body).Decode(&req)
	tok := r.Header.Get("x-acs-dingtalk-access-token")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, tok) {
		return
	}
	f.fetches = append(f.fetches, sent{token: tok, robot: req.RobotCode, text: req.DownloadCode})
	if f.denied {
		writeJSON(w, http.StatusForbidden, map[string]string{"code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
			"message": "没有调用该接口的权限，接口权限申请参考：qyapi_robot_sendmsg"})
		return
	}
	if _, ok := f.files[req.DownloadCode]; !ok || req.RobotCode != "ding-robot" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter.downloadCode", "message": "downloadCode is invalid or expired"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"downloadUrl": f.srv.URL + "/files/" + req.DownloadCode + "?Expires=300&Signature=opaque"})
}

// file serves a temporary link. Files over 64 KiB are streamed in chunks
// without a Content-Length, so a reader cannot tell the size up front.
func (f *fakeDingTalk) file(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	f.mu.Lock()
	b, ok := f.files[code]
	gone := f.deleted[code]
	f.mu.Unlock()
	if !ok || gone {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	if len(b) <= 64<<10 {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
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
}

// waitFor polls cond until it holds; the deadline guards against hangs and
// is not a speed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fakeDingTalk) snapshot() (acks int, replies []map[string]any, sends []sent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ackCount, append([]map[string]any(nil), f.replies...), append([]sent(nil), f.sends...)
}

// readPage is the fake's page size for readers, small so that paging shows.
const readPage = 2

// groupQuery answers who read a group post, as groupMessages/query does:
// {"processQueryKey","openConversationId","robotCode","maxResults",
// "nextToken"} → {"readUserIds","hasMore","nextToken","sendStatus"}.
func (f *fakeDingTalk) groupQuery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProcessQueryKey, OpenConversationID, RobotCode, NextToken string
		MaxResults                                                int
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r.Header.Get("x-acs-dingtalk-access-token")) {
		return
	}
	readers, ok := f.readers[req.ProcessQueryKey]
	if !ok || req.RobotCode != "ding-robot" || req.MaxResults < 1 || req.MaxResults > 200 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter.processQueryKey", "message": "bad query"})
		return
	}
	f.queries++
	start, _ := strconv.Atoi(req.NextToken)
	end := min(start+readPage, len(readers))
	out := map[string]any{"readUserIds": readers[start:end], "hasMore": end < len(readers), "sendStatus": "COMPLETED"}
	if end < len(readers) {
		out["nextToken"] = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, out)
}

// groupRecall takes posts back, as groupMessages/recall does.
func (f *fakeDingTalk) groupRecall(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenConversationID, RobotCode string
		ProcessQueryKeys              []string
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recalled = append(f.recalled, req.ProcessQueryKeys...)
	writeJSON(w, http.StatusOK, map[string]any{"successResult": req.ProcessQueryKeys, "failedResult": map[string]string{}})
}

// cardDeliver creates and delivers an interactive card, as
// card/instances/createAndDeliver does; it checks the fields a delivery to
// a group needs.
func (f *fakeDingTalk) cardDeliver(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r.Header.Get("x-acs-dingtalk-access-token")) {
		return
	}
	space, _ := req["openSpaceId"].(string)
	if req["cardTemplateId"] == "" || req["outTrackId"] == "" || req["callbackType"] != "STREAM" || !strings.HasPrefix(space, "dtv1.card//IM_GROUP.") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidParameter", "message": "bad card delivery"})
		return
	}
	f.cards = append(f.cards, req)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": map[string]any{"outTrackId": req["outTrackId"]}})
}

// authorized answers 401 unless tok is the newest access token, as the
// OpenAPI does for a revoked one. Call it with f.mu held.
func (f *fakeDingTalk) authorized(w http.ResponseWriter, tok string) bool {
	if len(f.tokens) == 0 || tok != f.tokens[len(f.tokens)-1] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "InvalidAuthentication", "message": "token invalid"})
		return false
	}
	return true
}
