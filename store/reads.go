package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"fanzha/bot"
)

var _ bot.ReadStore = (*Outbox)(nil)

// SetReceipt records the platform's handle of a sent post.
func (s *Outbox) SetReceipt(ctx context.Context, id int64, receipt string) error {
	return s.db.withTx(ctx, "SetReceipt", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE posts SET receipt = ? WHERE id = ?`, receipt, id)
		return err
	})
}

// PostsToRead returns the sent campaign posts with a receipt sent at or
// after since: those whose readers are still worth asking for.
func (s *Outbox) PostsToRead(ctx context.Context, since time.Time) ([]*bot.OutboxPost, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+postColumns+` FROM posts p JOIN groups g ON g.id = p.group_id
		WHERE p.receipt != '' AND p.sent_at >= ? AND p.kind = 'campaign' AND p.status = 'sent' ORDER BY p.id`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("store: posts to read: %w", err)
	}
	return scanPosts(rows)
}

// AddReads records who of channel read post id, pseudonymised; it reports
// how many were new.
func (s *Outbox) AddReads(ctx context.Context, id int64, channel string, readers []string) (int, error) {
	n := 0
	err := s.db.withTx(ctx, "AddReads", func(tx *sql.Tx) error {
		n = 0
		for _, r := range readers {
			res, err := tx.ExecContext(ctx, `INSERT INTO post_reads (post_id, reader) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, s.db.pseudonym(channel, r))
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}
