package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
)

// GroupFigures are one group's counts over a period.
type GroupFigures = bot.GroupFigures

// Stats answers the questions reports ask (bot.StatsStore).
type Stats struct{ db *DB }

var (
	_ bot.StatsStore   = (*Stats)(nil)
	_ bot.OrgUnitStore = (*Stats)(nil)
)

// Stats returns the report queries of db.
func (db *DB) Stats() *Stats { return &Stats{db} }

// GroupFigures counts, per group, what happened in [from, to): for one
// group if groupID is not 0, else for all. Groups with nothing to count are
// absent.
func (s *Stats) GroupFigures(ctx context.Context, from, to time.Time, groupID int64) (map[int64]*GroupFigures, error) {
	out := map[int64]*GroupFigures{}
	get := func(id int64) *GroupFigures {
		f := out[id]
		if f == nil {
			f = &GroupFigures{}
			out[id] = f
		}
		return f
	}
	f, t := formatTime(from), formatTime(to)
	one := ""
	if groupID != 0 {
		one = fmt.Sprintf(" AND group_id = %d", groupID)
	}
	rolled, err := s.weekFromRollups(ctx, from, to, groupID, get)
	if err != nil {
		return nil, err
	}
	if !rolled {
		if err := s.countEvents(ctx, f, t, one, get); err != nil {
			return nil, err
		}
	}
	if err := s.countInto(ctx, `SELECT group_id, count(*) FROM posts WHERE kind IN ('tip', 'tip_extra') AND status = 'sent'
		AND sent_at >= ? AND sent_at < ?`+one+` GROUP BY group_id`, f, t, func(id int64, n int) { get(id).TipsSent = n }); err != nil {
		return nil, err
	}
	if err := s.countInto(ctx, `SELECT group_id, count(*) FROM quiz_rounds WHERE started_at >= ? AND started_at < ?`+one+` GROUP BY group_id`,
		f, t, func(id int64, n int) { get(id).QuizRounds = n }); err != nil {
		return nil, err
	}
	return out, nil
}

// eventCounts are a group's day or week figures counted from its events,
// in the order of group_days' columns: checks, of them high, suspicious and
// none (or a lookup), warnings, quiz answers, of them correct.
const eventCounts = `sum(CASE WHEN kind = 'scam_check' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'scam_check' AND level = 'high' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'scam_check' AND level = 'suspicious' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'scam_check' AND level IN ('none', 'lookup') THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'warning' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'quiz_answer' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'quiz_answer' AND detail = 'correct' THEN 1 ELSE 0 END)`

// countEvents counts GroupFigures' events of [f, t) from the events.
func (s *Stats) countEvents(ctx context.Context, f, t, one string, get func(int64) *GroupFigures) error {
	rows, err := s.db.r.QueryContext(ctx, `SELECT group_id,
			count(DISTINCT member_id), `+eventCounts+`,
			count(DISTINCT CASE WHEN kind = 'quiz_answer' THEN member_id END)
		FROM events WHERE at >= ? AND at < ? AND group_id IS NOT NULL`+one+` GROUP BY group_id`, f, t)
	if err != nil {
		return fmt.Errorf("store: event figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var g GroupFigures
		if err := rows.Scan(&id, &g.Members, &g.ScamChecks, &g.ChecksHigh, &g.ChecksSuspicious, &g.ChecksNone, &g.Warnings,
			&g.QuizAnswers, &g.QuizCorrect, &g.QuizParticipants); err != nil {
			return err
		}
		*get(id) = g
	}
	return rows.Err()
}

func (s *Stats) countInto(ctx context.Context, q, from, to string, set func(id int64, n int)) error {
	rows, err := s.db.r.QueryContext(ctx, q, from, to)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		set(id, n)
	}
	return rows.Err()
}

