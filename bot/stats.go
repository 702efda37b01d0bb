package bot

import (
	"context"
	"time"
)

// GroupFigures is what happened in one group over a span of time: the
// figures of the weekly report.
type GroupFigures struct {
	Members          int // distinct members who did anything
	ScamChecks       int
	ChecksHigh       int
	ChecksSuspicious int
	ChecksNone       int
	Warnings         int
	QuizAnswers      int
	QuizCorrect      int
	QuizParticipants int
	QuizRounds       int
	TipsSent         int // scheduled and asked-for tips delivered
}

// StatsStore answers the questions reports ask. It only reads.
type StatsStore interface {
	// GroupFigures counts, per group, what happened in [from, to): for one
	// group if groupID is not 0.
	GroupFigures(ctx context.Context, from, to time.Time, groupID int64) (map[int64]*GroupFigures, error)
	// UnitReach counts distinct members per reporting unit in [from, to)
	// (of one event kind if kind is not empty); reportsTo maps every unit
	// to its reporting unit.
	UnitReach(ctx context.Context, from, to time.Time, kind EventKind, reportsTo map[int64]int64) (map[int64]int, error)
	// OrgUnits lists every org unit.
	OrgUnits(ctx context.Context) ([]OrgUnit, error)
}
