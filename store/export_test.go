package store

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateGroupsForTest inserts n bound-less groups in one transaction, for
// tests that need thousands.
func (db *DB) CreateGroupsForTest(ctx context.Context, channel string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			res, err := tx.ExecContext(ctx, `INSERT INTO groups (channel, platform_id, name, created_at) VALUES (?, ?, ?, ?)`,
				channel, fmt.Sprintf("g%05d", i), fmt.Sprintf("群%d", i), db.now())
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}
