package bot

import (
	"context"
	"time"
)

// QuizRound is one quiz in one group: a few questions, one after another,
// RoundStatus is where a quiz round is.
type RoundStatus string

const (
	RoundActive   RoundStatus = "active"
	RoundFinished RoundStatus = "finished" // every question asked and closed
	RoundAborted  RoundStatus = "aborted"  // ended early: by its counsellor, or after an outage
)

// each open for answers for Window.
type QuizRound struct {
	ID        int64
	GroupID   int64
	StartedBy int64
	Questions []string // question IDs, in order
	Window    time.Duration
	Current   int       // index of the open question
	OpenedAt  time.Time // when the open question was posted
	Status    RoundStatus
	StartedAt time.Time
	// Slot names the scheduled time a round was started for; a slot starts
	// one round at most. Empty for rounds a counsellor started.
	Slot string
}

// Closes is when the open question stops taking answers.
func (r *QuizRound) Closes() time.Time { return r.OpenedAt.Add(r.Window) }

// QuizAnswer is one member's answer to one question of a round.
type QuizAnswer struct {
	RoundID  int64
	Index    int
	MemberID int64
	Choice   int
	Correct  bool
	At       time.Time
}

// QuizScore is a member's tally over a round or a month.
type QuizScore struct {
	MemberID int64
	Name     string
	Correct  int
	Answered int
}

// QuizStore keeps quiz rounds and answers. Every change of a round happens
// in one transaction with the posts it causes, so a crash never leaves a
// question closed without its result, or scores without their round.
type QuizStore interface {
	// StartRound creates r with its first post. ECONFLICT if the group
	// already has an active round.
	StartRound(ctx context.Context, r *QuizRound, first *OutboxPost) error
	ActiveRound(ctx context.Context, groupID int64) (*QuizRound, error) // nil if none
	ActiveRounds(ctx context.Context) ([]*QuizRound, error)
	// RecentQuestions returns the question IDs of the group's last rounds.
	RecentQuestions(ctx context.Context, groupID int64, rounds int) ([]string, error)
	// RecordAnswer stores a; it reports false if the member already
	// answered this question (the first answer counts).
	RecordAnswer(ctx context.Context, a *QuizAnswer) (bool, error)
	// AdvanceRound moves r from question r.Current to next (or ends it with
	// status), enqueueing posts, only if r is still at r.Current: a second
	// attempt to close the same question does nothing and reports false.
	AdvanceRound(ctx context.Context, r *QuizRound, next int, openedAt time.Time, status RoundStatus, posts []*OutboxPost) (bool, error)
	// QuestionAnswers returns the answers to one question, first first,
	// with the members' names.
	QuestionAnswers(ctx context.Context, roundID int64, index int) ([]QuizAnswer, []string, error)
	// RoundScores ranks the members of a round.
	RoundScores(ctx context.Context, roundID int64) ([]QuizScore, error)
	// Leaderboard ranks a group's members by correct answers in [since, until).
	Leaderboard(ctx context.Context, groupID int64, since, until time.Time) ([]QuizScore, error)
}
