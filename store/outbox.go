package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fanzha/bot"
)

// Outbox implements bot.Outbox on the posts table.
type Outbox struct{ db *DB }

// Outbox returns the outbox of db.
func (db *DB) Outbox() *Outbox { return &Outbox{db} }

var _ bot.Outbox = (*Outbox)(nil)

// EnqueuePosts records the posts whose (group, key) is new.
func (s *Outbox) EnqueuePosts(ctx context.Context, posts []*bot.OutboxPost) (int, error) {
	n := 0
	err := s.db.withTx(ctx, "EnqueuePosts", func(tx *sql.Tx) error {
		var err error
		n, err = enqueue(ctx, tx, posts, s.db.now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: enqueueing posts: %w", err)
	}
	return n, nil
}

// enqueue inserts posts in tx; other stores use it to enqueue posts in the
// same transaction as their own change.
func enqueue(ctx context.Context, tx *sql.Tx, posts []*bot.OutboxPost, now string) (int, error) {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO posts (group_id, kind, ref, key, body, due_at, next_try_at, created_at, choices)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, key) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	n := 0
	for _, p := range posts {
		if p.Key == "" || p.GroupID == 0 || strings.TrimSpace(p.Text) == "" {
			return n, fmt.Errorf("post without group, key or text")
		}
		due := formatTime(p.DueAt)
		choices := ""
		if len(p.Choices) > 0 {
			b, _ := json.Marshal(p.Choices)
			choices = string(b)
		}
		res, err := stmt.ExecContext(ctx, p.GroupID, p.Kind, p.Ref, p.Key, p.Text, due, due, now, choices)
		if err != nil {
			return n, err
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

const postColumns = `p.id, p.group_id, g.channel, g.platform_id, p.kind, p.ref, p.key, p.body, p.due_at, p.status, p.attempts, p.last_error, p.sent_at,
	p.receipt, p.choices`

func scanPosts(rows *sql.Rows) ([]*bot.OutboxPost, error) {
	defer rows.Close()
	var out []*bot.OutboxPost
	for rows.Next() {
		var p bot.OutboxPost
		var due string
		var sent sql.NullString
		var choices string
		if err := rows.Scan(&p.ID, &p.GroupID, &p.Channel, &p.PlatformID, &p.Kind, &p.Ref, &p.Key, &p.Text, &due,
			&p.Status, &p.Attempts, &p.LastError, &sent, &p.Receipt, &choices); err != nil {
			return nil, err
		}
		if choices != "" {
			json.Unmarshal([]byte(choices), &p.Choices) // written by enqueue
		}
		p.DueAt = parseTime(due)
		if sent.Valid {
			t := parseTime(sent.String)
			p.SentAt = &t
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

// duePerGroup caps one group's share of a batch of due posts: a group with
// a backlog can send only a few a minute anyway, and must not crowd every
// other group out of the batch.
const duePerGroup = 5

// DuePosts returns pending posts due at now, oldest first, at most
// duePerGroup of any one group.
func (s *Outbox) DuePosts(ctx context.Context, now time.Time, limit int) ([]*bot.OutboxPost, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+postColumns+` FROM (
			SELECT *, row_number() OVER (PARTITION BY group_id ORDER BY next_try_at, id) AS nth
			FROM posts WHERE status = 'pending' AND next_try_at <= ?
		) p JOIN groups g ON g.id = p.group_id
		WHERE p.nth <= ? ORDER BY p.next_try_at, p.id LIMIT ?`, formatTime(now), duePerGroup, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due posts: %w", err)
	}
	return scanPosts(rows)
}

// FindPosts returns posts matching f, by due time.
func (s *Outbox) FindPosts(ctx context.Context, f bot.PostFilter) ([]*bot.OutboxPost, error) {
	q := `SELECT ` + postColumns + ` FROM posts p JOIN groups g ON g.id = p.group_id WHERE 1=1`
	var args []any
	if f.GroupID != 0 {
		q, args = q+` AND p.group_id = ?`, append(args, f.GroupID)
	}
	if f.Kind != "" {
		q, args = q+` AND p.kind = ?`, append(args, f.Kind)
	}
	if f.Status != "" {
		q, args = q+` AND p.status = ?`, append(args, f.Status)
	}
	if f.Key != "" {
		q, args = q+` AND p.key = ?`, append(args, f.Key)
	}
	if !f.DueSince.IsZero() {
		q, args = q+` AND p.due_at >= ?`, append(args, formatTime(f.DueSince))
	}
	if !f.ClaimedBefore.IsZero() {
		q, args = q+` AND p.claimed_until < ?`, append(args, formatTime(f.ClaimedBefore))
	}
	if !f.DueUntil.IsZero() {
		q, args = q+` AND p.due_at < ?`, append(args, formatTime(f.DueUntil))
	}
	rows, err := s.db.r.QueryContext(ctx, q+` ORDER BY p.due_at, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: finding posts: %w", err)
	}
	return scanPosts(rows)
}

// MarkPosts moves posts to status.
func (s *Outbox) MarkPosts(ctx context.Context, ids []int64, status bot.PostStatus, at time.Time, errText string) error {
	return s.db.withTx(ctx, "MarkPosts", func(tx *sql.Tx) error {
		for _, id := range ids {
			var err error
			switch status {
			case bot.PostSending:
				_, err = tx.ExecContext(ctx, `UPDATE posts SET status = 'sending', attempts = attempts + 1 WHERE id = ?`, id)
			case bot.PostSent:
				_, err = tx.ExecContext(ctx, `UPDATE posts SET status = 'sent', sent_at = ?, last_error = '' WHERE id = ?`, formatTime(at), id)
			default:
				_, err = tx.ExecContext(ctx, `UPDATE posts SET status = ?, last_error = ? WHERE id = ?`, status, errText, id)
			}
			if err != nil {
				return fmt.Errorf("store: marking post %d %s: %w", id, status, err)
			}
		}
		return nil
	})
}

// ClaimPost takes a pending post for sending until until. On PostgreSQL a
// row another replica is claiming at this moment is passed over, not
// waited for.
func (s *Outbox) ClaimPost(ctx context.Context, id int64, until time.Time) (bool, error) {
	claimed := false
	err := s.db.withTx(ctx, "ClaimPost", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE posts SET status = 'sending', attempts = attempts + 1, claimed_until = ?
			WHERE id = (SELECT id FROM posts WHERE id = ? AND status = 'pending'`+s.db.skipLocked()+`)`, formatTime(until), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

// RetryPost puts a post back to pending, to be tried at next.
func (s *Outbox) RetryPost(ctx context.Context, id int64, errText string, next time.Time) error {
	return s.db.withTx(ctx, "RetryPost", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE posts SET status = 'pending', last_error = ?, next_try_at = ? WHERE id = ?`,
			errText, formatTime(next), id)
		return err
	})
}
