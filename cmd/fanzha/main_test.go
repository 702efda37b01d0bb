package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"fanzha/bot"
	"fanzha/store/storetest"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// runMain starts the bot on its defaults, with data in dir and the web
// server on a free port, and returns its base URL.
func runMain(t testing.TB, dir string) (*Main, string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m := NewMain(logs)
	m.Config.DataDir = dir
	m.Config.Web.Addr = "127.0.0.1:0"
	useTestDatabase(t, m, dir)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, "http://" + m.Addr, logs
}

// useTestDatabase puts the database of dir on the test PostgreSQL server,
// when there is one, as a schema of its own; the commands the test runs
// (fanzha admin …) find it there too.
func useTestDatabase(t testing.TB, m *Main, dir string) {
	if storetest.Postgres() != "" {
		m.Config.Database.URL = storetest.URL(t, filepath.Join(dir, "fanzha.db"))
		t.Setenv("FANZHA_DATABASE_URL", m.Config.Database.URL)
	}
}

// call sends a request with a raw body and decodes the JSON answer.
func call(t testing.TB, method, url string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: status %d, body not JSON: %s", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func createGroup(t *testing.T, base, id, name string) {
	t.Helper()
	status, out := call(t, "POST", base+"/playground/groups", mustJSON(map[string]string{"id": id, "name": name}))
	if status != http.StatusCreated {
		t.Fatalf("creating group: %d %v", status, out)
	}
}

// say posts a message as a resident and returns the status, the bot's
// replies and whether the bot called it a duplicate.
func say(t *testing.T, base, group, sender, msgID, text string) (int, []string, bool) {
	t.Helper()
	status, out := call(t, "POST", base+"/playground/groups/"+group+"/messages",
		mustJSON(map[string]any{"sender_id": sender, "sender_name": sender, "text": text, "msg_id": msgID}))
	dup, _ := out["duplicate"].(bool)
	return status, replyTexts(status, out), dup
}

// replyTexts are the bot's replies in a playground answer, or its error.
func replyTexts(status int, out map[string]any) []string {
	var replies []string
	if rs, ok := out["replies"].([]any); ok {
		for _, r := range rs {
			replies = append(replies, r.(map[string]any)["text"].(string))
		}
	}
	if status >= 400 {
		replies = append(replies, fmt.Sprint(out["error"]))
	}
	return replies
}

// boundTo returns what /api/groups says the group is bound to.
func boundTo(t *testing.T, base, name string) string {
	t.Helper()
	_, out := call(t, "GET", base+"/api/groups", nil)
	for _, g := range out["groups"].([]any) {
		g := g.(map[string]any)
		if g["name"] == name {
			s, _ := g["org_unit"].(string)
			return s
		}
	}
	t.Fatalf("group %q not in /api/groups: %v", name, out)
	return ""
}

func TestPlaygroundHelpAndBind(t *testing.T) {
	_, base, _ := runMain(t, t.TempDir())
	createGroup(t, base, "g1", "幸福社区居民群")

	status, replies, _ := say(t, base, "g1", "zhang", "m1", "@bot 帮助")
	if status != 200 || len(replies) != 1 || !strings.Contains(replies[0], "绑定") || !strings.Contains(replies[0], "96110") {
		t.Fatalf("help: %d %q", status, replies)
	}
	if boundTo(t, base, "幸福社区居民群") != "" {
		t.Fatal("group bound before anyone bound it")
	}
	status, replies, _ = say(t, base, "g1", "wang", "m2", "绑定 幸福社区")
	if status != 200 || len(replies) != 1 || !strings.Contains(replies[0], "已绑定") {
		t.Fatalf("bind: %d %q", status, replies)
	}
	if got := boundTo(t, base, "幸福社区居民群"); got != "幸福社区" {
		t.Fatalf("bound to %q; want 幸福社区", got)
	}
	// Someone else cannot rebind or unbind it.
	_, replies, _ = say(t, base, "g1", "zhang", "m3", "解绑")
	if len(replies) != 1 || !strings.Contains(replies[0], "只有") {
		t.Fatalf("unbind by a resident: %q", replies)
	}
	if got := boundTo(t, base, "幸福社区居民群"); got != "幸福社区" {
		t.Fatalf("a resident's 解绑 changed the binding to %q", got)
	}
	// Chat not addressed to the bot gets no answer; addressed, a hint.
	_, replies, _ = say(t, base, "g1", "zhang", "m4", "明天几点拿快递？")
	if len(replies) != 0 {
		t.Fatalf("bot answered ordinary chat: %q", replies)
	}
	_, replies, _ = say(t, base, "g1", "zhang", "m5", "@bot 今天天气怎么样")
	if len(replies) != 1 || !strings.Contains(replies[0], "帮助") {
		t.Fatalf("not understood: %q", replies)
	}
}

