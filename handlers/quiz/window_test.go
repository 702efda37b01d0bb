package quiz_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/bot/bottest"
	"fanzha/handlers/binding"
	"fanzha/handlers/quiz"
	"fanzha/knowledge"
)

// TestAnswersCountOnlyWhileTheQuestionIsOpen: an answer sent before a
// question was posted (meant for the one before, delivered late) and one
// sent after its window are not scored; answers at both edges are.
func TestAnswersCountOnlyWhileTheQuestionIsOpen(t *testing.T) {
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var q *quiz.Quiz
	h := bottest.New(t, func(h *bottest.Harness, r *bot.Router) {
		binding.Register(r, h.DB.Groups())
		q = &quiz.Quiz{Store: h.DB.Quiz(), Groups: h.DB.Groups(), Content: kb.Content, Now: h.Now, Loc: bottest.Shanghai,
			Window: time.Minute, Questions: 3, Stale: 10 * time.Minute}
		quiz.Register(r, q)
	})
	ctx := context.Background()
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	h.Say("g1", "wang", "开始答题 2")
	g := h.Group("g1")
	round, err := h.DB.Quiz().ActiveRound(ctx, g.ID)
	if err != nil || round == nil {
		t.Fatalf("no round: %v", err)
	}
	answer := func(who string) {
		r, _ := h.DB.Quiz().ActiveRound(ctx, g.ID)
		qu := kb.Content().Question(r.Questions[r.Current])
		text := string(rune('A' + qu.AnswerIndex()))
		h.Overhear("g1", who, text)
	}
	h.Advance(time.Minute) // the last instant of question 1
	answer("edge1")
	h.Advance(time.Second)
	answer("late1") // after the window
	if err := q.Tick(ctx, h.Now()); err != nil {
		t.Fatal(err)
	}
	r2, _ := h.DB.Quiz().ActiveRound(ctx, g.ID)
	if r2 == nil || r2.Current != 1 {
		t.Fatalf("question 2 did not open: %+v", r2)
	}
	h.Advance(-50 * time.Millisecond) // sent before question 2 was posted, delivered now
	answer("early2")
	h.Advance(50 * time.Millisecond)
	answer("edge2") // the first instant of question 2
	scores, err := h.DB.Quiz().RoundScores(ctx, round.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range scores {
		got[s.Name] = s.Correct
	}
	if got["edge1"] != 1 || got["edge2"] != 1 || got["late1"] != 0 || got["early2"] != 0 {
		t.Fatalf("scores: %v; want edge1 and edge2 scored, late1 and early2 not", got)
	}
}

// TestButtonAnswersCountOnce: answers tapped on a card (silent messages)
// are scored like typed ones — the first counts, a second tap changes
// nothing — and the bot answers none of them in the chat.
func TestButtonAnswersCountOnce(t *testing.T) {
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := bottest.New(t, func(h *bottest.Harness, r *bot.Router) {
		binding.Register(r, h.DB.Groups())
		quiz.Register(r, &quiz.Quiz{Store: h.DB.Quiz(), Groups: h.DB.Groups(), Content: kb.Content, Now: h.Now, Loc: bottest.Shanghai,
			Window: time.Minute, Questions: 3, Stale: 10 * time.Minute})
	})
	ctx := context.Background()
	h.Say("g1", "wang", "绑定 城关镇 幸福社区")
	h.Say("g1", "wang", "开始答题 1")
	g := h.Group("g1")
	r, err := h.DB.Quiz().ActiveRound(ctx, g.ID)
	if err != nil || r == nil {
		t.Fatalf("no round: %v", err)
	}
	qu := kb.Content().Question(r.Questions[0])
	right, wrong := "对", "错"
	if qu.TF && qu.Answer == "错" {
		right, wrong = "错", "对"
	} else if !qu.TF {
		right = string(rune('A' + qu.AnswerIndex()))
		wrong = string(rune('A' + (qu.AnswerIndex()+1)%len(qu.Options)))
	}
	for _, tap := range []string{right, right, wrong} {
		if replies := h.Tap("g1", "lisi", tap); len(replies) != 0 {
			t.Fatalf("a tap was answered: %q", replies)
		}
	}
	scores, err := h.DB.Quiz().RoundScores(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 1 || scores[0].Correct != 1 {
		t.Fatalf("scores after three taps: %+v; want one player with one right answer", scores)
	}
}
