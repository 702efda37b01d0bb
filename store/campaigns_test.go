package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/handlers/campaign"
	"fanzha/handlers/tips"
	"fanzha/knowledge"
	"fanzha/schedule"
	"fanzha/store"
)

// keyedPlatform deduplicates posts by key, as the playground and the
// platforms with a message key do, and records when each arrived.
type keyedPlatform struct {
	mu   sync.Mutex
	now  time.Time
	seen map[string]bool
	sent map[string][]time.Time
}

func (p *keyedPlatform) Name() string                                         { return "bench" }
func (p *keyedPlatform) Start(ctx context.Context, h bot.Handler) error       { return nil }
func (p *keyedPlatform) Reply(context.Context, *bot.Message, bot.Reply) error { return nil }
func (p *keyedPlatform) Post(ctx context.Context, group string, post bot.Post) error {
	return errors.New("keyedPlatform: Post without a key")
}
func (p *keyedPlatform) PostKeyed(ctx context.Context, group string, post bot.Post, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[group+"|"+key] {
		return nil
	}
	p.seen[group+"|"+key] = true
	p.sent[group] = append(p.sent[group], p.now)
	return nil
}

func newKeyedPlatform() *keyedPlatform {
	return &keyedPlatform{seen: map[string]bool{}, sent: map[string][]time.Time{}}
}

// seeded is a database with a town of villages and groups bound to them.
func seeded(t testing.TB, villages, groups int) (*store.DB, bot.OrgUnit) {
	t.Helper()
	db := open(t, "")
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	if err := db.SeedForBenchmark(ctx, villages, groups, 10, 0, now, now); err != nil {
		t.Fatal(err)
	}
	units, err := db.Stats().OrgUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Kind == bot.OrgTown {
			return db, u
		}
	}
	t.Fatal("no town seeded")
	return nil, bot.OrgUnit{}
}

