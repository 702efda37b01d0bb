package bot

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prize draws for 有奖问答: rules say who may win what and when; each draw
// commits to a secret before its period and reveals it with the winners,
// so anyone can check that the winners follow from the entrants.

// PrizePeriod is when a rule draws.
type PrizePeriod string

const (
	PrizeRound PrizePeriod = "round" // after each quiz round in the group
	PrizeWeek  PrizePeriod = "week"  // Monday to Sunday
	PrizeMonth PrizePeriod = "month"
)

// Label is the period as people read it.
func (p PrizePeriod) Label() string {
	switch p {
	case PrizeRound:
		return "每轮答题"
	case PrizeWeek:
		return "每周"
	case PrizeMonth:
		return "每月"
	}
	return string(p)
}

// Bounds of a prize rule.
const (
	MaxPrizeWinners = 50
	MaxPrizeText    = 40 // characters
)

// PrizeRule is who may win what, and when: for the groups bound below a
// unit, or for one group.
type PrizeRule struct {
	ID         int64
	UnitID     int64 // 0 for a group's own rule
	GroupID    int64 // 0 for a unit's rule
	Period     PrizePeriod
	MinAnswers int     // answered at least this many questions in the period
	MinCorrect float64 // percent of them correct
	Winners    int
	Prize      string // "反诈雨伞一把"
	// OncePerMonth: a person wins under this rule at most once a month.
	OncePerMonth bool
	CreatedBy    int64
	CreatedAt    time.Time
	Active       bool
}

// Conditions are the rule's conditions as residents read them: "答题不少于
// 3 题", "答对率不低于 60%".
func (r *PrizeRule) Conditions() []string {
	var out []string
	if r.MinAnswers > 0 {
		out = append(out, fmt.Sprintf("答题不少于 %d 题", r.MinAnswers))
	}
	if r.MinCorrect > 0 {
		out = append(out, fmt.Sprintf("答对率不低于 %.0f%%", r.MinCorrect))
	}
	if len(out) == 0 {
		out = append(out, "参与答题")
	}
	return out
}

// Entrant is one person's part in a period: their public tag (a short
// hash of their pseudonym, the same in every group), answers and name.
type Entrant struct {
	MemberID int64
	GroupID  int64 // a group they answered in (the latest)
	Tag      string
	Name     string
	Answered int
	Correct  int
	// Fast counts answers given within FastAnswer of the question: many
	// of them are flagged for the counsellor, not dropped.
	Fast int
}

// FastAnswer: an answer this soon after its question is implausibly fast
// for a person reading it.
const FastAnswer = 2 * time.Second

// PrizeDraw is one draw of a rule for one period.
type PrizeDraw struct {
	ID          int64
	RuleID      int64
	Period      string // "round:12", "week:2026-11-23", "month:2026-11"
	Commitment  string // sha256 of the secret, announced before
	Secret      string // hex, revealed with the winners
	CommittedAt time.Time
	Ends        time.Time // when the period closes and the draw is made
	DrawnAt     *time.Time
	Entrants    []string // tags, sorted: the eligible list
	// EntrantsHash is EntrantsHash(Entrants), announced with the winners.
	EntrantsHash string
	Winners      []PrizeWinner
}

// PrizeWinner is one winner of a draw.
type PrizeWinner struct {
	DrawID   int64
	MemberID int64
	GroupID  int64
	Tag      string
	Name     string
	Fast     int // flagged answers, for the counsellor
	HandedAt *time.Time
	HandedBy string // the account that marked the prize handed out
}

// PublicTag is the short, stable public name of a pseudonym in a draw:
// enough to tell entrants apart, nothing to find the person by.
func PublicTag(pseudonym string) string {
	h := sha256.Sum256([]byte("fanzha-draw\x00" + pseudonym))
	return hex.EncodeToString(h[:6])
}