func TestPlaygroundBadInput(t *testing.T) {
	_, base, logs := runMain(t, t.TempDir())
	createGroup(t, base, "g1", "阳光小区群")
	url := base + "/playground/groups/g1/messages"
	msg := func(text string) []byte {
		return mustJSON(map[string]any{"sender_id": "u1", "sender_name": "李大爷", "text": text})
	}
	tests := []struct {
		name   string
		url    string
		body   []byte
		status int
		want   string // in the Chinese error
	}{
		{"empty text", url, msg(""), 400, "空"},
		{"blank text", url, msg(" \n "), 400, "空"},
		{"100 KB text", url, msg(strings.Repeat("转账", 100<<10/6)), 413, "太长"},
		{"invalid UTF-8", url, []byte("{\"sender_id\":\"u1\",\"text\":\"\xff\xfe\"}"), 400, "UTF-8"},
		{"unknown group", base + "/playground/groups/nope/messages", msg("帮助"), 404, "没有这个群"},
		{"malformed JSON", url, []byte(`{"sender_id": "u1", "text": `), 400, "JSON"},
		{"unknown field", url, []byte(`{"sender": "u1", "text": "帮助"}`), 400, "JSON"},
		{"no sender", url, []byte(`{"text": "帮助"}`), 400, "发送人"},
		{"17 MB body (a message may carry 16 MB of pictures)", url, bytes.Repeat([]byte("a"), 17<<20), 413, "太大"},
		{"2 MB body elsewhere", base + "/playground/groups", bytes.Repeat([]byte("a"), 2<<20), 413, "太大"},
	}
	for _, tt := range tests {
		status, out := call(t, "POST", tt.url, tt.body)
		if status != tt.status || !strings.Contains(fmt.Sprint(out["error"]), tt.want) {
			t.Errorf("%s: %d %v; want %d with %q", tt.name, status, out, tt.status, tt.want)
		}
	}
	if !strings.Contains(logs.String(), "refused") {
		t.Error("refused requests were not logged")
	}
	// The bot is still there.
	status, replies, _ := say(t, base, "g1", "u1", "after", "帮助")
	if status != 200 || len(replies) != 1 {
		t.Fatalf("after bad input: %d %q", status, replies)
	}
}

func TestRestartDedupesAndKeepsBinding(t *testing.T) {
	dir := t.TempDir()
	m, base, _ := runMain(t, dir)
	createGroup(t, base, "c1", "三年级2班家长群")
	say(t, base, "c1", "teacher", "m1", "绑定 实验小学 三年级2班")
	if _, replies, _ := say(t, base, "c1", "parent", "m2", "帮助"); len(replies) != 1 {
		t.Fatalf("help before restart: %q", replies)
	}
	m.Close()

	_, base, _ = runMain(t, dir)
	if got := boundTo(t, base, "三年级2班家长群"); got != "三年级2班" {
		t.Fatalf("after restart bound to %q", got)
	}
	status, replies, dup := say(t, base, "c1", "parent", "m2", "帮助")
	if status != 200 || !dup || len(replies) != 0 {
		t.Fatalf("redelivered m2 after restart: %d dup=%v replies %q; want ignored", status, dup, replies)
	}
	// The same text under a new ID is a new message.
	if _, replies, dup := say(t, base, "c1", "parent", "m3", "帮助"); dup || len(replies) != 1 {
		t.Fatalf("new message after restart: dup=%v %q", dup, replies)
	}
}

