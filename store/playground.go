package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"fanzha/bot"
)

// Transcript implements bot.Transcript: the simulated chat history of
// the playground channel.
type Transcript struct{ db *DB }

// Transcript returns the playground transcript of db.
func (db *DB) Transcript() *Transcript { return &Transcript{db} }

var _ bot.Transcript = (*Transcript)(nil)

// AppendLine stores l and sets its ID and time. A line with a message ID
// already in the group is not stored again; AppendLine then reports false.
func (s *Transcript) AppendLine(ctx context.Context, l *bot.TranscriptLine) (bool, error) {
	l.Time = s.db.Now()
	var added bool
	err := s.db.withTx(ctx, "AppendLine", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO playground_messages
			(group_id, group_name, sender_id, sender_name, from_bot, msg_id, mentions, kind, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
			l.GroupID, l.GroupName, l.SenderID, l.SenderName, l.FromBot, l.MsgID, l.Mentions, l.Kind, l.Text, formatTime(l.Time)).Scan(&l.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already there
		}
		added = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: appending playground line: %w", err)
	}
	return added, nil
}

// Lines returns up to limit lines of a group with ID greater than after.
func (s *Transcript) Lines(ctx context.Context, groupID string, after int64, limit int) ([]bot.TranscriptLine, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, group_id, group_name, sender_id, sender_name, from_bot, msg_id, mentions, kind, text, created_at
		FROM playground_messages WHERE group_id = ? AND id > ? ORDER BY id LIMIT ?`, groupID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: playground lines: %w", err)
	}
	defer rows.Close()
	out := []bot.TranscriptLine{}
	for rows.Next() {
		var l bot.TranscriptLine
		var at string
		if err := rows.Scan(&l.ID, &l.GroupID, &l.GroupName, &l.SenderID, &l.SenderName, &l.FromBot, &l.MsgID, &l.Mentions,
			&l.Kind, &l.Text, &at); err != nil {
			return nil, err
		}
		l.Time = parseTime(at)
		out = append(out, l)
	}
	return out, rows.Err()
}
