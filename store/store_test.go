package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/store"
	"fanzha/store/storetest"
)

var (
	secret = storetest.Secret
	open   = storetest.Open
)

func TestMigrateIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	db := open(t, path)
	ctx := context.Background()
	v, err := db.Version(ctx)
	if err != nil || v < 1 {
		t.Fatalf("version = %d, %v; want >= 1", v, err)
	}
	n, err := db.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second Migrate applied %d, %v; want 0", n, err)
	}
}

func TestOpenRefusesShortSecret(t *testing.T) {
	if _, err := store.Open(filepath.Join(t.TempDir(), "x.db"), []byte("short")); err == nil {
		t.Fatal("Open accepted a 5-byte secret")
	}
}

func TestInboxDedupesAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	ctx := context.Background()
	msg := &bot.Message{Channel: "playground", GroupID: "g1", SenderID: "u1", Text: "帮助", PlatformMsgID: "m-1"}

	db, err := store.Open(storetest.URL(t, path), secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Inbox().Accept(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if err := db.Inbox().Accept(ctx, msg); bot.ErrorCode(err) != bot.EDUPLICATE {
		t.Fatalf("second Accept: %v; want duplicate", err)
	}
	db.Close()

	db = open(t, path)
	if err := db.Inbox().Accept(ctx, msg); bot.ErrorCode(err) != bot.EDUPLICATE {
		t.Fatalf("Accept after reopen: %v; want duplicate", err)
	}
	// Same ID on another channel is another message.
	other := *msg
	other.Channel = "dingtalk"
	if err := db.Inbox().Accept(ctx, &other); err != nil {
		t.Fatalf("same ID on another channel refused: %v", err)
	}
}

// steppingClock, on PostgreSQL, makes each reading of db's clock three
// minutes later than the last: there a message is replayed only once no
// replica can still be handling it (bot.ClaimLease), and these tests replay
// at once.
func steppingClock(db *store.DB) {
	if !db.Postgres() {
		return
	}
	var mu sync.Mutex
	at := time.Now()
	db.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(bot.ClaimLease + time.Minute)
		return at
	}
}