func TestReplayAfterCrashMidMessage(t *testing.T) {
	dir := t.TempDir()
	m, base, _ := runMain(t, dir)
	createGroup(t, base, "g1", "东风村村民群")
	// What a crash right after accepting leaves behind: in the inbox, not done.
	msg := &bot.Message{Channel: "playground", GroupID: "g1", SenderID: "u1", Text: "帮助", PlatformMsgID: "lost-1"}
	if err := m.DB.Inbox().Accept(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	m.Close()

	m, base, _ = runMain(t, dir)
	if m.DB.Postgres() {
		// Replicas leave a message alone while another may be handling
		// it: it is replayed on schedule once its claim has lapsed.
		later := func() time.Time { return time.Now().Add(bot.ClaimLease + time.Second) }
		m.DB.Now = later
		if err := m.Tick(context.Background(), later()); err != nil {
			t.Fatal(err)
		}
	}
	_, out := call(t, "GET", base+"/playground/groups/g1/messages", nil)
	lines := out["messages"].([]any)
	if len(lines) != 1 || !strings.Contains(lines[0].(map[string]any)["text"].(string), "反诈助手") {
		t.Fatalf("after restart the accepted message was not answered: %v", lines)
	}
}

// TestWeChatMountedWhenConfigured: with WeCom credentials the callback URL
// is served by the same web server and answers WeCom's URL verification.
func TestWeChatMountedWhenConfigured(t *testing.T) {
	const token, key = "mainTestToken", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
	logs := &syncBuffer{}
	m := NewMain(logs)
	m.Config.DataDir = t.TempDir()
	m.Config.Web.Addr = "127.0.0.1:0"
	m.Config.WeChat.BotToken, m.Config.WeChat.BotAESKey = token, key
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	echo, _ := util.EncryptMsg([]byte("abcdefghijklmnop"), []byte("424242"), "", key)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	q := url.Values{"msg_signature": {util.Signature(token, ts, "n", string(echo))}, "timestamp": {ts}, "nonce": {"n"}, "echostr": {string(echo)}}
	resp, err := http.Get("http://" + m.Addr + "/wechat/bot?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "424242" {
		t.Fatalf("URL verification through the main server: %d %q", resp.StatusCode, b)
	}
	if !strings.Contains(logs.String(), "wechat channel on") || !strings.Contains(logs.String(), "dingtalk channel off") {
		t.Fatalf("start-up does not say which channels are on:\n%s", logs.String())
	}
}

// TestPlaygroundRefusesADuplicateGroupName: two groups of one name cannot
// be told apart in the playground or on the admin pages; the page links to
// the admin pages.
func TestPlaygroundRefusesADuplicateGroupName(t *testing.T) {
	_, base, _ := runMain(t, t.TempDir())
	createGroup(t, base, "d1", "幸福社区居民群")
	status, out := call(t, "POST", base+"/playground/groups", mustJSON(map[string]string{"id": "d2", "name": " 幸福社区居民群 "}))
	if status != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "已经有一个叫“幸福社区居民群”的群了") {
		t.Fatalf("a second group of the same name: %d %v", status, out)
	}
	resp, err := http.Get(base + "/playground/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `href="/admin/"`) {
		t.Fatal("the playground does not link to the admin pages")
	}
}

// TestCommandLineSpeaksPlainly: -h and --help print the whole usage and
// succeed; a bot error is said in its own words, once; an empty password
// is explained in Chinese.
func TestCommandLineSpeaksPlainly(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"serve", "-h"}, {"help"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, strings.NewReader(""), &out, &errOut); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "命令：") || !strings.Contains(out.String(), "admin create") {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
	if got := exitMessage(bot.Errorf(bot.ECONFLICT, "用户名已存在。")); got != "用户名已存在。" {
		t.Errorf("a bot error on the command line: %q", got)
	}
	err := run(context.Background(), []string{"admin", "create", "-username", "nopw"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(exitMessage(err), "没有读到密码") || strings.Contains(exitMessage(err), "fanzha:") {
		t.Errorf("an empty password: %v", err)
	}
}

// TestHTTPLimits: a slow client cannot hold a connection without end and
// no route reads a body beyond a megabyte.
func TestHTTPLimits(t *testing.T) {
	m, base, _ := runMain(t, t.TempDir())
	if m.HTTP.ReadTimeout <= 0 || m.HTTP.WriteTimeout <= 0 || m.HTTP.IdleTimeout <= 0 {
		t.Fatalf("timeouts: read %v, write %v, idle %v", m.HTTP.ReadTimeout, m.HTTP.WriteTimeout, m.HTTP.IdleTimeout)
	}
	big := strings.Repeat("a", 2<<20)
	resp, err := http.Post(base+"/login", "application/x-www-form-urlencoded", strings.NewReader("username="+big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("a 2 MB login form: %d", resp.StatusCode)
	}
}

// TestLoopbackServerRefusesOtherHosts: a page on another site that points
// its name at 127.0.0.1 (DNS rebinding) cannot use the local server.
func TestLoopbackServerRefusesOtherHosts(t *testing.T) {
	_, base, _ := runMain(t, t.TempDir())
	req, _ := http.NewRequest("GET", base+"/playground/groups", nil)
	req.Host = "evil.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("a request for another host: %d", resp.StatusCode)
	}
}

// TestMigrateCommand: `fanzha migrate` brings a new database (SQLite, or
// PostgreSQL with FANZHA_DATABASE_URL) to the newest migration and says
// which; run again it changes nothing and says the same.
func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FANZHA_DATA_DIR", dir)
	if storetest.Postgres() != "" {
		t.Setenv("FANZHA_DATABASE_URL", storetest.URL(t, filepath.Join(dir, "fanzha.db")))
	}
	names, err := filepath.Glob("../../store/migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatal("no migrations found", err)
	}
	newest := 0
	for _, n := range names {
		v, _ := strconv.Atoi(strings.SplitN(filepath.Base(n), "_", 2)[0])
		newest = max(newest, v)
	}
	want := fmt.Sprintf("数据库已是最新版本（第 %d 版）。", newest)
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) {
			t.Fatalf("migrate said %q; want %q", out.String(), want)
		}
	}
}
