package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"fanzha/bot"
)

// The group roll-ups (migration 0018) count each event as it is written,
// by local day and week. Local is a fixed offset from UTC, that of the
// reports' time zone (China keeps one all year); a report period that is
// not whole days, or a week not Monday to Monday, under that offset is
// counted from the events instead.

// rollupOffset is the offset the roll-ups are kept in, and whether they
// are kept at all.
func (db *DB) rollupOffset(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (time.Duration, bool, error) {
	var v string
	if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'rollup_offset'`).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("store: roll-up offset: %w", err)
	}
	if v == "" {
		return 0, false, nil
	}
	secs, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, fmt.Errorf("store: roll-up offset %q: %w", v, err)
	}
	return time.Duration(secs) * time.Second, true, nil
}

// RollupsKeptFor reports whether the roll-ups are kept as a process with
// time zone loc and campaign start would keep them, or not kept yet: if
// not, starting it rebuilds them (SetRollupZone, SetReachEpoch).
func (db *DB) RollupsKeptFor(ctx context.Context, loc *time.Location, start time.Time) (bool, error) {
	_, secs := db.Now().In(loc).Zone()
	offset, kept, err := db.rollupOffset(ctx, db.r)
	if err != nil {
		return false, err
	}
	epoch, err := db.reachEpoch(ctx)
	if err != nil {
		return false, err
	}
	return (!kept || offset == time.Duration(secs)*time.Second) && epoch == epochOf(start), nil
}

// rollupMeta is what meta says of the roll-ups, read once and kept until
// a rebuild changes it (every write goes through the one committer).
type rollupMeta struct {
	epoch  string
	offset time.Duration
	kept   bool
}

func (db *DB) rollupMeta(ctx context.Context, tx *sql.Tx) (*rollupMeta, error) {
	if m := db.meta.Load(); m != nil {
		return m, nil
	}
	m := &rollupMeta{}
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'reach_epoch'`).Scan(&m.epoch); err != nil {
		return nil, fmt.Errorf("store: reach epoch: %w", err)
	}
	var err error
	if m.offset, m.kept, err = db.rollupOffset(ctx, tx); err != nil {
		return nil, err
	}
	db.meta.Store(m)
	return m, nil
}

// SetRollupZone keeps the group roll-ups in loc's offset from UTC (as it
// is now), rebuilding them from the events when they were kept in another
// or not at all. It reports whether it rebuilt.
func (db *DB) SetRollupZone(ctx context.Context, loc *time.Location) (bool, error) {
	_, secs := db.Now().In(loc).Zone()
	offset := time.Duration(secs) * time.Second
	current, kept, err := db.rollupOffset(ctx, db.r)
	if err != nil || kept && current == offset {
		return false, err
	}
	return true, db.withTx(ctx, "SetRollupZone", func(tx *sql.Tx) error {
		db.meta.Store(nil)
		return db.rebuildGroupRollups(ctx, tx, offset)
	})
}

// localDay and localWeek are the roll-up keys of t.
func localDay(t time.Time, offset time.Duration) string {
	return t.UTC().Add(offset).Format(time.DateOnly)
}

func localWeek(t time.Time, offset time.Duration) string {
	d := t.UTC().Add(offset)
	back := (int(d.Weekday()) + 6) % 7 // days since Monday
	return d.AddDate(0, 0, -back).Format(time.DateOnly)
}

