package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// keptRevisions is how many published knowledge folders are kept: the
// newest is what replicas install; a few more show what came before.
const keptRevisions = 5

// PublishKnowledge records files as the newest knowledge revision, by
// replica by, and returns its number.
func (db *DB) PublishKnowledge(ctx context.Context, files map[string][]byte, by string) (int64, error) {
	text := make(map[string]string, len(files))
	for name, b := range files {
		text[name] = string(b)
	}
	body, err := json.Marshal(text)
	if err != nil {
		return 0, err
	}
	var rev int64
	err = db.withTx(ctx, "PublishKnowledge", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO published_knowledge (rev, files, published_at, published_by)
			SELECT coalesce(max(rev), 0) + 1, ?, ?, ? FROM published_knowledge RETURNING rev`, string(body), db.now(), by).Scan(&rev); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM published_knowledge WHERE rev <= ?`, rev-keptRevisions)
		return err
	})
	return rev, err
}

// PublishedKnowledge returns the newest revision if it is newer than
// after: its number, files and publisher. rev is 0 when there is none.
func (db *DB) PublishedKnowledge(ctx context.Context, after int64) (rev int64, files map[string][]byte, by string, err error) {
	var body string
	err = db.r.QueryRowContext(ctx, `SELECT rev, files, published_by FROM published_knowledge WHERE rev > ? ORDER BY rev DESC LIMIT 1`,
		after).Scan(&rev, &body, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, "", nil
	}
	if err != nil {
		return 0, nil, "", fmt.Errorf("store: published knowledge: %w", err)
	}
	var text map[string]string
	if err := json.Unmarshal([]byte(body), &text); err != nil {
		return 0, nil, "", fmt.Errorf("store: published knowledge %d is damaged: %w", rev, err)
	}
	files = make(map[string][]byte, len(text))
	for name, s := range text {
		files[name] = []byte(s)
	}
	return rev, files, by, nil
}
