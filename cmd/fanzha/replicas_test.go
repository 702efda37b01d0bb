package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/store/storetest"
)

// The two-replica test runs two fanzha processes on one PostgreSQL
// database, both sending to a fake DingTalk on 127.0.0.1, and kills one
// with SIGKILL in the middle of a week's tips and a campaign to 1,000
// groups. The processes are this test binary run again as
// TestReplicaProcess, which starts fanzha exactly as `fanzha serve` does,
// with a clock that runs replicaSpeed times as fast, so that leases of
// minutes lapse in seconds.
const (
	replicaEnv   = "FANZHA_REPLICA_PROCESS" // "base,t0" of the shared fast clock, in Unix nanoseconds
	replicaSpeed = 20
)

// TestReplicaProcess is one fanzha replica when run by
// TestTwoReplicasOneKilled; otherwise it does nothing.
func TestReplicaProcess(t *testing.T) {
	clock := os.Getenv(replicaEnv)
	if clock == "" {
		t.Skip("run by TestTwoReplicasOneKilled")
	}
	b, t0, _ := strings.Cut(clock, ",")
	baseNs, _ := strconv.ParseInt(b, 10, 64)
	t0Ns, _ := strconv.ParseInt(t0, 10, 64)
	base, start := time.Unix(0, baseNs), time.Unix(0, t0Ns)
	m := NewMain(os.Stderr)
	if err := m.ParseFlags(nil, os.Stderr); err != nil {
		t.Fatal(err)
	}
	m.Now = func() time.Time { return base.Add(time.Since(start) * replicaSpeed) }
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {} // until killed
}

// fakeSends is the part of DingTalk's API a replica posts through: the
// stream gateway it stays connected to, tokens, and the robot's group send,
// which records every message it is given.
type fakeSends struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string]int // group + "\x00" + text → times received
	by  map[string]int // access token (one per process) → messages sent
	n   int
}

