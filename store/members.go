package store

import (
	"context"
	"database/sql"
	"fmt"

	"fanzha/bot"
)

// Members implements bot.MemberStore. Platform user IDs are replaced by
// their HMAC under the install secret before they reach the database.
type Members struct{ db *DB }

// Members returns the member store of db.
func (db *DB) Members() *Members { return &Members{db} }

var _ bot.MemberStore = (*Members)(nil)

// EnsureMember returns the member for a platform user ID, creating it at
// first sight and keeping the display name current.
func (s *Members) EnsureMember(ctx context.Context, channel, userID, displayName string) (*bot.Member, error) {
	m := &bot.Member{Channel: channel, Pseudonym: s.db.pseudonym(channel, userID), DisplayName: displayName}
	// Nearly every message comes from someone known under that name: a
	// read answers it, with no write to commit.
	var known string
	if err := s.db.r.QueryRowContext(ctx, `SELECT id, display_name FROM members WHERE channel = ? AND pseudonym = ?`,
		m.Channel, m.Pseudonym).Scan(&m.ID, &known); err == nil && (displayName == "" || displayName == known) {
		m.DisplayName = known
		return m, nil
	}
	err := s.db.withTx(ctx, "EnsureMember", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO members (channel, pseudonym, display_name, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (channel, pseudonym) DO UPDATE SET display_name = CASE WHEN excluded.display_name != '' THEN excluded.display_name ELSE members.display_name END
			RETURNING id, display_name`,
			m.Channel, m.Pseudonym, displayName, s.db.now()).Scan(&m.ID, &m.DisplayName)
	})
	if err != nil {
		return nil, fmt.Errorf("store: ensuring member: %w", err)
	}
	return m, nil
}
