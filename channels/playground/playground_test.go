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