// Commit is the commitment to a secret.
func Commit(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// EntrantsHash fixes a draw's list of entrants: announced with the
// winners, it shows any later change of the list.
func EntrantsHash(tags []string) string {
	h := sha256.Sum256([]byte(strings.Join(tags, ",")))
	return hex.EncodeToString(h[:8])
}

// DrawSeed is the seed of a draw: the secret and the period together.
func DrawSeed(secret, period string) string {
	h := sha256.Sum256([]byte(secret + "|" + period))
	return hex.EncodeToString(h[:])
}

// DrawWinners picks n of the entrants' tags with the seed: the tags are
// sorted, then for i = 0, 1, … the i-th pick is taken from those left at
// index sha256(seed|i) mod how many are left. Anyone with the secret, the
// period and the list can do the same.
func DrawWinners(seed string, tags []string, n int) []string {
	left := append([]string(nil), tags...)
	sort.Strings(left)
	var out []string
	for i := 0; i < n && len(left) > 0; i++ {
		h := sha256.Sum256([]byte(seed + "|" + strconv.Itoa(i)))
		k := int(binary.BigEndian.Uint64(h[:8]) % uint64(len(left)))
		out = append(out, left[k])
		left = append(left[:k], left[k+1:]...)
	}
	return out
}

// PrizeStore keeps rules, draws and winners.
type PrizeStore interface {
	CreatePrizeRule(ctx context.Context, r *PrizeRule) error
	PrizeRules(ctx context.Context) ([]*PrizeRule, error)
	SetPrizeRuleActive(ctx context.Context, id int64, active bool) error
	// Commit records a draw's commitment with the posts announcing it, in
	// one transaction; it reports false if the rule's period has one.
	CommitDraw(ctx context.Context, d *PrizeDraw, posts []*OutboxPost) (bool, error)
	// OpenDraws lists draws not drawn yet.
	OpenDraws(ctx context.Context) ([]*PrizeDraw, error)
	// FinishDraw stores the entrants and winners with the announcing posts,
	// once: a second attempt reports false and changes nothing.
	FinishDraw(ctx context.Context, d *PrizeDraw, posts []*OutboxPost) (bool, error)
	Draw(ctx context.Context, id int64) (*PrizeDraw, error)
	Draws(ctx context.Context) ([]*PrizeDraw, error)
	// Entrants counts quiz answers per person in groups over [since, until)
	// (or in one round), with their tags and fast answers.
	Entrants(ctx context.Context, groups []int64, roundID int64, since, until time.Time) ([]Entrant, error)
	// WonSince lists the members who won under rule since.
	WonSince(ctx context.Context, ruleID int64, since time.Time) (map[int64]bool, error)
	MarkHanded(ctx context.Context, drawID, memberID, accountID int64, at time.Time) error
	// AnswerCounts counts quiz answers per member over [since, until).
	AnswerCounts(ctx context.Context, members []int64, since, until time.Time) (map[int64]int, error)
}

// VerifyDraw recomputes a stored draw: the secret must match the commitment
// announced before, and the winners must follow from the secret, the
// period and the stored list of entrants.
func VerifyDraw(d *PrizeDraw) error {
	if d.DrawnAt == nil {
		return fmt.Errorf("抽奖 %d 还没有开奖", d.ID)
	}
	if d.EntrantsHash != "" && EntrantsHash(d.Entrants) != d.EntrantsHash {
		return fmt.Errorf("抽奖 %d：参与名单与开奖时公布的校验值不符", d.ID)
	}
	if Commit(d.Secret) != d.Commitment {
		return fmt.Errorf("抽奖 %d：原始值与事先公布的承诺值不符", d.ID)
	}
	want := DrawWinners(DrawSeed(d.Secret, d.Period), d.Entrants, len(d.Winners))
	if len(want) != len(d.Winners) {
		return fmt.Errorf("抽奖 %d：复算得到 %d 名获奖者，记录有 %d 名", d.ID, len(want), len(d.Winners))
	}
	for i, w := range d.Winners {
		if w.Tag != want[i] {
			return fmt.Errorf("抽奖 %d：第 %d 名获奖者应是 %s，记录是 %s", d.ID, i+1, want[i], w.Tag)
		}
	}
	return nil
}
