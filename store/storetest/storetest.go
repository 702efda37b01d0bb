// Package storetest opens real, migrated fanzha databases for tests: SQLite
// files in the test's temporary directory, never :memory: (each pooled
// connection would get its own empty database).
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"fanzha/store"
)

// Secret is the install secret of test databases.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// Open returns a migrated database at path, or in a new temporary file if
// path is "", closed when the test ends.
func Open(t testing.TB, path string) *store.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "fanzha.db")
	}
	db, err := store.Open(path, Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