func TestInboxPendingUntilDone(t *testing.T) {
	db := open(t, "")
	steppingClock(db)
	ctx := context.Background()
	in := db.Inbox()
	a := &bot.Message{Channel: "playground", GroupID: "g1", SenderID: "u1", Text: "这是诈骗吗 刷单", PlatformMsgID: "a"}
	b := &bot.Message{Channel: "playground", GroupID: "g1", SenderID: "u2", Text: "帮助", PlatformMsgID: "b"}
	for _, m := range []*bot.Message{a, b} {
		if err := in.Accept(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Done(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	got, err := in.Pending(ctx, "playground")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PlatformMsgID != "a" || got[0].Text != a.Text {
		t.Fatalf("pending = %+v; want only message a with its text", got)
	}
	// A message that keeps failing is given up after a few restarts.
	for i := 0; i < 5; i++ {
		got, err = in.Pending(ctx, "playground")
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 0 {
		t.Fatalf("message still pending after %d replays", 6)
	}
}

func TestMembersArePseudonymous(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	m1, err := db.Members().EnsureMember(ctx, "dingtalk", "staff-4711", "张阿姨")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m1.Pseudonym, "4711") || len(m1.Pseudonym) != 64 {
		t.Fatalf("pseudonym %q leaks or is not an HMAC", m1.Pseudonym)
	}
	m2, err := db.Members().EnsureMember(ctx, "dingtalk", "staff-4711", "")
	if err != nil {
		t.Fatal(err)
	}
	if m2.ID != m1.ID || m2.DisplayName != "张阿姨" {
		t.Fatalf("same user became %+v, was %+v", m2, m1)
	}
	m3, err := db.Members().EnsureMember(ctx, "wechat", "staff-4711", "")
	if err != nil {
		t.Fatal(err)
	}
	if m3.ID == m1.ID || m3.Pseudonym == m1.Pseudonym {
		t.Fatal("same user ID on another channel shares a pseudonym")
	}
}

func TestBindGroupCreatesUnitsOnce(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	gs := db.Groups()
	g1, err := gs.EnsureGroup(ctx, "playground", "g1", "三年级2班家长群")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := gs.EnsureGroup(ctx, "playground", "g2", "三年级2班学生群")
	if err != nil {
		t.Fatal(err)
	}
	path := []bot.OrgUnit{{Kind: bot.OrgSchool, Name: "实验小学"}, {Kind: bot.OrgClass, Name: "三年级2班"}}
	b1, err := gs.BindGroup(ctx, g1.ID, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := gs.BindGroup(ctx, g2.ID, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b1.OrgUnit == nil || b1.OrgUnit.ID != b2.OrgUnit.ID || b1.Kind != bot.GroupClass {
		t.Fatalf("bound groups: %+v / %+v; want the same class unit", b1.OrgUnit, b2.OrgUnit)
	}
	if err := gs.UnbindGroup(ctx, g1.ID); err != nil {
		t.Fatal(err)
	}
	bound := true
	got, err := gs.FindGroups(ctx, bot.GroupFilter{Bound: &bound})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != g2.ID {
		t.Fatalf("bound groups after unbind: %v", got)
	}
	if _, err := gs.BindGroup(ctx, 999, path, 0); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("binding a missing group: %v; want not found", err)
	}
}

func TestEnsureGroupKeepsNameCurrent(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	g, _ := db.Groups().EnsureGroup(ctx, "dingtalk", "cid1", "旧名")
	g2, err := db.Groups().EnsureGroup(ctx, "dingtalk", "cid1", "新名")
	if err != nil || g2.ID != g.ID || g2.Name != "新名" {
		t.Fatalf("rename: %+v, %v", g2, err)
	}
	g3, _ := db.Groups().EnsureGroup(ctx, "dingtalk", "cid1", "")
	if g3.Name != "新名" {
		t.Fatalf("empty name overwrote the name: %q", g3.Name)
	}
}

func TestPruneForgetsOldMessageIDs(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now.AddDate(0, 0, -40) }
	old := &bot.Message{Channel: "playground", GroupID: "g", SenderID: "u", Text: "帮助", PlatformMsgID: "old"}
	db.Inbox().Accept(ctx, old)
	db.Inbox().Done(ctx, old, nil)
	stuck := &bot.Message{Channel: "playground", GroupID: "g", SenderID: "u", Text: "帮助", PlatformMsgID: "stuck"}
	db.Inbox().Accept(ctx, stuck) // never finished: after the dedupe window, no replay helps; its text goes too
	db.Now = func() time.Time { return now.AddDate(0, 0, -1) }
	recent := &bot.Message{Channel: "playground", GroupID: "g", SenderID: "u", Text: "帮助", PlatformMsgID: "recent"}
	db.Inbox().Accept(ctx, recent)
	db.Inbox().Done(ctx, recent, nil)
	db.Now = func() time.Time { return now }
	if n, err := db.Prune(ctx); err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want the old handled message and the old stuck one", n, err)
	}
	if err := db.Inbox().Accept(ctx, recent); bot.ErrorCode(err) != bot.EDUPLICATE {
		t.Fatalf("a recent message ID was forgotten: %v", err)
	}
	if pending, _ := db.Inbox().Pending(ctx, "playground"); len(pending) != 0 {
		t.Fatalf("a message unfinished for 40 days is still pending: %v", pending)
	}
}

// TestConstraintErrorsAreNamed: a username taken twice is a conflict the
// user can read, found by SQLite's extended code, not by the error text.
func TestConstraintErrorsAreNamed(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	a := &store.Account{Username: "wang", PasswordHash: "x", Role: "admin"}
	if err := db.Accounts().CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	err := db.Accounts().CreateAccount(ctx, &store.Account{Username: "wang", PasswordHash: "y", Role: "admin"})
	if bot.ErrorCode(err) != bot.ECONFLICT || !strings.Contains(bot.ErrorMessage(err), "wang 已存在") {
		t.Fatalf("second account named wang: %v", err)
	}
	if err := db.Accounts().SetDisabled(ctx, "nobody", true); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("disabling an unknown account: %v", err)
	}
}

// TestPruneForgetsOldPendingMessages: a message accepted but never finished
// (its channel switched off since) does not stay in the inbox for ever.
func TestPruneForgetsOldPendingMessages(t *testing.T) {
	db := open(t, "")
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now.Add(-40 * 24 * time.Hour) }
	if err := db.Inbox().Accept(ctx, &bot.Message{Channel: "dingtalk", PlatformMsgID: "old", Text: "你好"}); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return now }
	if err := db.Inbox().Accept(ctx, &bot.Message{Channel: "dingtalk", PlatformMsgID: "new", Text: "你好"}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("pruned %d rows (%v); want the old pending message only", n, err)
	}
}