// UnitReach counts, per reporting unit, the distinct members seen in
// [from, to) in the groups of the units that report to it, with events of
// kind ("" for any). reportsTo maps each org unit to its reporting unit (a
// class to its school), so a person in two groups of one village, or two
// classes of one school, counts once.
func (s *Stats) UnitReach(ctx context.Context, from, to time.Time, kind bot.EventKind, reportsTo map[int64]int64) (map[int64]int, error) {
	if len(reportsTo) == 0 {
		return map[int64]int{}, nil // a counsellor's report has no units
	}
	epoch, err := s.db.reachEpoch(ctx)
	if err != nil {
		return nil, err
	}
	// A unit that reports for itself alone (a village) is counted inside
	// SQLite; units folded into another (the classes of a school) come back
	// as distinct pairs of unit and person, folded here, so that a person
	// in two classes of one school counts once.
	folded := map[int64]bool{}
	for u, rep := range reportsTo {
		if u != rep {
			folded[rep] = true
		}
	}
	var foldedUnits []string
	for u, rep := range reportsTo {
		if folded[rep] {
			foldedUnits = append(foldedUnits, strconv.FormatInt(u, 10))
		}
	}
	rollup := kind == "" && epochOf(from) == epoch && !s.db.noRollups
	// Since the epoch (the campaign's start) the roll-up answers: who was
	// first seen before to, a row per member and group however long the
	// campaign has run. Otherwise the events of [from, to) are scanned
	// through the covering index events_reach.
	src, args := `events e JOIN groups g ON g.id = e.group_id
		WHERE e.at >= ? AND e.at < ? AND e.member_id IS NOT NULL AND (? = '' OR e.kind = ?)`, []any{formatTime(from), formatTime(to), kind, kind}
	if rollup {
		src, args = `groups g `+s.db.orderedJoin()+` reach_first e ON e.group_id = g.id WHERE e.first_at < ?`, []any{formatTime(to)}
	}
	out := map[int64]int{}
	rows, err := s.db.r.QueryContext(ctx, `SELECT g.org_unit_id, count(DISTINCT e.member_id) FROM `+src+
		` AND g.org_unit_id IS NOT NULL GROUP BY g.org_unit_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unit reach: %w", err)
	}
	for rows.Next() {
		var unit int64
		var n int
		if err := rows.Scan(&unit, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if rep, ok := reportsTo[unit]; ok && rep == unit && !folded[rep] {
			out[unit] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(foldedUnits) == 0 {
		return out, err
	}
	rows, err = s.db.r.QueryContext(ctx, `SELECT DISTINCT g.org_unit_id, e.member_id FROM `+src+
		` AND g.org_unit_id IN (`+strings.Join(foldedUnits, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unit reach: %w", err)
	}
	defer rows.Close()
	sets := map[int64]map[int64]struct{}{}
	for rows.Next() {
		var unit, member int64
		if err := rows.Scan(&unit, &member); err != nil {
			return nil, err
		}
		rep := reportsTo[unit]
		if sets[rep] == nil {
			sets[rep] = map[int64]struct{}{}
		}
		sets[rep][member] = struct{}{}
	}
	for rep, set := range sets {
		out[rep] = len(set)
	}
	return out, rows.Err()
}

// OrgUnits returns every org unit.
func (s *Stats) OrgUnits(ctx context.Context) ([]bot.OrgUnit, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, parent_id, kind, name, population FROM org_units ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.OrgUnit
	for rows.Next() {
		var u bot.OrgUnit
		var parent sql.NullInt64
		if err := rows.Scan(&u.ID, &parent, &u.Kind, &u.Name, &u.Population); err != nil {
			return nil, err
		}
		u.ParentID = parent.Int64
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateOrgUnit sets a unit's population and, if parentID is not 0, moves it
// under another unit (a village bound from chat is placed under its town).
func (s *Stats) UpdateOrgUnit(ctx context.Context, id int64, population int, parentID int64) error {
	if population < 0 || population > 10_000_000 {
		return bot.Errorf(bot.EINVALID, "人口数应在 0 到 10000000 之间。")
	}
	if parentID == id {
		return bot.Errorf(bot.EINVALID, "不能把单位放到它自己下面。")
	}
	defer s.db.groupsChanged()
	return s.db.withTx(ctx, "UpdateOrgUnit", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE org_units SET population = ? WHERE id = ?`, population, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ENOTFOUND, "没有这个单位。")
		}
		if parentID != 0 {
			_, err = tx.ExecContext(ctx, `UPDATE org_units SET parent_id = ? WHERE id = ?`, parentID, id)
		}
		return err
	})
}

// CreateOrgUnit adds a unit, e.g. a town above the villages bound from chat.
func (s *Stats) CreateOrgUnit(ctx context.Context, u *bot.OrgUnit) error {
	return s.db.withTx(ctx, "CreateOrgUnit", func(tx *sql.Tx) error {
		var parent sql.NullInt64
		if u.ParentID != 0 {
			parent = sql.NullInt64{Int64: u.ParentID, Valid: true}
		}
		id, err := ensureOrgUnit(ctx, tx, parent, *u, s.db.now())
		u.ID = id
		return err
	})
}

// epochOf is how the reach epoch t is stored: "" for the zero time (since
// the beginning).
func epochOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func (db *DB) reachEpoch(ctx context.Context) (string, error) {
	var epoch string
	if err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'reach_epoch'`).Scan(&epoch); err != nil {
		return "", fmt.Errorf("store: reach epoch: %w", err)
	}
	return epoch, nil
}

// SetReachEpoch makes t (the campaign's start; zero for the beginning)
// the start of the reach roll-up, rebuilding it from the events when it
// was kept from another start. It reports whether it rebuilt.
func (db *DB) SetReachEpoch(ctx context.Context, t time.Time) (bool, error) {
	epoch := epochOf(t)
	current, err := db.reachEpoch(ctx)
	if err != nil || current == epoch {
		return false, err
	}
	return true, db.withTx(ctx, "SetReachEpoch", func(tx *sql.Tx) error {
		db.meta.Store(nil)
		return db.rebuildReach(ctx, tx, epoch)
	})
}

// rebuildReach refills the reach roll-up from the events since epoch.
func (db *DB) rebuildReach(ctx context.Context, tx *sql.Tx, epoch string) error {
	db.rollups.forget()
	if _, err := tx.ExecContext(ctx, `DELETE FROM reach_first`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reach_first (group_id, member_id, first_at)
		SELECT group_id, member_id, min(at) FROM events
		WHERE at >= ? AND group_id IS NOT NULL AND member_id IS NOT NULL GROUP BY group_id, member_id`, epoch); err != nil {
		return fmt.Errorf("store: rebuilding reach: %w", err)
	}
	_, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'reach_epoch'`, epoch)
	return err
}
