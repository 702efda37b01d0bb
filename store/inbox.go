package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"fanzha/bot"
)

// maxAttempts bounds how often a message that keeps failing is replayed
// after restarts, so one poisonous message cannot wedge start-up forever.
const maxAttempts = 3

// Inbox implements bot.Inbox on the inbox table.
type Inbox struct{ db *DB }

// Inbox returns the inbox of db.
func (db *DB) Inbox() *Inbox { return &Inbox{db} }

var _ bot.Inbox = (*Inbox)(nil)

// Accept records msg. A message with the same channel and platform ID seen
// before, even by an earlier process, is refused with EDUPLICATE.
func (s *Inbox) Accept(ctx context.Context, msg *bot.Message) error {
	payload, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, "Accept", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO inbox (channel, platform_id, received_at, payload) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, msg.Channel, msg.PlatformMsgID, s.db.now(), string(payload))
		if err != nil {
			return fmt.Errorf("store: accepting message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.EDUPLICATE, "这条消息已经处理过了。")
		}
		return nil
	})
}

// Done marks msg handled and drops its text: the inbox keeps only the ID for
// dedupe.
func (s *Inbox) Done(ctx context.Context, msg *bot.Message, events []bot.Event) error {
	return s.db.withTx(ctx, "Done", func(tx *sql.Tx) error {
		for i := range events {
			if err := s.db.insertEvent(ctx, tx, &events[i]); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE inbox SET done_at = ?, payload = NULL WHERE channel = ? AND platform_id = ?`,
			s.db.now(), msg.Channel, msg.PlatformMsgID)
		return err
	})
}

// Pending returns the messages of channel accepted but not done, oldest
// first, counting this as one more attempt. Messages that already failed
// maxAttempts times are given up: marked done, text dropped.
func (s *Inbox) Pending(ctx context.Context, channel string) ([]*bot.Message, error) {
	var out []*bot.Message
	err := s.db.withTx(ctx, "Pending", func(tx *sql.Tx) error {
		out = out[:0] // a write may run twice (withTx)
		if _, err := tx.ExecContext(ctx, `UPDATE inbox SET done_at = ?, payload = NULL
			WHERE channel = ? AND done_at IS NULL AND attempts >= ?`, s.db.now(), channel, maxAttempts); err != nil {
			return err
		}
		// With replicas, a message is another's while it is young (being
		// handled where it arrived) or claimed by another's replay.
		q, args := ``, []any{channel}
		if s.db.pg {
			now := s.db.Now()
			q = ` AND received_at < ? AND claimed_until < ?`
			args = append(args, formatTime(now.Add(-bot.ClaimLease)), formatTime(now))
		}
		rows, err := tx.QueryContext(ctx, `UPDATE inbox SET attempts = attempts + 1, claimed_until = ?
			WHERE channel = ? AND done_at IS NULL`+q+` RETURNING payload, received_at`,
			append([]any{formatTime(s.db.Now().Add(bot.ClaimLease))}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var payload sql.NullString
			var received string
			if err := rows.Scan(&payload, &received); err != nil {
				return err
			}
			var m bot.Message
			if err := json.Unmarshal([]byte(payload.String), &m); err != nil {
				// Nothing to replay; said, and it stays counted until it
				// runs out of attempts.
				slog.Warn("store: an unfinished message cannot be read back; it is not replayed", "channel", channel, "received_at", received, "err", err)
				continue
			}
			out = append(out, &m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending messages: %w", err)
	}
	return out, nil
}

// dedupeWindow is how long handled message IDs are kept to recognise a
// redelivery. Platforms redeliver within minutes to hours; a month is
// ample, and the table does not grow without end.
const dedupeWindow = 30 * 24 * time.Hour

// Prune forgets message IDs handled more than dedupeWindow ago, expired
// login sessions, and what features keep only a while (Retention): old
// playground chats, shared samples, the text of old sent posts. It reports
// how many rows it removed or emptied.
func (db *DB) Prune(ctx context.Context) (int64, error) {
	var n int64
	err := db.withTx(ctx, "Prune", func(tx *sql.Tx) error {
		now := db.Now()
		// Handled long ago, or never finished and long past any replay (a
		// channel switched off since).
		res, err := tx.ExecContext(ctx, `DELETE FROM inbox WHERE done_at < ? OR (done_at IS NULL AND received_at < ?)`,
			formatTime(now.Add(-dedupeWindow)), formatTime(now.Add(-dedupeWindow)))
		if err != nil {
			return err
		}
		a, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, formatTime(now))
		if err != nil {
			return err
		}
		b, _ := res.RowsAffected()
		n = a + b
		r := db.Retention
		if r == (Retention{}) {
			r = DefaultRetention
		}
		for _, q := range []struct {
			sql  string
			keep time.Duration
		}{
			{`DELETE FROM playground_messages WHERE created_at < ?`, r.Playground},
			{`DELETE FROM kb_samples WHERE created_at < ?`, r.Samples},
			{`UPDATE posts SET body = '' WHERE status = 'sent' AND body != '' AND sent_at < ?`, r.PostTexts},
			{`UPDATE reports SET text = NULL WHERE text IS NOT NULL AND created_at < ?`, r.Reports},
		} {
			if q.keep <= 0 {
				continue // not configured: keep
			}
			res, err := tx.ExecContext(ctx, q.sql, formatTime(now.Add(-q.keep)))
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			n += c
		}
		return nil
	})
	return n, err
}
