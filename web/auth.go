package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"fanzha/bot"
)

const (
	sessionCookie = "fanzha_session"
	loginCSRF     = "fanzha_login_csrf"
	sessionTTL    = 12 * time.Hour
)

// HashPassword returns the bcrypt hash stored for a password. A passphrase
// longer than bcrypt takes (72 bytes, 24 Chinese characters) is hashed with
// SHA-256 first, so every character counts.
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword(passwordBytes(pw), bcrypt.DefaultCost)
	return string(b), err
}

// passwordBytes is what bcrypt sees of pw.
func passwordBytes(pw string) []byte {
	if len(pw) <= 72 {
		return []byte(pw)
	}
	sum := sha256.Sum256([]byte(pw))
	return []byte(hex.EncodeToString(sum[:]))
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// clientAddr is the client's IP address, without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type ctxKey struct{}

// session returns the request's session, set by requireLogin.
func session(r *http.Request) *bot.Session {
	s, _ := r.Context().Value(ctxKey{}).(*bot.Session)
	return s
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.SecureCookies}
}

// currentSession looks up the session cookie, or returns nil.
func (s *Server) currentSession(r *http.Request) *bot.Session { return findSession(s.Accounts, r) }

// findSession is the session of r's cookie in accounts, or nil.
func findSession(accounts bot.SessionStore, r *http.Request) *bot.Session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ses, err := accounts.FindSession(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return ses
}

// requireLogin sends visitors without a session to the login page, and
// checks the CSRF token on every form post.
func (s *Server) requireLogin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ses := s.currentSession(r)
		if ses == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), ses.CSRF) {
			s.Logger.Warn("form post without a valid CSRF token", "path", r.URL.Path, "user", ses.Account.Username)
			s.errorPage(w, r, http.StatusForbidden, "表单已过期，请刷新页面后重试。")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ses)))
	}
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	http.SetCookie(w, s.cookie(loginCSRF, token, 600))
	wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
	s.render(w, r, "login.html", map[string]any{"CSRF": token, "Error": r.URL.Query().Get("error"), "Wait": wait})
}

// dummyHash makes a login with an unknown username cost as much as one
// with a wrong password, so timing does not tell which usernames exist. It
// is made at the first login, not at start-up: a command that never logs
// anyone in does not pay for a bcrypt hash.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	if err != nil {
		panic(fmt.Sprintf("web: bcrypt: %v", err))
	}
	return h
})

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCSRF)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		http.Redirect(w, r, "/login?error=expired", http.StatusSeeOther)
		return
	}
	user, pw := r.PostFormValue("username"), r.PostFormValue("password")
	keys := []string{"user:" + user, "addr:" + clientAddr(r)}
	now := s.Now()
	if d := s.logins.wait(now, keys...); d > 0 {
		s.Logger.Warn("login while locked", "user", user, "remote", r.RemoteAddr, "wait", d)
		http.Redirect(w, r, "/login?error=locked&wait="+strconv.Itoa(int(d.Seconds())+1), http.StatusSeeOther)
		return
	}
	acct, err := s.Accounts.FindAccount(r.Context(), user)
	hash := dummyHash()
	if err == nil {
		hash = []byte(acct.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, passwordBytes(pw)) != nil || err != nil {
		if d := s.logins.fail(now, keys...); d > 0 {
			s.Logger.Warn("failed login; locked", "user", user, "remote", r.RemoteAddr, "lock", d)
		} else {
			s.Logger.Warn("failed login", "user", user, "remote", r.RemoteAddr)
		}
		http.Redirect(w, r, "/login?error=wrong", http.StatusSeeOther)
		return
	}
	s.logins.ok(keys...)
	if acct.Disabled { // said only to whoever knows the password
		s.Logger.Warn("login to a disabled account", "user", user, "remote", r.RemoteAddr)
		http.Redirect(w, r, "/login?error=disabled", http.StatusSeeOther)
		return
	}
	token, csrf := randomToken(), randomToken()
	if err := s.Accounts.CreateSession(r.Context(), token, csrf, acct.ID, s.Now().Add(sessionTTL)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, token, int(sessionTTL/time.Second)))
	http.SetCookie(w, s.cookie(loginCSRF, "", -1))
	s.Logger.Info("login", "user", acct.Username, "role", acct.Role)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	// Another site cannot log a user out: the form carries the session's
	// token.
	if ses := s.currentSession(r); ses != nil {
		if !sameToken(r.PostFormValue("csrf"), ses.CSRF) {
			s.errorPage(w, r, http.StatusForbidden, "表单已过期，请刷新页面后重试。")
			return
		}
		c, _ := r.Cookie(sessionCookie)
		_ = s.Accounts.DeleteSession(r.Context(), c.Value)
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// LoginRequired serves h only to browsers with a session of accounts;
// others are sent to the login page.
func LoginRequired(accounts bot.SessionStore, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if findSession(accounts, r) == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	})
}
