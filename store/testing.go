package store

// QueryRowForTest runs a one-row query on the read pool, for tests in
// other packages that check what is (and is not) stored.
func (db *DB) QueryRowForTest(query string, dest ...any) error {
	return db.r.QueryRow(query).Scan(dest...)
}
