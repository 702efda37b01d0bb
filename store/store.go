// Package store keeps fanzha's state in SQLite (mattn/go-sqlite3) and
// implements the service interfaces of package bot.
//
// One writer connection serialises writes; readers use a separate pool. The
// database runs in WAL mode with foreign keys on, and every method that
// writes does so in one transaction, so a crash never leaves half a record.
package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver

	"fanzha/bot"
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeFormat is how times are stored: UTC, sortable as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// DB is an open fanzha database.
type DB struct {
	path   string // the SQLite file, or the PostgreSQL URL without its password
	pg     bool   // on PostgreSQL
	secret []byte
	w      *sql.DB // the one writer
	r      *sql.DB // readers

	// Now is the clock; tests replace it.
	Now func() time.Time
	// Retention is how long Prune keeps what features need only a while.
	Retention Retention
	// meta is the roll-ups' settings as last read (rollupMeta).
	meta atomic.Pointer[rollupMeta]
	// commits counts synced write transactions.
	commits atomic.Int64
	// writes feed the committer (commitLoop) until closed.
	writes          chan *txReq
	closed, stopped chan struct{}
	closeOnce       sync.Once
	// noRollups makes reports read the events directly (tests compare);
	// rollupReads counts the reports answered from the roll-ups.
	noRollups   bool
	rollupReads atomic.Int64
	// rollups gathers the roll-up changes of the transaction being
	// written; only the committer touches it.
	rollups rollupBatch
	// lastBatch is how many writes the last commit carried (committer only).
	lastBatch int
	// groupCache holds groups by channel and platform ID for EnsureGroup,
	// the read every message makes; groupGen counts the writes to groups
	// and org units that make its entries stale.
	groupCache sync.Map
	groupGen   atomic.Uint64
}

// Retention bounds how long data kept only for a feature lives.
type Retention struct {
	Playground time.Duration // the playground's simulated chats
	Samples    time.Duration // checked messages a group agreed to share
	PostTexts  time.Duration // the text of sent posts (quiz results name people); the rows stay for the counts
	Reports    time.Duration // the text of 举报; the reported items stay for the counts
}

// DefaultRetention: a week of playground chat, 90 days of samples and of
// report texts, 30 days of sent post texts.
var DefaultRetention = Retention{Playground: 7 * 24 * time.Hour, Samples: 90 * 24 * time.Hour, PostTexts: 30 * 24 * time.Hour, Reports: 90 * 24 * time.Hour}

