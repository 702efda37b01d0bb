package store

import (
	"context"
	"database/sql"
)

// rollupBatch gathers what the events of one write transaction add to the
// roll-ups, so that a burst of events costs one statement per group-day,
// per person-week and per first sighting rather than several per event.
// It is written just before the transaction commits (flush), and thrown
// away with a transaction that is rolled back. Only the committer
// (commitLoop) writes, so one batch serves every transaction in turn.
type rollupBatch struct {
	days  map[dayKey]*dayCounts
	reach map[reachKey]string    // earliest first_at
	weeks map[weekMemberKey]bool // quiz answered
	order []weekMemberKey        // the person-weeks in order of first sight

	// known is what earlier commits of this process put in the tables:
	// a first sighting no later than, a person-week with at least that
	// quiz mark. A sighting or a week the tables already hold costs no
	// statement. Rows only ever move that way (another replica can only
	// make a first sighting earlier or set a quiz mark), and the rebuilds
	// that empty the tables forget it. pending is this transaction's
	// share, known once it commits.
	knownReach   map[reachKey]string
	knownWeeks   map[weekMemberKey]bool
	pendingReach map[reachKey]string
	pendingWeeks map[weekMemberKey]bool
}

// maxKnown bounds each of the known maps; past it they start over.
const maxKnown = 200_000

type dayKey struct {
	day   string
	group int64
}

type dayCounts struct {
	checks, high, suspicious, none, warnings, quizAnswers, quizCorrect int
}

type reachKey struct{ group, member int64 }

type weekMemberKey struct {
	week          string
	group, member int64
}

type weekKey struct {
	week  string
	group int64
}

func (b *rollupBatch) reset() {
	if b.days == nil {
		b.days = map[dayKey]*dayCounts{}
		b.reach = map[reachKey]string{}
		b.weeks = map[weekMemberKey]bool{}
		b.knownReach, b.pendingReach = map[reachKey]string{}, map[reachKey]string{}
		b.knownWeeks, b.pendingWeeks = map[weekMemberKey]bool{}, map[weekMemberKey]bool{}
	}
	clear(b.days)
	clear(b.reach)
	clear(b.weeks)
	clear(b.pendingReach)
	clear(b.pendingWeeks)
	b.order = b.order[:0]
}

// committed makes the transaction's writes known.
func (b *rollupBatch) committed() {
	if len(b.knownReach)+len(b.pendingReach) > maxKnown {
		clear(b.knownReach)
	}
	if len(b.knownWeeks)+len(b.pendingWeeks) > maxKnown {
		clear(b.knownWeeks)
	}
	for k, v := range b.pendingReach {
		b.knownReach[k] = v
	}
	for k, v := range b.pendingWeeks {
		b.knownWeeks[k] = v
	}
	clear(b.pendingReach)
	clear(b.pendingWeeks)
}

// forget drops what is known, for a transaction that empties the tables.
func (b *rollupBatch) forget() {
	clear(b.knownReach)
	clear(b.knownWeeks)
}

func (b *rollupBatch) empty() bool {
	return len(b.days) == 0 && len(b.reach) == 0 && len(b.weeks) == 0
}

func (b *rollupBatch) day(day string, group int64) *dayCounts {
	k := dayKey{day, group}
	c := b.days[k]
	if c == nil {
		c = &dayCounts{}
		b.days[k] = c
	}
	return c
}

func (b *rollupBatch) seen(group, member int64, at string) {
	k := reachKey{group, member}
	if first, ok := b.reach[k]; !ok || at < first {
		b.reach[k] = at
	}
}

func (b *rollupBatch) weekMember(week string, group, member int64, quiz bool) {
	k := weekMemberKey{week, group, member}
	had, ok := b.weeks[k]
	if !ok {
		b.order = append(b.order, k)
	}
	b.weeks[k] = had || quiz
}

// flush writes the batch in tx.
func (b *rollupBatch) flush(ctx context.Context, tx *sql.Tx) error {
	for k, first := range b.reach {
		if known, ok := b.knownReach[k]; ok && known <= first {
			continue // seen before: nothing to write
		}
		b.pendingReach[k] = first
		if _, err := tx.ExecContext(ctx, `INSERT INTO reach_first (group_id, member_id, first_at) VALUES (?, ?, ?)
			ON CONFLICT (group_id, member_id) DO UPDATE SET first_at = excluded.first_at
			WHERE excluded.first_at < reach_first.first_at`, k.group, k.member, first); err != nil {
			return err
		}
	}
	for k, c := range b.days {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_days (day, group_id, checks, checks_high, checks_suspicious, checks_none, warnings, quiz_answers, quiz_correct)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, group_id) DO UPDATE SET
			checks = group_days.checks + excluded.checks, checks_high = group_days.checks_high + excluded.checks_high,
			checks_suspicious = group_days.checks_suspicious + excluded.checks_suspicious, checks_none = group_days.checks_none + excluded.checks_none,
			warnings = group_days.warnings + excluded.warnings, quiz_answers = group_days.quiz_answers + excluded.quiz_answers,
			quiz_correct = group_days.quiz_correct + excluded.quiz_correct`,
			k.day, k.group, c.checks, c.high, c.suspicious, c.none, c.warnings, c.quizAnswers, c.quizCorrect); err != nil {
			return err
		}
	}
	// A person counts once a week in a group, and once more as a quiz
	// player: the week's totals grow only when either is new.
	grow := map[weekKey]*[2]int{}
	for _, k := range b.order {
		quiz := b.weeks[k]
		if had, ok := b.knownWeeks[k]; ok && (had || !quiz) {
			continue // counted this week already, as a player too if one now
		}
		b.pendingWeeks[k] = quiz
		res, err := tx.ExecContext(ctx, `INSERT INTO group_week_members (week, group_id, member_id, quiz) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			k.week, k.group, k.member, bit(quiz))
		if err != nil {
			return err
		}
		newMember, newPlayer := false, false
		if n, _ := res.RowsAffected(); n == 1 {
			newMember, newPlayer = true, quiz
		} else if quiz {
			res, err := tx.ExecContext(ctx, `UPDATE group_week_members SET quiz = 1 WHERE week = ? AND group_id = ? AND member_id = ? AND quiz = 0`,
				k.week, k.group, k.member)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			newPlayer = n == 1
		}
		if newMember || newPlayer {
			wk := weekKey{k.week, k.group}
			g := grow[wk]
			if g == nil {
				g = &[2]int{}
				grow[wk] = g
			}
			g[0] += bit(newMember)
			g[1] += bit(newPlayer)
		}
	}
	for k, g := range grow {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_weeks (week, group_id, members, quiz_participants) VALUES (?, ?, ?, ?)
			ON CONFLICT (week, group_id) DO UPDATE SET members = group_weeks.members + excluded.members, quiz_participants = group_weeks.quiz_participants + excluded.quiz_participants`,
			k.week, k.group, g[0], g[1]); err != nil {
			return err
		}
	}
	return nil
}

func bit(ok bool) int {
	if ok {
		return 1
	}
	return 0
}
