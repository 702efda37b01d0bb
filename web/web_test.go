package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/store"
	"fanzha/store/storetest"
	"fanzha/web"
)

func server(t *testing.T) (*httptest.Server, *store.DB) {
	t.Helper()
	now := time.Now()
	return serverAt(t, func() time.Time { return now })
}

// serverAt is a server on the clock now.
func serverAt(t *testing.T, now func() time.Time) (*httptest.Server, *store.DB) {
	t.Helper()
	db := storetest.Open(t, "")
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s := &web.Server{Groups: db.Groups(), Stats: db.Stats(), Units: db.Stats(), Outbox: db.Outbox(), Accounts: db.Accounts(), Events: db.Events(), Knowledge: kb, Loc: time.FixedZone("CST", 8*3600), Logger: slog.New(slog.DiscardHandler), Now: now}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, db
}

func account(t *testing.T, db *store.DB, name, pw string, role bot.Role) {
	t.Helper()
	hash, err := web.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Accounts().CreateAccount(context.Background(), &store.Account{Username: name, PasswordHash: hash, Role: role}); err != nil {
		t.Fatal(err)
	}
}

// login returns a client logged in as name, or where the login ended.
func login(t *testing.T, base, name, pw string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
	if csrf == nil {
		t.Fatalf("no CSRF field on the login page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {name}, "password": {pw}, "csrf": {csrf[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return c, string(body)
}

// TestLoginAndPages: the admin pages need a login, a wrong password is
// told in Chinese, a logged-in admin sees the overview and the knowledge
// page, and a form without the session's token is refused with a way back.
func TestLoginAndPages(t *testing.T) {
	srv, db := server(t)
	account(t, db, "town", "town-admin-secret", bot.RoleAdmin)
	resp, err := http.Get(srv.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("the overview without a login ended at %s", resp.Request.URL.Path)
	}
	if _, body := login(t, srv.URL, "town", "wrong-password"); !strings.Contains(body, "用户名或密码不对") {
		t.Fatalf("a wrong password:\n%s", body)
	}
	c, body := login(t, srv.URL, "town", "town-admin-secret")
	if !strings.Contains(body, "本周概览") {
		t.Fatalf("after login:\n%s", body)
	}
	resp, err = c.Get(srv.URL + "/admin/knowledge")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "组合判断") {
		t.Fatalf("knowledge page:\n%s", page)
	}
	resp, err = c.PostForm(srv.URL+"/admin/knowledge/reload", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), "表单已过期") || !strings.Contains(string(page), `id="back"`) {
		t.Fatalf("a post without the CSRF token: %d\n%s", resp.StatusCode, page)
	}
	// Logging out needs the session's token too: another site cannot.
	resp, err = c.PostForm(srv.URL+"/logout", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without the token: %d", resp.StatusCode)
	}
	if resp, _ = c.Get(srv.URL + "/admin/"); resp.Request.URL.Path != "/admin/" {
		t.Fatal("a logout without the token logged out")
	}
	resp.Body.Close()
}

// TestLoginThrottle: after five wrong passwords an account waits before
// the next try, even with the right password; admins see it locked; the
// wait doubles; a long Chinese passphrase works.
func TestLoginThrottle(t *testing.T) {
	now := time.Now()
	srv, db := serverAt(t, func() time.Time { return now })
	account(t, db, "town", "town-admin-secret", bot.RoleAdmin)
	account(t, db, "wang", "wang-secret-1", bot.RoleCounsellor)
	for i := 0; i < 5; i++ {
		if _, body := login(t, srv.URL, "wang", "guess"); !strings.Contains(body, "用户名或密码不对") {
			t.Fatalf("wrong password %d:\n%s", i+1, body)
		}
	}
	login(t, srv.URL, "wang", "guess") // the sixth: locked for a second
	if _, body := login(t, srv.URL, "wang", "wang-secret-1"); !strings.Contains(body, "尝试次数过多") {
		t.Fatalf("the right password while locked:\n%s", body)
	}
	if _, body := login(t, srv.URL, "town", "town-admin-secret"); !strings.Contains(body, `id="locked"`) || !strings.Contains(body, "wang") {
		t.Fatalf("the admin is not told of the locked account:\n%s", body)
	}
	now = now.Add(1500 * time.Millisecond)
	login(t, srv.URL, "wang", "guess") // the seventh: two seconds
	now = now.Add(1500 * time.Millisecond)
	if _, body := login(t, srv.URL, "wang", "wang-secret-1"); !strings.Contains(body, "尝试次数过多") {
		t.Fatal("the wait did not double")
	}
	now = now.Add(time.Second)
	if _, body := login(t, srv.URL, "wang", "wang-secret-1"); !strings.Contains(body, "本周概览") {
		t.Fatalf("the right password after the wait:\n%s", body)
	}

	long := strings.Repeat("我们村的反诈宣传做得很好", 4) // 48 characters, 144 bytes
	account(t, db, "li", long, bot.RoleAdmin)
	if _, body := login(t, srv.URL, "li", long); !strings.Contains(body, "本周概览") {
		t.Fatal("a long passphrase does not log in")
	}
	if _, body := login(t, srv.URL, "li", long[:72]); strings.Contains(body, "本周概览") {
		t.Fatal("the first 72 bytes of a long passphrase are enough to log in")
	}
}

// TestHealthAsksTheDatabase: /healthz is 200 while the database answers
// and 503 once it does not, so that a balancer stops sending to a replica
// that lost its database.
func TestHealthAsksTheDatabase(t *testing.T) {
	db := storetest.Open(t, "")
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s := &web.Server{Ping: db.Ping, Groups: db.Groups(), Stats: db.Stats(), Units: db.Stats(), Outbox: db.Outbox(), Accounts: db.Accounts(),
		Events: db.Events(), Knowledge: kb, Loc: time.UTC, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	status := func() int {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("healthy: %d", got)
	}
	db.Close()
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("database closed: %d; want 503", got)
	}
}