// Open opens (creating if needed) the database at path. secret keys the
// pseudonyms of members and must stay the same for the life of the install.
// Call Migrate before use.
func Open(path string, secret []byte) (*DB, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("store: install secret must be at least 16 bytes")
	}
	if IsPostgresURL(path) {
		return openPG(path, secret)
	}
	// Only the bot's user may read it: it holds names and, briefly, texts.
	// SQLite gives the WAL and index files the same mode.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "FULL") // an acknowledged message survives power loss, not only a crash
	q.Set("_txlock", "immediate")
	// Each connection keeps its prepared statements: preparing the same few
	// dozen queries again for every message was a quarter of its cost.
	q.Set("_stmt_cache_size", "256")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	q.Set("_query_only", "1")
	r, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{path: path, secret: secret, w: w, r: r, Now: time.Now,
		writes: make(chan *txReq), closed: make(chan struct{}), stopped: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// openPG opens a PostgreSQL store: one connection for the committer, as
// with SQLite, and a pool for readers.
func openPG(rawURL string, secret []byte) (*DB, error) {
	w, err := openPostgres(rawURL, 1)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", RedactURL(rawURL), err)
	}
	r, err := openPostgres(rawURL, 8)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{path: RedactURL(rawURL), pg: true, secret: secret, w: w, r: r, Now: time.Now,
		writes: make(chan *txReq), closed: make(chan struct{}), stopped: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// SetMaxConns bounds the reading connections to a PostgreSQL server
// (n > 0); SQLite keeps its four.
func (db *DB) SetMaxConns(n int) {
	if db.pg && n > 0 {
		db.r.SetMaxOpenConns(n)
		db.r.SetMaxIdleConns(n)
	}
}

// CheckSecret makes sure every process on the database pseudonymises with
// the same install secret: the first one records a fingerprint of its
// secret (never the secret), and a process with another is refused, since
// its members would all be strangers to the others.
func (db *DB) CheckSecret(ctx context.Context) error {
	m := hmac.New(sha256.New, db.secret)
	m.Write([]byte("fanzha install key fingerprint"))
	mine := hex.EncodeToString(m.Sum(nil))[:16]
	err := db.withTx(ctx, "CheckSecret", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('secret_fingerprint', ?) ON CONFLICT DO NOTHING`, mine)
		return err
	})
	if err != nil {
		return err
	}
	var theirs string
	if err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'secret_fingerprint'`).Scan(&theirs); err != nil {
		return fmt.Errorf("store: reading the install key's fingerprint: %w", err)
	}
	if theirs != mine {
		return fmt.Errorf("store: this database was set up with another install key; give every replica the same key (FANZHA_INSTALL_KEY, or the first one's data/install.key)")
	}
	return nil
}

// Ping checks that the database answers, for the health endpoint.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Where names the database for logs: the SQLite file, or the server's URL
// without its password.
func (db *DB) Where() string { return db.path }

// Postgres reports whether db is on a PostgreSQL server.
func (db *DB) Postgres() bool { return db.pg }

// Stores returns the services of db the router's standard middleware uses.
func (db *DB) Stores() bot.Stores {
	return bot.Stores{Inbox: db.Inbox(), Groups: db.Groups(), Members: db.Members(), Events: db.Events()}
}

// Close waits for the write being committed and closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closed) })
	<-db.stopped
	err := db.r.Close()
	if werr := db.w.Close(); err == nil {
		err = werr
	}
	return err
}

// Migrate applies the embedded migrations not yet applied, each in its own
// transaction, and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	if err := db.inMigrationTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	}); err != nil {
		return 0, fmt.Errorf("store: creating migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	applied := 0
	for _, name := range names {
		// A migration that PostgreSQL cannot run as written has a
		// NNNN_name.postgres.sql beside it, run there instead.
		if pgName := strings.TrimSuffix(name, ".sql") + ".postgres.sql"; strings.HasSuffix(name, ".postgres.sql") {
			continue
		} else if db.pg && slices.Contains(names, pgName) {
			name = pgName
		}
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("store: migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return applied, err
		}
		did, err := db.migrate(ctx, version, base, string(body))
		if err != nil {
			return applied, err
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

// migrationLock is the PostgreSQL advisory lock that migrations hold:
// replicas starting together take turns, and each applies only what the
// others have not.
const migrationLock = 0x66616e7a // "fanz"

// inMigrationTx runs fn in a transaction that, on PostgreSQL, holds the
// migration lock. SQLite's transactions take its one write lock anyway.
func (db *DB) inMigrationTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (db *DB) migrate(ctx context.Context, version int, name, body string) (bool, error) {
	did := false
	err := db.inMigrationTx(ctx, func(tx *sql.Tx) error {
		var err error
		did, err = db.migrateIn(ctx, tx, version, name, body)
		return err
	})
	return did, err
}

func (db *DB) migrateIn(ctx context.Context, tx *sql.Tx, version int, name, body string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, fmt.Errorf("store: migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, db.now()); err != nil {
		return false, err
	}
	return true, nil
}

// Version returns the highest applied migration.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT max(version) FROM migrations`).Scan(&v)
	return int(v.Int64), err
}

func (db *DB) now() string { return db.Now().UTC().Format(timeFormat) }

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads a time the store wrote. A time it cannot read (a
// hand-edited row) is logged and read as the zero time, which every
// report treats as "long ago".
func parseTime(s string) time.Time {
	t, err := time.Parse(timeFormat, s)
	if err != nil && s != "" {
		slog.Warn("store: unreadable time in the database; read as long ago", "value", s, "err", err)
	}
	return t
}

// pseudonym is the stored stand-in for a platform user ID.
func (db *DB) pseudonym(channel, userID string) string {
	m := hmac.New(sha256.New, db.secret)
	m.Write([]byte(channel))
	m.Write([]byte{0})
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// txReq is a write waiting for the committer.
type txReq struct {
	ctx  context.Context
	op   string
	fn   func(*sql.Tx) error
	done chan error
}

// maxBatch bounds the writes committed together.
const maxBatch = 256

// gatherYields is how many times in a row the committer yields to writers
// when none is waiting, under load, before it commits what it has.
const gatherYields = 3

// gatherLoad is the size of the last batch from which the committer
// yields: a burst of events (EventIngest: 256 writers) gains, messages
// through the router (a handful of writes a batch) do not.
const gatherLoad = 32

// withTx runs fn in a write transaction and returns once it is committed.
// Writes that arrive while another commits wait and are then committed
// together (group commit): a burst of messages costs one synced commit per
// batch, not per write, and a write that fails is rolled back alone (see
// runBatch). fn may therefore run twice and must keep nothing but what it
// writes through tx. Writes are never nested.
func (db *DB) withTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	req := &txReq{ctx: ctx, op: op, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.closed:
		return fmt.Errorf("store: %s: database closed", op)
	}
	return <-req.done
}

// commitLoop is the committer: it takes the writes waiting and commits
// them, alone or together.
func (db *DB) commitLoop() {
	defer close(db.stopped)
	for {
		var first *txReq
		select {
		case first = <-db.writes:
		case <-db.closed:
			return
		}
		batch := []*txReq{first}
		idle := 0
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
				idle = 0
			default:
				// Under heavy load (the last batch was large), let the
				// writers just told of their commit come back before
				// syncing again: every one more in this batch is a sync
				// saved. Under light load yielding costs more than it saves.
				if db.lastBatch < gatherLoad || idle >= gatherYields {
					break gather
				}
				idle++
				runtime.Gosched()
			}
		}
		db.lastBatch = len(batch)
		if len(batch) == 1 {
			first.done <- db.runTx(first.ctx, first.op, first.fn)
			continue
		}
		db.runBatch(batch)
	}
}

// runBatch commits several writes in one transaction. Should any of them
// fail, the transaction is rolled back and each write is run again in a
// transaction of its own, so that a failing write takes no other with it.
// Writes fail rarely (a redelivered message, a bug), and a savepoint for
// each write cost a third of a batch.
func (db *DB) runBatch(batch []*txReq) {
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("store: %s: begin: %w", r.op, err)
		}
		return
	}
	ok := true
	db.rollups.reset()
	for _, r := range batch {
		if runFn(r.ctx, r.fn, tx) != nil {
			ok = false
			break
		}
	}
	if ok && !db.rollups.empty() {
		ok = db.rollups.flush(context.Background(), tx) == nil
	}
	if ok {
		if err := tx.Commit(); err == nil {
			db.commits.Add(1)
			db.rollups.committed()
			for _, r := range batch {
				r.done <- nil
			}
			return
		}
	} else {
		tx.Rollback()
	}
	for _, r := range batch {
		r.done <- db.runTx(r.ctx, r.op, r.fn)
	}
}

// runFn runs fn, turning a panic into an error: the committer serves
// every write and must not die with one.
func runFn(ctx context.Context, fn func(*sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write: %v", p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(tx)
}

func wrapTxErr(op string, err error) error {
	var be *bot.Error
	if errors.As(err, &be) || strings.HasPrefix(err.Error(), "store: ") {
		return err // said for the user, or already says where
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// runTx runs fn in a transaction of its own.
func (db *DB) runTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", op, err)
	}
	defer tx.Rollback()
	db.rollups.reset()
	if err := runFn(ctx, fn, tx); err != nil {
		return wrapTxErr(op, err)
	}
	if !db.rollups.empty() {
		if err := db.rollups.flush(ctx, tx); err != nil {
			return fmt.Errorf("store: %s: roll-ups: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", op, err)
	}
	db.commits.Add(1)
	db.rollups.committed()
	return nil
}

// Commits is how many write transactions were committed (each one
// synced to disk), for benchmarks and the health page.
func (db *DB) Commits() int64 { return db.commits.Load() }
