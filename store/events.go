package store

import (
	"context"
	"database/sql"
	"fmt"

	"fanzha/bot"
)

// Events implements bot.EventStore.
type Events struct{ db *DB }

// Events returns the event store of db.
func (db *DB) Events() *Events { return &Events{db} }

var _ bot.EventStore = (*Events)(nil)

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateEvent records one act of participation.
func (s *Events) CreateEvent(ctx context.Context, e *bot.Event) error {
	if e.Kind == "" {
		return fmt.Errorf("store: event without kind")
	}
	at := e.At
	if at.IsZero() {
		at = s.db.Now()
	}
	e2 := *e
	e2.At = at
	return s.db.withTx(ctx, "CreateEvent", func(tx *sql.Tx) error { return s.db.insertEvent(ctx, tx, &e2) })
}

// insertEvent writes e in tx.
func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, e *bot.Event) error {
	if e.Kind == "" {
		return fmt.Errorf("store: event without kind")
	}
	at := e.At
	if at.IsZero() {
		at = db.Now()
	}
	var level any
	if e.Level != "" {
		level = string(e.Level)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO events (group_id, member_id, kind, level, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
		nullID(e.GroupID), nullID(e.MemberID), e.Kind, level, e.Detail, formatTime(at))
	if err != nil || e.GroupID == 0 {
		return err
	}
	// The roll-ups, in the same transaction: reach (first seen in the group
	// at or after the epoch) and the group's day and week.
	m, err := db.rollupMeta(ctx, tx)
	if err != nil {
		return err
	}
	if when := formatTime(at); e.MemberID != 0 && when >= m.epoch {
		db.rollups.seen(e.GroupID, e.MemberID, when)
	}
	return db.addToRollups(ctx, tx, e, at)
}

// CountEvents counts the events matching f.
func (s *Events) CountEvents(ctx context.Context, f bot.EventFilter) (int, error) {
	where, args := eventWhere(f)
	var n int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting events: %w", err)
	}
	return n, nil
}

// FindEvents lists at most limit events matching f, newest first.
func (s *Events) FindEvents(ctx context.Context, f bot.EventFilter, limit int) ([]bot.Event, error) {
	where, args := eventWhere(f)
	rows, err := s.db.r.QueryContext(ctx, `SELECT coalesce(group_id, 0), coalesce(member_id, 0), kind, coalesce(level, ''), coalesce(detail, ''), at
		FROM events WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: finding events: %w", err)
	}
	defer rows.Close()
	var out []bot.Event
	for rows.Next() {
		var e bot.Event
		var at string
		if err := rows.Scan(&e.GroupID, &e.MemberID, &e.Kind, &e.Level, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("store: finding events: %w", err)
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: finding events: %w", err)
	}
	return out, nil
}

// eventWhere is the WHERE clause of f, with its arguments.
func eventWhere(f bot.EventFilter) (string, []any) {
	q := `1=1`
	var args []any
	if f.GroupID != 0 {
		q, args = q+` AND group_id = ?`, append(args, f.GroupID)
	}
	if f.Kind != "" {
		q, args = q+` AND kind = ?`, append(args, f.Kind)
	}
	if f.Detail != "" {
		q, args = q+` AND detail = ?`, append(args, f.Detail)
	}
	if !f.Since.IsZero() {
		q, args = q+` AND at >= ?`, append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		q, args = q+` AND at < ?`, append(args, formatTime(f.Until))
	}
	return q, args
}

// CreateSample keeps a checked message for improving the knowledge base.
// Call it only for groups that opted in.
func (s *Events) CreateSample(ctx context.Context, groupID int64, level, text string) error {
	return s.db.withTx(ctx, "CreateSample", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kb_samples (group_id, level, text, created_at) VALUES (?, ?, ?, ?)`,
			groupID, level, text, s.db.now())
		return err
	})
}
