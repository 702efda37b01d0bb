package playground_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fanzha/bot"
	"fanzha/channels/playground"
	"fanzha/store/storetest"
)

// echo is a bot that answers every message it is handed.
type echo struct{}

func (echo) Dispatch(ctx context.Context, ch bot.Channel, m *bot.Message) error {
	return ch.Reply(ctx, m, bot.Reply{Text: "收到：" + m.Text})
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestPlaygroundChat: a group is created, a message goes to the bot and its
// answer comes back in the reply and in the chat; a message before the bot
// has started and bad bodies are refused with a clear error. (Redelivered
// IDs are the bot's inbox's to refuse: see cmd/fanzha.)
func TestPlaygroundChat(t *testing.T) {
	db := storetest.Open(t, "")
	ch := playground.New(db.Transcript(), db.Groups(), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(ch.Handler())
	defer srv.Close()
	if code, out := call(t, srv, "POST", "/playground/groups/x/messages", `{"text":"你好"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("a message before the bot started: %d %v", code, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ch.Start(ctx, echo{})
	<-ch.Ready()

	if code, out := call(t, srv, "POST", "/playground/groups", `{"id":"g1","name":"幸福社区居民群"}`); code != http.StatusCreated {
		t.Fatalf("creating a group: %d %v", code, out)
	}
	code, out := call(t, srv, "POST", "/playground/groups/g1/messages", `{"sender_id":"u1","sender_name":"张阿姨","text":"这是诈骗吗","msg_id":"m1"}`)
	replies, _ := out["replies"].([]any)
	if code != http.StatusOK || len(replies) != 1 || !strings.Contains(replies[0].(map[string]any)["text"].(string), "收到：这是诈骗吗") {
		t.Fatalf("a message: %d %v", code, out)
	}
	_, out = call(t, srv, "GET", "/playground/groups/g1/messages", "")
	if lines, _ := out["messages"].([]any); len(lines) != 2 {
		t.Fatalf("the chat holds %d lines; want the message and the answer: %v", len(lines), out)
	}
	for _, body := range []string{`{"text":`, `{"name":""}`, string(bytes.Repeat([]byte("x"), 2<<20))} {
		if code, out := call(t, srv, "POST", "/playground/groups", body); code < 400 || code >= 500 || out["error"] == nil {
			t.Errorf("bad body %.20q: %d %v", body, code, out)
		}
	}
}

// TestPlaygroundInputIsStrict: one JSON object and nothing after it, only
// as application/json and from this site, short IDs, and no control
// characters stored.
func TestPlaygroundInputIsStrict(t *testing.T) {
	db := storetest.Open(t, "")
	ch := playground.New(db.Transcript(), db.Groups(), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(ch.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ch.Start(ctx, echo{})
	<-ch.Ready()
	post := func(path, ctype, origin, body string) int {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const js = "application/json"
	for name, code := range map[string]int{
		"trailing data": post("/playground/groups", js, "", `{"id":"a","name":"群"} {"x":1}`),
		"text/plain":    post("/playground/groups", "text/plain", "", `{"id":"b","name":"群"}`),
		"other site":    post("/playground/groups", js, "https://evil.example", `{"id":"c","name":"群"}`),
		"long id":       post("/playground/groups", js, "", `{"id":"`+strings.Repeat("x", 500<<10)+`","name":"群"}`),
	} {
		if code < 400 {
			t.Errorf("%s accepted: %d", name, code)
		}
	}
	if code := post("/playground/groups", js, srv.URL, `{"id":"g1","name":"幸福\u0000社区群"}`); code != http.StatusCreated {
		t.Fatalf("a group from this site: %d", code)
	}
	post("/playground/groups/g1/messages", js, "", `{"sender_id":"u1","text":"你好\u001b[31m红色\u0000","msg_id":"m1"}`)
	lines, _ := db.Transcript().Lines(context.Background(), "g1", 0, 10)
	for _, l := range lines {
		if strings.ContainsAny(l.Text, "\x00\x1b") {
			t.Fatalf("control characters stored: %q", l.Text)
		}
	}
	gs, _ := db.Groups().FindGroups(context.Background(), bot.GroupFilter{PlatformID: "g1"})
	if len(gs) != 1 || gs[0].Name != "幸福社区群" {
		t.Fatalf("group name: %+v", gs)
	}
}
