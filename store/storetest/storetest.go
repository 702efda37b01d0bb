// Package storetest opens real, migrated fanzha databases for tests: SQLite
// files in the test's temporary directory, never :memory: (each pooled
// connection would get its own empty database).
//
// With FANZHA_TEST_DATABASE_URL set to a PostgreSQL server (.ci/postgres
// starts one), every database is instead a schema of its own on that
// server, dropped when the test ends, so that the same tests run on both.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create schemas

	"fanzha/store"
)

// Secret is the install secret of test databases.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// ServerEnv names the PostgreSQL server the tests use instead of SQLite.
const ServerEnv = "FANZHA_TEST_DATABASE_URL"

// Postgres returns the server's URL, or "" when the tests run on SQLite.
func Postgres() string {
	u := os.Getenv(ServerEnv)
	if !store.IsPostgresURL(u) {
		return ""
	}
	return u
}

// schemas maps the paths tests open to the schema standing in for each, so
// that opening a path again (a restart) finds the same data.
var schemas sync.Map

// URL returns the database a test should open for path: path itself on
// SQLite, or the URL of a new schema for it on PostgreSQL.
func URL(t testing.TB, path string) string {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "fanzha.db")
	}
	server := Postgres()
	if server == "" {
		return path
	}
	if u, ok := schemas.Load(path); ok {
		return u.(string)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema on %s: %v", store.RedactURL(server), err)
	}
	t.Cleanup(func() {
		schemas.Delete(path)
		if a, err := sql.Open("pgx", server); err == nil {
			a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			a.Close()
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	schemas.Store(path, u.String())
	return u.String()
}

// Open returns a migrated database at path, or in a new temporary file if
// path is "", closed when the test ends.
func Open(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(URL(t, path), Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
