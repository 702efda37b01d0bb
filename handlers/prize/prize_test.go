package prize_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/handlers/prize"
	"fanzha/store"
	"fanzha/store/storetest"
)

var shanghai = time.FixedZone("CST", 8*3600)

// world is a town with two bound village groups and five people who
// answered quiz questions in the week of 2026-11-23.
type world struct {
	db      *store.DB
	town    int64
	groups  [2]*bot.Group
	members map[string]int64
}

func newWorld(t *testing.T) *world {
	ctx := context.Background()
	w := &world{db: storetest.Open(t, ""), members: map[string]int64{}}
	for i, v := range []string{"东风村", "西湖村"} {
		g, err := w.db.Groups().EnsureGroup(ctx, "playground", v, v+"村民群")
		if err != nil {
			t.Fatal(err)
		}
		if w.groups[i], err = w.db.Groups().BindGroup(ctx, g.ID, []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: v}}, 0); err != nil {
			t.Fatal(err)
		}
	}
	w.town = w.groups[0].OrgUnit.ParentID
	// Who answered what, in which group: answers (correct ones), and
	// whether within a second of the question.
	monday := time.Date(2026, 11, 24, 20, 0, 0, 0, shanghai) // a Tuesday evening round
	for gi, people := range [][]struct {
		name           string
		answers, right int
		fast           bool
	}{
		{{"张阿姨", 3, 3, false}, {"李大爷", 2, 1, false}, {"王小妹", 1, 1, false}},
		{{"赵叔", 2, 0, false}, {"刘大妈", 2, 2, true}},
	} {
		g := w.groups[gi]
		r := &bot.QuizRound{GroupID: g.ID, Questions: []string{"q001", "q002", "q003"}, Window: time.Minute, OpenedAt: monday, StartedAt: monday}
		first := &bot.OutboxPost{GroupID: g.ID, Kind: bot.PostQuizQuestion, Text: "题目", DueAt: monday}
		if err := w.db.Quiz().StartRound(ctx, r, first); err != nil {
			t.Fatal(err)
		}
		posts, _ := w.db.Outbox().FindPosts(ctx, bot.PostFilter{GroupID: g.ID, Kind: bot.PostQuizQuestion})
		if err := w.db.Outbox().MarkPosts(ctx, []int64{posts[0].ID}, bot.PostSent, monday, ""); err != nil {
			t.Fatal(err)
		}
		for _, p := range people {
			m, err := w.db.Members().EnsureMember(ctx, "playground", p.name, p.name)
			if err != nil {
				t.Fatal(err)
			}
			w.members[p.name] = m.ID
			for i := 0; i < p.answers; i++ {
				at := monday.Add(10 * time.Second)
				if p.fast {
					at = monday.Add(500 * time.Millisecond)
				}
				// Only the first question's post exists; later answers count
				// for eligibility, the first for speed.
				if _, err := w.db.Quiz().RecordAnswer(ctx, &bot.QuizAnswer{RoundID: r.ID, Index: i, MemberID: m.ID, Choice: 0, Correct: i < p.right, At: at}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return w
}

func (w *world) drawer(seed byte) *prize.Drawer {
	return &prize.Drawer{Prizes: w.db.Prizes(), Groups: w.db.Groups(), Units: w.db.Stats(), Quiz: w.db.Quiz(), Loc: shanghai,
		Rand: bytes.NewReader(bytes.Repeat([]byte{seed}, 1024))}
}

func (w *world) prizePosts(t *testing.T) []*bot.OutboxPost {
	posts, err := w.db.Outbox().FindPosts(context.Background(), bot.PostFilter{Kind: bot.PostPrize})
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

// TestWeeklyDrawIsCommittedDrawnOnceAndReproduces: the draw commits in
// both groups at the start of the week, draws after it ends from those who
// qualify (≥2 answers, ≥50 % right), announces once even when ticked again
// by a restarted process, flags the implausibly fast, and recomputes;
// the same inputs give the same winners; a winner is not drawn again the
// same month.
func TestWeeklyDrawIsCommittedDrawnOnceAndReproduces(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rule := &bot.PrizeRule{UnitID: w.town, Period: bot.PrizeWeek, MinAnswers: 2, MinCorrect: 50, Winners: 2, Prize: "反诈雨伞一把", OncePerMonth: true, Active: true}
	if err := w.db.Prizes().CreatePrizeRule(ctx, rule); err != nil {
		t.Fatal(err)
	}
	d := w.drawer(7)
	if err := d.Tick(ctx, time.Date(2026, 11, 23, 9, 0, 0, 0, shanghai)); err != nil {
		t.Fatal(err)
	}
	commits := w.prizePosts(t)
	draws, _ := w.db.Prizes().Draws(ctx)
	if len(commits) != 2 || len(draws) != 1 || !strings.Contains(commits[0].Text, draws[0].Commitment) || strings.Contains(commits[0].Text, draws[0].Secret) {
		t.Fatalf("commitment posts: %d, draws %d", len(commits), len(draws))
	}
	if err := d.Tick(ctx, time.Date(2026, 11, 29, 23, 0, 0, 0, shanghai)); err != nil {
		t.Fatal(err)
	}
	if len(w.prizePosts(t)) != 2 {
		t.Fatal("drawn before the week ended")
	}
	after := time.Date(2026, 11, 30, 0, 5, 0, 0, shanghai)
	if err := d.Tick(ctx, after); err != nil {
		t.Fatal(err)
	}
	restarted := w.drawer(9) // another process, another random source
	if err := restarted.Tick(ctx, after.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	dr, err := w.db.Prizes().Draw(ctx, draws[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var results []*bot.OutboxPost
	for _, p := range w.prizePosts(t) {
		if p.Ref == dr.Period && strings.HasSuffix(p.Key, ":result") {
			results = append(results, p)
		}
	}
	if len(results) != 2 {
		t.Fatalf("%d result posts for the week's draw; want one per group", len(results))
	}
	if len(dr.Entrants) != 3 || len(dr.Winners) != 2 {
		t.Fatalf("entrants %v, winners %+v; want the 3 who qualify and 2 winners", dr.Entrants, dr.Winners)
	}
	eligible := map[int64]bool{w.members["张阿姨"]: true, w.members["李大爷"]: true, w.members["刘大妈"]: true}
	for _, win := range dr.Winners {
		if !eligible[win.MemberID] {
			t.Errorf("%s won without qualifying", win.Name)
		}
		if !strings.Contains(results[0].Text, win.Name) {
			t.Errorf("the announcement does not name %s", win.Name)
		}
		if win.MemberID == w.members["刘大妈"] && win.Fast == 0 {
			t.Error("刘大妈's fast answers are not flagged")
		}
	}
	if !strings.Contains(results[0].Text, dr.Secret) {
		t.Error("the announcement does not reveal the secret")
	}
	if err := bot.VerifyDraw(dr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(results[0].Text, dr.EntrantsHash) || dr.EntrantsHash == "" {
		t.Error("the announcement does not fix the list of entrants")
	}
	tampered := *dr
	tampered.Entrants = append([]string{"000000000000"}, dr.Entrants...)
	if err := bot.VerifyDraw(&tampered); err == nil {
		t.Fatal("a list of entrants changed after the draw still verifies")
	}
	bad := *dr
	bad.Secret = strings.Repeat("0", len(dr.Secret))
	if err := bot.VerifyDraw(&bad); err == nil {
		t.Fatal("a secret that does not match the commitment verifies")
	}

	// The same inputs and secret source on another database give the same
	// winners.
	w2 := newWorld(t)
	rule2 := *rule
	rule2.ID, rule2.UnitID = 0, w2.town
	if err := w2.db.Prizes().CreatePrizeRule(ctx, &rule2); err != nil {
		t.Fatal(err)
	}
	d2 := w2.drawer(7)
	d2.Tick(ctx, time.Date(2026, 11, 23, 9, 0, 0, 0, shanghai))
	d2.Tick(ctx, after)
	draws2, _ := w2.db.Prizes().Draws(ctx)
	var same *bot.PrizeDraw
	for _, x := range draws2 {
		if x.Period == dr.Period {
			same = x
		}
	}
	if same == nil || fmt.Sprint(tags(same.Winners)) != fmt.Sprint(tags(dr.Winners)) || len(dr.Winners) == 0 {
		t.Fatalf("the draw did not reproduce: %+v vs %v", same, tags(dr.Winners))
	}

	// Next week in the same month: this week's winners are out.
	won, _ := w.db.Prizes().WonSince(ctx, rule.ID, time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai))
	entrants, _ := w.db.Prizes().Entrants(ctx, []int64{w.groups[0].ID, w.groups[1].ID}, 0, time.Time{}, after)
	for _, e := range prize.Eligible(rule, entrants, won) {
		if won[e.MemberID] {
			t.Fatalf("%s can win twice in a month", e.Name)
		}
	}
}

func tags(ws []bot.PrizeWinner) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Tag)
	}
	return out
}

// TestRoundDrawInItsOwnGroup: a group's per-round rule commits while the
// round runs and draws when it ends, in that group only, from that round's
// answers.
func TestRoundDrawInItsOwnGroup(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.groups[1]
	rule := &bot.PrizeRule{GroupID: g.ID, Period: bot.PrizeRound, MinAnswers: 1, Winners: 1, Prize: "定制水杯", Active: true}
	if err := w.db.Prizes().CreatePrizeRule(ctx, rule); err != nil {
		t.Fatal(err)
	}
	d := w.drawer(3)
	now := time.Date(2026, 11, 24, 20, 1, 0, 0, shanghai)
	if err := d.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	posts := w.prizePosts(t)
	if len(posts) != 1 || posts[0].GroupID != g.ID {
		t.Fatalf("commitment: %+v", posts)
	}
	round, _ := w.db.Quiz().ActiveRound(ctx, g.ID)
	if ok, err := w.db.Quiz().AdvanceRound(ctx, round, 0, now, bot.RoundFinished, nil); err != nil || !ok {
		t.Fatalf("ending the round: %v %v", ok, err)
	}
	if err := d.Tick(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	posts = w.prizePosts(t)
	if len(posts) != 2 || posts[1].GroupID != g.ID || !strings.Contains(posts[1].Text, "定制水杯") {
		t.Fatalf("result: %+v", posts)
	}
	draws, _ := w.db.Prizes().Draws(ctx)
	if len(draws[0].Entrants) != 2 || len(draws[0].Winners) != 1 {
		t.Fatalf("the round's entrants %v, winners %+v; want 赵叔 and 刘大妈, one winner", draws[0].Entrants, draws[0].Winners)
	}
	if err := bot.VerifyDraw(draws[0]); err != nil {
		t.Fatal(err)
	}
}
