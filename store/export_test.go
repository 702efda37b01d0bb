package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"fanzha/bot"
)

// CreateGroupsForTest inserts n bound-less groups in one transaction, for
// tests that need thousands.
func (db *DB) CreateGroupsForTest(ctx context.Context, channel string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	err := db.withTx(ctx, "test", func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO groups (channel, platform_id, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
				channel, fmt.Sprintf("g%05d", i), fmt.Sprintf("群%d", i), db.now()).Scan(&id)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// SeedForBenchmark fills the database with a town of villages, groups
// bound to them, members and events spread over [from, to), in one
// transaction: what a busy district accumulates in a campaign.
func (db *DB) SeedForBenchmark(ctx context.Context, villages, groups, members, events int, from, to time.Time) error {
	return db.withTx(ctx, "test", func(tx *sql.Tx) error {
		now := db.now()
		var town int64
		err := tx.QueryRowContext(ctx, `INSERT INTO org_units (kind, name, created_at) VALUES ('town', '城关镇', ?) RETURNING id`, now).Scan(&town)
		if err != nil {
			return err
		}
		for v := 0; v < villages; v++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO org_units (parent_id, kind, name, population, created_at) VALUES (?, 'village', ?, ?, ?)`,
				town, fmt.Sprintf("%d村", v), 1000+v*10, now); err != nil {
				return err
			}
		}
		for g := 0; g < groups; g++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO groups (channel, platform_id, name, kind, org_unit_id, bound_at, created_at)
				VALUES ('bench', ?, ?, 'community', ?, ?, ?)`, fmt.Sprintf("g%d", g), fmt.Sprintf("群%d", g), town+1+int64(g%villages), now, now); err != nil {
				return err
			}
		}
		for m := 0; m < members; m++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (channel, pseudonym, created_at) VALUES ('bench', ?, ?)`, fmt.Sprintf("p%d", m), now); err != nil {
				return err
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (group_id, member_id, kind, level, detail, at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		kinds := []string{"scam_check", "quiz_answer", "quiz_answer", "help", "warning"}
		details := []string{"shuadan", "correct", "wrong", "", "shuadan"}
		levels := []any{"high", nil, nil, nil, nil}
		span := to.Sub(from)
		for e := 0; e < events; e++ {
			k := e % len(kinds)
			g := e % groups
			m := (e*7919 + g) % members
			at := from.Add(time.Duration(float64(span) * float64(e) / float64(events)))
			if _, err := stmt.ExecContext(ctx, g+1, m+1, kinds[k], levels[k], details[k], formatTime(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// District is the shape of SeedDistrict's data.
type District struct {
	Villages, Groups, MembersPerGroup int
	Events, Posts, Rounds             int
	From, To                          time.Time
}

// SeedDistrict fills the database with a town's villages, groups bound to
// them with their own members (a resident is in one group, as in a
// village), and events, sent tips and quiz rounds spread evenly over
// [From, To); then it builds the roll-ups as the migration would.
func (db *DB) SeedDistrict(ctx context.Context, d District) error {
	if err := db.seedDistrict(ctx, d); err != nil || !db.pg {
		return err
	}
	// PostgreSQL plans from statistics that its autovacuum gathers a while
	// after a bulk load; a district that has run for weeks has them.
	_, err := db.w.ExecContext(ctx, `ANALYZE`)
	return err
}

func (db *DB) seedDistrict(ctx context.Context, d District) error {
	return db.withTx(ctx, "test", func(tx *sql.Tx) error {
		now := db.now()
		var town int64
		err := tx.QueryRowContext(ctx, `INSERT INTO org_units (kind, name, created_at) VALUES ('town', '城关镇', ?) RETURNING id`, now).Scan(&town)
		if err != nil {
			return err
		}
		for v := 0; v < d.Villages; v++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO org_units (parent_id, kind, name, population, created_at) VALUES (?, 'village', ?, ?, ?)`,
				town, fmt.Sprintf("%d村", v), 1000+v*10, now); err != nil {
				return err
			}
		}
		for g := 0; g < d.Groups; g++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO groups (channel, platform_id, name, kind, org_unit_id, bound_at, created_at)
				VALUES ('bench', ?, ?, 'community', ?, ?, ?)`, fmt.Sprintf("g%d", g), fmt.Sprintf("群%d", g), town+1+int64(g%d.Villages), formatTime(d.From), now); err != nil {
				return err
			}
		}
		members := d.Groups * d.MembersPerGroup
		for m := 0; m < members; m++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (channel, pseudonym, created_at) VALUES ('bench', ?, ?)`, fmt.Sprintf("p%d", m), now); err != nil {
				return err
			}
		}
		span := d.To.Sub(d.From)
		at := func(i, n int) string {
			return formatTime(d.From.Add(time.Duration(float64(span) * float64(i) / float64(n))))
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (group_id, member_id, kind, level, detail, at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		kinds := []string{"scam_check", "quiz_answer", "quiz_answer", "help", "warning"}
		details := []string{"shuadan", "correct", "wrong", "", "shuadan"}
		levels := []any{"high", nil, nil, nil, nil}
		for e := 0; e < d.Events; e++ {
			k, g := (e/d.Groups)%len(kinds), e%d.Groups
			m := g*d.MembersPerGroup + (e*7919/d.Groups)%d.MembersPerGroup
			if _, err := stmt.ExecContext(ctx, g+1, m+1, kinds[k], levels[k], details[k], at(e, d.Events)); err != nil {
				return err
			}
		}
		for p := 0; p < d.Posts; p++ {
			t := at(p, d.Posts)
			if _, err := tx.ExecContext(ctx, `INSERT INTO posts (group_id, kind, key, body, due_at, status, sent_at, created_at, next_try_at)
				VALUES (?, 'tip', ?, '', ?, 'sent', ?, ?, ?)`, p%d.Groups+1, fmt.Sprintf("tip:%d", p), t, t, t, t); err != nil {
				return err
			}
		}
		for q := 0; q < d.Rounds; q++ {
			t := at(q, d.Rounds)
			if _, err := tx.ExecContext(ctx, `INSERT INTO quiz_rounds (group_id, questions, window_secs, opened_at, status, started_at, ended_at)
				VALUES (?, '[]', 60, ?, 'finished', ?, ?)`, q%d.Groups+1, t, t, t); err != nil {
				return err
			}
		}
		epoch := ""
		if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'reach_epoch'`).Scan(&epoch); err != nil {
			return err
		}
		if err := db.rebuildReach(ctx, tx, epoch); err != nil {
			return err
		}
		if offset, kept, err := db.rollupOffset(ctx, tx); err != nil || !kept {
			return err
		} else {
			return db.rebuildGroupRollups(ctx, tx, offset)
		}
	})
}

// ReadEventsDirectly makes reports ignore the roll-ups, to compare.
func (db *DB) ReadEventsDirectly(on bool) { db.noRollups = on }

// RollupReads counts the reports answered from the group roll-ups.
func (db *DB) RollupReads() int64 { return db.rollupReads.Load() }

// EventPlanForTest is SQLite's plan for CountEvents with f, one line per
// step.
func (db *DB) EventPlanForTest(f bot.EventFilter) ([]string, error) {
	where, args := eventWhere(f)
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}
