package store

import (
	"context"
	"database/sql"
	"time"

	"fanzha/bot"
)

// Leases returns the lease store of db.
func (db *DB) Leases() *Leases { return &Leases{db} }

// Leases keeps bot.LeaseStore's leases.
type Leases struct{ db *DB }

var _ bot.LeaseStore = (*Leases)(nil)

// Lease takes name for holder if it is free, expired or already holder's.
func (s *Leases) Lease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	var got bool
	err := s.db.withTx(ctx, "Lease", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
			name, holder, formatTime(now.Add(ttl)), formatTime(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		got = n == 1
		return nil
	})
	return got, err
}

// Release frees name if holder holds it.
func (s *Leases) Release(ctx context.Context, name, holder string) error {
	return s.db.withTx(ctx, "Release", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
		return err
	})
}

// Live counts the unexpired leases whose name starts with prefix.
func (s *Leases) Live(ctx context.Context, prefix string, now time.Time) (int, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM leases WHERE substr(name, 1, ?) = ? AND expires_at > ?`,
		len(prefix), prefix, formatTime(now)).Scan(&n)
	return n, err
}