// rebuildGroupRollups refills the group roll-ups from every event, in one
// pass of SQL per table.
func (db *DB) rebuildGroupRollups(ctx context.Context, tx *sql.Tx, offset time.Duration) error {
	db.rollups.forget()
	for _, q := range []string{
		`DELETE FROM group_days`, `DELETE FROM group_week_members`, `DELETE FROM group_weeks`,
		`INSERT INTO group_days (day, group_id, checks, checks_high, checks_suspicious, checks_none, warnings, quiz_answers, quiz_correct)
			SELECT ` + db.localDay("at", offset) + `, group_id, ` + eventCounts + `
			FROM events WHERE group_id IS NOT NULL GROUP BY 1, 2`,
		`INSERT INTO group_week_members (week, group_id, member_id, quiz)
			SELECT ` + db.localMonday("at", offset) + `, group_id, member_id, max(CASE WHEN kind = 'quiz_answer' THEN 1 ELSE 0 END)
			FROM events WHERE group_id IS NOT NULL AND member_id IS NOT NULL GROUP BY 1, 2, 3`,
		`INSERT INTO group_weeks (week, group_id, members, quiz_participants)
			SELECT week, group_id, count(*), sum(quiz) FROM group_week_members GROUP BY 1, 2`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: rebuilding group roll-ups: %w", err)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'rollup_offset'`, strconv.Itoa(int(offset.Seconds())))
	return err
}

// addToRollups counts e in the group roll-ups of its transaction's batch,
// written when the transaction commits (rollupBatch).
func (db *DB) addToRollups(ctx context.Context, tx *sql.Tx, e *bot.Event, at time.Time) error {
	m, err := db.rollupMeta(ctx, tx)
	if err != nil || !m.kept || e.GroupID == 0 {
		return err
	}
	check, quiz := e.Kind == bot.EventScamCheck, e.Kind == bot.EventQuizAnswer
	c := db.rollups.day(localDay(at, m.offset), e.GroupID)
	c.checks += bit(check)
	c.high += bit(check && e.Level == bot.CheckHigh)
	c.suspicious += bit(check && e.Level == bot.CheckSuspicious)
	c.none += bit(check && (e.Level == bot.CheckNone || e.Level == bot.CheckLookup))
	c.warnings += bit(e.Kind == bot.EventWarning)
	c.quizAnswers += bit(quiz)
	c.quizCorrect += bit(quiz && e.Detail == "correct")
	if e.MemberID != 0 {
		db.rollups.weekMember(localWeek(at, m.offset), e.GroupID, e.MemberID, quiz)
	}
	return nil
}

// weekFromRollups answers GroupFigures' event counts for [from, to) from
// the roll-ups when that is a whole local week they keep; ok is false when
// it is not.
func (s *Stats) weekFromRollups(ctx context.Context, from, to time.Time, groupID int64, get func(int64) *GroupFigures) (bool, error) {
	if s.db.noRollups {
		return false, nil
	}
	offset, kept, err := s.db.rollupOffset(ctx, s.db.r)
	if err != nil || !kept {
		return false, err
	}
	week := localWeek(from, offset)
	if to.Sub(from) != 7*24*time.Hour || week != localDay(from, offset) || !from.UTC().Add(offset).Truncate(24*time.Hour).Equal(from.UTC().Add(offset)) {
		return false, nil
	}
	one := ""
	args := []any{week}
	if groupID != 0 {
		one, args = " AND group_id = ?", append(args, groupID)
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT group_id, members, quiz_participants FROM group_weeks WHERE week = ?`+one, args...)
	if err != nil {
		return false, fmt.Errorf("store: week figures: %w", err)
	}
	for rows.Next() {
		var id int64
		var members, players int
		if err := rows.Scan(&id, &members, &players); err != nil {
			rows.Close()
			return false, err
		}
		f := get(id)
		f.Members, f.QuizParticipants = members, players
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	args = []any{localDay(from, offset), localDay(to, offset)}
	if groupID != 0 {
		args = append(args, groupID)
	}
	rows, err = s.db.r.QueryContext(ctx, `SELECT group_id, sum(checks), sum(checks_high), sum(checks_suspicious), sum(checks_none),
		sum(warnings), sum(quiz_answers), sum(quiz_correct) FROM group_days WHERE day >= ? AND day < ?`+one+` GROUP BY group_id`, args...)
	if err != nil {
		return false, fmt.Errorf("store: week figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var g GroupFigures
		if err := rows.Scan(&id, &g.ScamChecks, &g.ChecksHigh, &g.ChecksSuspicious, &g.ChecksNone, &g.Warnings, &g.QuizAnswers, &g.QuizCorrect); err != nil {
			return false, err
		}
		f := get(id)
		g.Members, g.QuizParticipants = f.Members, f.QuizParticipants
		*f = g
	}
	s.db.rollupReads.Add(1)
	return true, rows.Err()
}
