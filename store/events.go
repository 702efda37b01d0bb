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
	return s.db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO events (group_id, member_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)`,
			nullID(e.GroupID), nullID(e.MemberID), e.Kind, e.Detail, formatTime(at))
		return err
	})
}

// CountEvents counts the events of a group with the given kind ("" for all).
func (s *Events) CountEvents(ctx context.Context, groupID int64, kind string) (int, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE group_id = ? AND (? = '' OR kind = ?)`,
		groupID, kind, kind).Scan(&n)
	return n, err
}