// TestRetention: old playground chats and shared samples go, sent posts
// lose their text (the rows stay for the counts); the database file is
// readable by its owner only.
func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.db")
	db := open(t, path)
	if fi, err := os.Stat(path); storetest.Postgres() == "" && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Fatalf("database file mode: %v, %v", fi.Mode().Perm(), err)
	}
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now.AddDate(0, 0, -100) }
	g, _ := db.Groups().EnsureGroup(ctx, "playground", "g1", "幸福社区居民群")
	db.Transcript().AppendLine(ctx, &bot.TranscriptLine{GroupID: "g1", SenderID: "u", Text: "我的手机号 13800000000"})
	db.Events().CreateSample(ctx, g.ID, "high", "样本内容")
	db.Outbox().EnqueuePosts(ctx, []*bot.OutboxPost{{GroupID: g.ID, Kind: bot.PostQuizResult, Key: "r1", Text: "答对的有：张阿姨", DueAt: db.Now()}})
	posts, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID})
	db.Outbox().MarkPosts(ctx, []int64{posts[0].ID}, bot.PostSent, db.Now(), "")
	db.Now = func() time.Time { return now }
	db.Transcript().AppendLine(ctx, &bot.TranscriptLine{GroupID: "g1", SenderID: "u", Text: "今天的"})
	if _, err := db.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	lines, _ := db.Transcript().Lines(ctx, "g1", 0, 10)
	if len(lines) != 1 || lines[0].Text != "今天的" {
		t.Fatalf("playground lines after prune: %+v", lines)
	}
	posts, _ = db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID})
	if len(posts) != 1 || posts[0].Text != "" {
		t.Fatalf("an old sent post keeps its text: %+v", posts)
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var samples int
	raw.QueryRow(`SELECT count(*) FROM kb_samples`).Scan(&samples)
	if samples != 0 {
		t.Fatalf("%d old samples kept", samples)
	}
}

// TestReplicasMigrateTogether: two processes starting at once on a new
// database each migrate it; neither fails, and each migration is applied
// once.
func TestReplicasMigrateTogether(t *testing.T) {
	url := storetest.URL(t, filepath.Join(t.TempDir(), "fanzha.db"))
	var dbs [3]*store.DB
	for i := range dbs {
		db, err := store.Open(url, secret)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	applied := make([]int, len(dbs))
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = db.Migrate(context.Background())
		}()
	}
	wg.Wait()
	total := 0
	for i := range dbs {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	v, err := dbs[0].Version(context.Background())
	if err != nil || total != v {
		t.Fatalf("applied %v migrations in all, version %d (%v); want each once", applied, v, err)
	}
}

// TestGroupEventQueriesSearchAnIndex: the event counts asked on every
// warning (cooldowns) and by the admin pages search one group's events by
// time, never the whole table, with the single index led by the group that
// keeps ingest fast.
func TestGroupEventQueriesSearchAnIndex(t *testing.T) {
	if storetest.Postgres() != "" {
		t.Skip("SQLite's query plan")
	}
	db := open(t, "")
	now := time.Now()
	for _, f := range []bot.EventFilter{
		{GroupID: 7, Kind: bot.EventWarning, Since: now.Add(-time.Hour)},
		{GroupID: 7, Kind: bot.EventWarning, Detail: "shuadan", Since: now.Add(-24 * time.Hour)},
		{GroupID: 7, Kind: bot.EventWarning, Since: now.AddDate(0, 0, -7), Until: now},
		{GroupID: 7, Kind: bot.EventScamCheck, Since: now.Add(-10 * time.Minute)},
	} {
		plan, err := db.EventPlanForTest(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH events USING INDEX events_group_at (group_id=? AND at>") {
			t.Errorf("%+v: plan %q, want a search of events_group_at by group and time", f, plan)
		}
	}
}