func newFakeSends(t *testing.T) *fakeSends {
	f := &fakeSends{got: map[string]int{}, by: map[string]int{}}
	up := websocket.Upgrader{}
	tokens := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/gateway/connections/open", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"endpoint": "ws://" + r.Host + "/gateway", "ticket": "t"})
	})
	mux.HandleFunc("GET /gateway", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		tokens++
		tok := fmt.Sprintf("tok-%d", tokens)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"accessToken": tok, "expireIn": 7200})
	})
	mux.HandleFunc("POST /v1.0/robot/groupMessages/send", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ OpenConversationID, MsgKey, MsgParam string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.OpenConversationID == "" || req.MsgParam == "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"code": "invalidParameter", "message": "bad request"})
			return
		}
		// A real platform takes tens of milliseconds to answer; a little of
		// that makes the replicas' rounds of sending overlap, as they would.
		time.Sleep(3 * time.Millisecond)
		f.mu.Lock()
		f.got[req.OpenConversationID+"\x00"+req.MsgParam]++
		f.by[r.Header.Get("x-acs-dingtalk-access-token")]++
		f.n++
		n := f.n
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"processQueryKey": fmt.Sprintf("pq-%d", n)})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSends) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func TestTwoReplicasOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two replicas")
	}
	needPostgres(t)
	const groups = 1000
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replicas.db") // stands for the schema
	url := storetest.URL(t, path)
	db := storetest.Open(t, path)
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// Sunday 18:00 in Shanghai: both of the week's tip slots have come,
	// so the planner catches them up, and the campaign goes out at once.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	base := time.Date(2026, 11, 29, 18, 0, 0, 0, loc)
	bound := base.AddDate(0, 0, -14).UTC().Format("2006-01-02T15:04:05.000000000Z")
	var town int64
	if err := raw.QueryRow(`INSERT INTO org_units (kind, name, created_at) VALUES ('town', '城关镇', $1) RETURNING id`, bound).Scan(&town); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO org_units (parent_id, kind, name, population, created_at)
		SELECT $1, 'village', '第' || v || '村', 500, $2 FROM generate_series(1, 10) v`, town, bound); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO groups (channel, platform_id, name, kind, org_unit_id, bound_at, created_at)
		SELECT 'dingtalk', 'cid' || lpad(g::text, 4, '0'), '居民群' || g, 'community',
			(SELECT id FROM org_units WHERE name = '第' || (g % 10 + 1) || '村'), $1, $1
		FROM generate_series(1, $2) g`, bound, groups); err != nil {
		t.Fatal(err)
	}
	c := &bot.Campaign{Kind: bot.CampaignBulletin, Title: "全民反诈", Text: "请大家下载国家反诈中心App并开启来电预警。", Units: []int64{town}}
	if err := bot.ValidateCampaign(c, base); err != nil {
		t.Fatal(err)
	}
	if err := db.Campaigns().CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}

	fake := newFakeSends(t)
	clock := fmt.Sprintf("%d,%d", base.UnixNano(), time.Now().UnixNano())
	start := func(name string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$", "-test.timeout=10m")
		cmd.Env = append(os.Environ(), replicaEnv+"="+clock,
			"FANZHA_DATABASE_URL="+url, "FANZHA_INSTALL_KEY="+hex.EncodeToString(storetest.Secret),
			"FANZHA_DATA_DIR="+t.TempDir(), "FANZHA_WEB_ADDR=127.0.0.1:0", "FANZHA_PLAYGROUND_ENABLED=false",
			"FANZHA_TIMEZONE=Asia/Shanghai", "FANZHA_SCHEDULE_QUIET_HOURS=", "FANZHA_LIMITS_POSTS_PER_SECOND=0",
			"FANZHA_DINGTALK_CLIENT_ID=replica-test", "FANZHA_DINGTALK_CLIENT_SECRET=s", "FANZHA_DINGTALK_API_HOST="+fake.srv.URL)
		startProcess(t, "replica "+name, cmd)
		return cmd
	}
	a := start("a")
	start("b")

	const want = 3 * groups // two tips and the campaign each
	waitFor := func(what string, limit time.Duration, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !done(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s (received %d of %d)", what, fake.count(), want)
			}
		}
	}
	waitFor("a third of the posts", 3*time.Minute, func() bool { return fake.count() >= want/3 })
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	killedAt := fake.count()
	// Settled: nothing pending or being sent.
	var open int
	waitFor("the outbox to settle", 3*time.Minute, func() bool {
		err := raw.QueryRow(`SELECT count(*) FROM posts WHERE status IN ('pending', 'sending')`).Scan(&open)
		return err == nil && open == 0 && fake.count() > killedAt
	})

	kinds := map[string]int{}
	rows, err := raw.Query(`SELECT kind, status, count(*) FROM posts GROUP BY kind, status`)
	if err != nil {
		t.Fatal(err)
	}
	unconfirmed := 0
	for rows.Next() {
		var kind, status string
		var n int
		if err := rows.Scan(&kind, &status, &n); err != nil {
			t.Fatal(err)
		}
		kinds[kind] += n
		switch status {
		case "sent":
		case "unconfirmed":
			unconfirmed += n
		default:
			t.Errorf("%d %s posts ended %s", n, kind, status)
		}
	}
	rows.Close()
	if kinds["tip"] != 2*groups || kinds["campaign"] != groups {
		t.Errorf("planned %v; want %d tips and %d campaign posts", kinds, 2*groups, groups)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	doubles := 0
	for k, n := range fake.got {
		if n > 1 {
			doubles++
			t.Errorf("group %q got the same post %d times", strings.Split(k, "\x00")[0], n)
		}
	}
	// Posts are claimed one at a time: at most the one the killed replica
	// had in hand is left unconfirmed, for an admin to look at; it may or
	// may not have reached the group.
	if unconfirmed > 1 {
		t.Errorf("%d posts unconfirmed; the killed replica had at most one in hand", unconfirmed)
	}
	if got := len(fake.got); got < want-unconfirmed || got > want {
		t.Errorf("%d distinct posts reached the groups; want %d (less the %d unconfirmed at most)", got, want, unconfirmed)
	}
	if len(fake.by) < 2 {
		t.Errorf("sends by process: %v; want both replicas sending", fake.by)
	}
	t.Logf("%d posts to %d groups: %d received before the kill, %d after; by process %v; %d doubles, %d unconfirmed",
		want, groups, killedAt, fake.n-killedAt, fake.by, doubles, unconfirmed)
}