func newCampaign(t testing.TB, db *store.DB, kind bot.CampaignKind, units []int64, sendAt time.Time) *bot.Campaign {
	t.Helper()
	c := &bot.Campaign{Kind: kind, Title: "全民反诈", Text: "请大家下载国家反诈中心App并开启预警功能。", Units: units}
	if kind == bot.CampaignSurvey {
		c.Options = []string{"已安装并开启预警", "已安装未开启", "未安装"}
	}
	if err := bot.ValidateCampaign(c, sendAt); err != nil {
		t.Fatal(err)
	}
	if err := db.Campaigns().CreateCampaign(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCampaignAnswersAndCancel: one answer per person per campaign (a later
// survey answer replaces the first), figures per group, and cancelling
// stops what is still queued.
func TestCampaignAnswersAndCancel(t *testing.T) {
	db, town := seeded(t, 2, 4)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	c := newCampaign(t, db, bot.CampaignSurvey, []int64{town.ID}, now)
	p := &campaign.Planner{Campaigns: db.Campaigns(), Groups: db.Groups(), Units: db.Stats(), Outbox: db.Outbox(), Loc: time.UTC}
	if n, err := p.Tick(ctx, now); err != nil || n != 4 {
		t.Fatalf("planned %d, %v; want the 4 groups", n, err)
	}
	if n, err := p.Tick(ctx, now.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("planned again: %d, %v", n, err)
	}
	answers := []bot.CampaignAnswer{
		{CampaignID: c.ID, GroupID: 1, MemberID: 1, Option: 1, At: now},
		{CampaignID: c.ID, GroupID: 1, MemberID: 2, Option: 3, At: now},
		{CampaignID: c.ID, GroupID: 1, MemberID: 1, Option: 2, At: now.Add(time.Hour)}, // changed their mind
		{CampaignID: c.ID, GroupID: 2, MemberID: 3, Option: 1, At: now},
	}
	for i, a := range answers {
		isNew, err := db.Campaigns().Answer(ctx, &a)
		if err != nil {
			t.Fatal(err)
		}
		if isNew != (i != 2) {
			t.Errorf("answer %d: new = %v", i, isNew)
		}
	}
	figs, err := db.Campaigns().CampaignFigures(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := figs[1]; f == nil || f.Answers != 2 || fmt.Sprint(f.ByOption) != "[0 1 1]" || f.Post != bot.PostPending {
		t.Fatalf("group 1: %+v", f)
	}
	if f := figs[2]; f == nil || f.Answers != 1 || f.ByOption[0] != 1 {
		t.Fatalf("group 2: %+v", f)
	}
	n, err := db.Campaigns().CancelCampaign(ctx, c.ID, now)
	if err != nil || n != 4 {
		t.Fatalf("cancel stopped %d queued posts, %v; want 4", n, err)
	}
	due, err := db.Outbox().DuePosts(ctx, now.Add(time.Hour), 100)
	if err != nil || len(due) != 0 {
		t.Fatalf("posts of a cancelled campaign are still due: %d, %v", len(due), err)
	}
	if _, err := db.Campaigns().CancelCampaign(ctx, c.ID, now); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("cancelling twice: %v", err)
	}
	if n, _ := p.Tick(ctx, now.Add(time.Hour)); n != 0 {
		t.Fatalf("a cancelled campaign was planned again: %d", n)
	}
	got, _ := db.Campaigns().Campaign(ctx, c.ID)
	if got.CancelledAt == nil || got.Open(now) || fmt.Sprint(got.Options) != fmt.Sprint(c.Options) || fmt.Sprint(got.Units) != fmt.Sprint([]int64{town.ID}) {
		t.Fatalf("stored campaign: %+v", got)
	}
}

// TestCampaignFanOutSurvivesCrashes: the process dies at random points of
// planning and sending (seeded, so a failure replays); every group in scope
// gets the campaign exactly once, none outside it, and a group bound
// later gets it while the campaign is open.
func TestCampaignFanOutSurvivesCrashes(t *testing.T) {
	db, town := seeded(t, 5, 300)
	ctx := context.Background()
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	c := newCampaign(t, db, bot.CampaignNotice, []int64{town.ID}, start)
	outside, err := db.CreateGroupsForTest(ctx, "other", 1) // never bound: out of scope
	if err != nil {
		t.Fatal(err)
	}
	plat := newKeyedPlatform()
	rng := rand.New(rand.NewPCG(13, 1))
	crashes := map[string]int{}
	type crashed struct{ point string }
	var sender *bot.Sender
	restart := func(now time.Time) {
		sender = &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{"bench": plat}, Logger: quietLogger(),
			Limits: bot.NewPostLimiter(20, 50)}
		sender.Crash = func(point string) {
			if rng.Float64() < 0.05 {
				panic(crashed{point})
			}
		}
		if err := sender.Recover(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	planner := &campaign.Planner{Campaigns: db.Campaigns(), Groups: db.Groups(), Units: db.Stats(), Outbox: db.Outbox(), Loc: time.UTC,
		Quiet: schedule.Quiet{}}
	step := func(now time.Time) {
		defer func() {
			if p := recover(); p != nil {
				cr, ok := p.(crashed)
				if !ok {
					panic(p)
				}
				crashes[cr.point]++
				restart(now)
			}
		}()
		plat.mu.Lock()
		plat.now = now
		plat.mu.Unlock()
		if rng.Float64() < 0.1 {
			panic(crashed{"before-planning"})
		}
		if _, err := planner.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if rng.Float64() < 0.1 {
			panic(crashed{"planned"})
		}
		if _, err := sender.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	restart(start)
	now := start
	for ; now.Before(start.Add(20 * time.Minute)); now = now.Add(time.Second) {
		step(now)
	}
	// A village group bound after the campaign started still gets it.
	late, err := db.CreateGroupsForTest(ctx, "bench", 2)
	if err != nil {
		t.Fatal(err)
	}
	units, _ := db.Stats().OrgUnits(ctx)
	var village bot.OrgUnit
	for _, u := range units {
		if u.ParentID == town.ID {
			village = u
			break
		}
	}
	if _, err := db.Groups().BindGroup(ctx, late[1], []bot.OrgUnit{town, village}, 0); err != nil {
		t.Fatal(err)
	}
	for end := now.Add(5 * time.Minute); now.Before(end); now = now.Add(time.Second) {
		step(now)
	}
	for _, p := range []string{"before-planning", "planned", "marked-sending", "sent", "marked-sent"} {
		if crashes[p] == 0 {
			t.Errorf("never crashed at %q; the test proves less than it says (%v)", p, crashes)
		}
	}
	if len(plat.sent) != 301 {
		t.Errorf("%d groups got the campaign; want the 300 seeded and the one bound late", len(plat.sent))
	}
	for g, times := range plat.sent {
		if len(times) != 1 {
			t.Errorf("group %s got it %d times", g, len(times))
		}
	}
	if n, _ := db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: outside[0]}); len(n) != 0 {
		t.Error("a group outside the scope got the campaign")
	}
	gs, _ := db.Groups().FindGroups(ctx, bot.GroupFilter{ID: late[0]})
	if len(plat.sent[gs[0].PlatformID]) != 0 {
		t.Errorf("unbound group %s got it", gs[0].PlatformID)
	}
	figs, _ := db.Campaigns().CampaignFigures(ctx, c.ID)
	sent := 0
	for _, f := range figs {
		if f.Post == bot.PostSent {
			sent++
		}
	}
	if sent != 301 {
		t.Errorf("the campaign's figures say %d sent; want 301", sent)
	}
	t.Logf("crashes: %v", crashes)
}

// BenchmarkCampaignFanOut plans a campaign to 10,000 groups and sends it
// under the platform limits (20 a minute per group, 50 a second in all) on
// a simulated clock, failing on any limit violation. Run with
// -benchtime=1x: one fan-out is the unit.
func BenchmarkCampaignFanOut(b *testing.B) {
	const groups, perMinute, perSecond = 10000, 20, 50
	db, town := seeded(b, 50, groups)
	ctx := context.Background()
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	planner := &campaign.Planner{Campaigns: db.Campaigns(), Groups: db.Groups(), Units: db.Stats(), Outbox: db.Outbox(), Loc: time.UTC}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := start.Add(time.Duration(i) * time.Hour)
		b.StopTimer()
		newCampaign(b, db, bot.CampaignBulletin, []int64{town.ID}, at)
		plat := newKeyedPlatform()
		sender := &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{"bench": plat}, Logger: quietLogger(),
			Limits: bot.NewPostLimiter(perMinute, perSecond)}
		b.StartTimer()
		planStart := time.Now()
		n, err := planner.Tick(ctx, at)
		if err != nil || n != groups {
			b.Fatalf("planned %d, %v", n, err)
		}
		b.ReportMetric(float64(time.Since(planStart).Milliseconds()), "ms-plan")
		sendAll(b, sender, plat, at, groups, perSecond, time.Hour)
		for g, times := range plat.sent {
			if len(times) != 1 {
				b.Fatalf("group %s got %d posts", g, len(times))
			}
		}
	}
}

// sendAll runs sender every simulated second from at until total posts
// have reached plat, within limit of simulated time, and fails on a second
// with more than perSecond posts or a group that got a post twice. It
// reports the seconds over the limit and the platform time taken.
func sendAll(b *testing.B, sender *bot.Sender, plat *keyedPlatform, at time.Time, total, perSecond int, limit time.Duration) {
	b.Helper()
	ctx := context.Background()
	perTick := map[int]int{}
	now := at
	for sent := 0; sent < total; now = now.Add(time.Second) {
		plat.now = now
		k, err := sender.Tick(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		perTick[int(now.Sub(at)/time.Second)] = k
		sent += k
		if now.Sub(at) > limit {
			b.Fatalf("after %s %d of %d sent", limit, sent, total)
		}
	}
	violations := 0
	for _, k := range perTick {
		if k > perSecond {
			violations++
		}
	}
	b.ReportMetric(float64(violations), "violations")
	b.ReportMetric(now.Sub(at).Seconds(), "platform-s")
	if violations > 0 {
		b.Fatalf("%d seconds over the global limit", violations)
	}
}

// BenchmarkWeeklyTips plans the first tip slot of a week (Tuesday 10:00)
// for every group of a large district at once, as the planner does when
// the slot comes, and sends them under the platform limits on a simulated
// clock, failing on any limit violation. FANZHA_BENCH_GROUPS sets the
// district's size (default 10,000; the README's figure is for 100,000).
// Run with -benchtime=1x.
func BenchmarkWeeklyTips(b *testing.B) {
	groups := 10000
	if v, err := strconv.Atoi(os.Getenv("FANZHA_BENCH_GROUPS")); err == nil && v > 0 {
		groups = v
	}
	const perMinute, perSecond = 20, 50
	db, _ := seeded(b, groups/200, groups)
	kb, err := knowledge.Open("", quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Week i after the groups were bound (a Wednesday): its Tuesday slot.
		slot := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i)
		planner := &tips.Planner{Groups: db.Groups(), Outbox: db.Outbox(), Content: kb.Content, Loc: time.UTC}
		plat := newKeyedPlatform()
		sender := &bot.Sender{Outbox: db.Outbox(), Channels: map[string]bot.Channel{"bench": plat}, Logger: quietLogger(),
			Limits: bot.NewPostLimiter(perMinute, perSecond)}
		planStart := time.Now()
		n, err := planner.Tick(ctx, slot.Add(time.Minute))
		if err != nil || n != groups {
			b.Fatalf("planned %d, %v", n, err)
		}
		b.ReportMetric(float64(time.Since(planStart).Milliseconds()), "ms-plan")
		sendAll(b, sender, plat, slot.Add(time.Minute), groups, perSecond, 24*time.Hour)
	}
}
