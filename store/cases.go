package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fanzha/bot"
)

// Cases implements bot.CaseStore.
type Cases struct{ db *DB }

// Cases returns the case store of db.
func (db *DB) Cases() *Cases { return &Cases{db} }

var _ bot.CaseStore = (*Cases)(nil)

// dayFormat is how a case's day is stored: the date as the office wrote it.
const dayFormat = "2006-01-02"

// AddCases stores every case, or none.
func (s *Cases) AddCases(ctx context.Context, cs []*bot.Case) error {
	return s.db.withTx(ctx, "AddCases", func(tx *sql.Tx) error {
		for _, c := range cs {
			if err := tx.QueryRowContext(ctx, `INSERT INTO cases (day, unit_id, scam_type, loss, age_band, role, created_by, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				c.Date.Format(dayFormat), c.UnitID, c.ScamType, c.Loss, c.AgeBand, c.Role, nullID(c.By), formatTime(c.At)).Scan(&c.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Cases) query(ctx context.Context, where string, args ...any) ([]*bot.Case, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, day, unit_id, scam_type, loss, age_band, role, coalesce(created_by, 0), created_at FROM cases `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing cases: %w", err)
	}
	defer rows.Close()
	var out []*bot.Case
	for rows.Next() {
		c := &bot.Case{}
		var day, at string
		if err := rows.Scan(&c.ID, &day, &c.UnitID, &c.ScamType, &c.Loss, &c.AgeBand, &c.Role, &c.By, &at); err != nil {
			return nil, fmt.Errorf("store: listing cases: %w", err)
		}
		c.Date, _ = time.ParseInLocation(dayFormat, day, shanghai)
		c.At = parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// shanghai is the zone case days are read in.
var shanghai = time.FixedZone("CST", 8*3600)

// Cases lists the cases whose day is in [from, to), newest first.
func (s *Cases) Cases(ctx context.Context, from, to time.Time) ([]*bot.Case, error) {
	return s.query(ctx, `WHERE day >= ? AND day < ? ORDER BY day DESC, id DESC`, from.In(shanghai).Format(dayFormat), to.In(shanghai).Format(dayFormat))
}

// Case returns one case.
func (s *Cases) Case(ctx context.Context, id int64) (*bot.Case, error) {
	cs, err := s.query(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, bot.Errorf(bot.ENOTFOUND, "没有这个案件。")
	}
	return cs[0], nil
}

// MustTeach lists the units flagged 必讲 and not cleared.
func (s *Cases) MustTeach(ctx context.Context) (map[int64][]string, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT unit_id, types FROM must_teach WHERE cleared_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("store: reading 必讲 flags: %w", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var types string
		if err := rows.Scan(&id, &types); err != nil {
			return nil, err
		}
		out[id] = strings.Split(types, ",")
	}
	return out, rows.Err()
}

// Flag marks the unit 必讲 for types.
func (s *Cases) Flag(ctx context.Context, unitID int64, types []string, at time.Time) error {
	return s.db.withTx(ctx, "Flag", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO must_teach (unit_id, types, flagged_at) VALUES (?, ?, ?)
			ON CONFLICT (unit_id) DO UPDATE SET types = excluded.types, flagged_at = CASE WHEN must_teach.cleared_at IS NULL THEN must_teach.flagged_at ELSE excluded.flagged_at END,
				cleared_at = NULL, cleared_by = NULL`, unitID, strings.Join(types, ","), formatTime(at))
		return err
	})
}

// Clear takes the unit's flag off.
func (s *Cases) Clear(ctx context.Context, unitID, accountID int64, at time.Time) error {
	return s.db.withTx(ctx, "Clear", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE must_teach SET cleared_at = ?, cleared_by = ? WHERE unit_id = ? AND cleared_at IS NULL`,
			formatTime(at), nullID(accountID), unitID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ECONFLICT, "这个单位没有必讲标记。")
		}
		return nil
	})
}

// ClearedAt is when the unit's flag was last cleared, zero if never.
func (s *Cases) ClearedAt(ctx context.Context, unitID int64) (time.Time, error) {
	var at sql.NullString
	err := s.db.r.QueryRowContext(ctx, `SELECT cleared_at FROM must_teach WHERE unit_id = ?`, unitID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !at.Valid {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return parseTime(at.String), nil
}

var _ bot.ReportGroupStore = (*Cases)(nil)

// SetReportGroup makes the group the unit's report group.
func (s *Cases) SetReportGroup(ctx context.Context, unitID, groupID, by int64, at time.Time) error {
	return s.db.withTx(ctx, "SetReportGroup", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_groups WHERE group_id = ? OR unit_id = ?`, groupID, unitID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO report_groups (unit_id, group_id, set_by, set_at) VALUES (?, ?, ?, ?)`,
			unitID, groupID, nullID(by), formatTime(at))
		return err
	})
}

// UnsetReportGroup stops the group's reports, reporting whether it had any.
func (s *Cases) UnsetReportGroup(ctx context.Context, groupID int64) (bool, error) {
	var n int64
	err := s.db.withTx(ctx, "UnsetReportGroup", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM report_groups WHERE group_id = ?`, groupID)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return n > 0, err
}

// ReportGroups lists every unit's report group.
func (s *Cases) ReportGroups(ctx context.Context) ([]bot.ReportGroup, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT unit_id, group_id, set_at FROM report_groups ORDER BY unit_id`)
	if err != nil {
		return nil, fmt.Errorf("store: listing report groups: %w", err)
	}
	defer rows.Close()
	var out []bot.ReportGroup
	for rows.Next() {
		var g bot.ReportGroup
		var at string
		if err := rows.Scan(&g.UnitID, &g.GroupID, &at); err != nil {
			return nil, err
		}
		g.SetAt = parseTime(at)
		out = append(out, g)
	}
	return out, rows.Err()
}