// TestKnowledgeEditReachesOtherReplicas: an admin's edit on one replica is
// checked with by another replica on the same database once it looks
// (every few seconds), and by a replica started afterwards at once.
func TestKnowledgeEditReachesOtherReplicas(t *testing.T) {
	needPostgres(t)
	replica := func(url string) *Main {
		m, err := startReplica(t, url, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	url := storetest.URL(t, filepath.Join(t.TempDir(), "fanzha.db"))
	a, b := replica(url), replica(url)
	const msg = "熊猫闪购折扣券限时领，领了再说"
	hasType := func(m *Main) bool {
		for _, ty := range m.Knowledge.Check(msg).Types {
			if ty.ID == "xujia_gouwu" {
				return true
			}
		}
		return false
	}
	if hasType(a) || hasType(b) {
		t.Fatal("the test phrase already counts")
	}
	// What the admin page does: copy the built-in knowledge out, then edit.
	if _, err := knowledge.Materialize(a.Editor.Dir); err != nil {
		t.Fatal(err)
	}
	if err := a.Knowledge.UseDir(a.Editor.Dir); err != nil {
		t.Fatal(err)
	}
	var e *knowledge.Entry
	for _, x := range a.Knowledge.Index().Entries {
		if x.ID == "xujia_gouwu" {
			e = x
		}
	}
	edit := knowledge.EntryEdit{ID: e.ID, Phrases: append(append([]string{}, e.Phrases...), "熊猫闪购=6"), Do: e.Advice.Do, Dont: e.Advice.Dont}
	if _, err := a.Editor.Apply(edit, "town"); err != nil {
		t.Fatal(err)
	}
	if !hasType(a) {
		t.Fatal("the edit did not take on its own replica")
	}
	if hasType(b) {
		t.Fatal("the other replica changed before looking")
	}
	if err := b.Tick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if !hasType(b) {
		t.Fatal("the other replica did not install the published edit")
	}
	if !hasType(replica(url)) {
		t.Fatal("a replica started after the edit runs the old knowledge")
	}
}

// startReplica runs a fanzha replica in the process on the database at
// url, with the test clock's ticks, in time zone tz ("" for the default).
func startReplica(t *testing.T, url, tz string) (*Main, error) {
	m := NewMain(io.Discard)
	m.Config.DataDir = t.TempDir()
	m.Config.Web.Addr = "127.0.0.1:0"
	m.Config.Database.URL = url
	m.Config.InstallKey = hex.EncodeToString(storetest.Secret) // the same on every replica
	if tz != "" {
		m.Config.Timezone = tz
	}
	m.ManualTicks = true
	err := m.Run(context.Background())
	t.Cleanup(func() { m.Close() })
	return m, err
}

// TestReplicasShareOneConfiguration: while a replica runs, another that
// would keep the figures in another time zone is refused, saying why; with
// the same configuration it starts.
func TestReplicasShareOneConfiguration(t *testing.T) {
	needPostgres(t)
	url := storetest.URL(t, filepath.Join(t.TempDir(), "fanzha.db"))
	a, err := startReplica(t, url, "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Tick(context.Background(), time.Now()); err != nil { // says it is there
		t.Fatal(err)
	}
	if _, err := startReplica(t, url, "UTC"); err == nil || !strings.Contains(err.Error(), "timezone") {
		t.Fatalf("a replica in another time zone: %v; want refused", err)
	}
	if _, err := startReplica(t, url, "Asia/Shanghai"); err != nil {
		t.Fatalf("a replica with the same configuration: %v", err)
	}
}

// needPostgres skips a test that needs a PostgreSQL server when there is
// none, saying how to get one, and fails it in CI, which has one.
func needPostgres(t *testing.T) {
	t.Helper()
	if storetest.Postgres() != "" {
		return
	}
	if os.Getenv("FANZHA_REQUIRE_POSTGRES") != "" {
		t.Fatalf("FANZHA_REQUIRE_POSTGRES is set but %s names no PostgreSQL server", storetest.ServerEnv)
	}
	t.Skipf("needs a PostgreSQL server: set %s (.ci/postgres starts one; CI does)", storetest.ServerEnv)
}
