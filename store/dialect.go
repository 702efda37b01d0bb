package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
)

// The store speaks one SQL: SQLite's, limited to what PostgreSQL also
// understands (ON CONFLICT, RETURNING, CASE instead of two-argument min and
// max). What differs is handled here: PostgreSQL gets $n for ?, BIGINT
// identities for INTEGER PRIMARY KEY, and its own date arithmetic through
// the few helpers below. Everything else is the same text on both.

// IsPostgresURL reports whether a database setting names a PostgreSQL
// server rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// openPostgres opens a pool on the PostgreSQL server at rawURL whose
// connections rewrite the store's SQL as they run it.
func openPostgres(rawURL string, maxConns int) (*sql.DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	q := u.Query()
	// Each connection prepares a statement the first time it runs it and
	// keeps it: 2,060 messages/s through the router against 1,430 with
	// the simple protocol, which plans every statement anew
	// (BenchmarkRouterInbound). After another replica's migration changes
	// a table, a kept statement fails once and is prepared again.
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "cache_statement")
	}
	u.RawQuery = q.Encode()
	dc, ok := stdlib.GetDefaultDriver().(driver.DriverContext)
	if !ok {
		return nil, errors.New("pgx driver has no connector")
	}
	c, err := dc.OpenConnector(u.String())
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	db := sql.OpenDB(pgConnector{c})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// OpenSQL opens a bare connection pool on a PostgreSQL URL that takes the
// store's SQL (? placeholders), for tests and tools that look at the
// tables directly.
func OpenSQL(rawURL string) (*sql.DB, error) {
	if !IsPostgresURL(rawURL) {
		return nil, fmt.Errorf("store: OpenSQL takes a postgres:// URL")
	}
	return openPostgres(rawURL, 4)
}

// RedactURL returns a database setting fit for logs: no password.
func RedactURL(s string) string {
	if !IsPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

type pgConnector struct{ c driver.Connector }

func (p pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := p.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{c.(*stdlib.Conn)}, nil
}

func (p pgConnector) Driver() driver.Driver { return p.c.Driver() }

// pgConn is a pgx connection that rewrites each statement for PostgreSQL.
type pgConn struct{ c *stdlib.Conn }

func (c *pgConn) Prepare(q string) (driver.Stmt, error) { return c.c.Prepare(pgSQL(q)) }
func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.c.PrepareContext(ctx, pgSQL(q))
}
func (c *pgConn) Close() error { return c.c.Close() }
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.c.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *pgConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.c.BeginTx(ctx, o)
}
func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.c.ExecContext(ctx, pgSQL(q), args)
}
func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.c.QueryContext(ctx, pgSQL(q), args)
}
func (c *pgConn) Ping(ctx context.Context) error { return c.c.Ping(ctx) }

// CheckNamedValue stores a bool as 0 or 1, as SQLite does: the columns
// are integers on both.
func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error {
	if b, ok := v.Value.(bool); ok {
		v.Value = int64(0)
		if b {
			v.Value = int64(1)
		}
		return nil
	}
	return c.c.CheckNamedValue(v)
}

func (c *pgConn) ResetSession(ctx context.Context) error { return c.c.ResetSession(ctx) }

// pgCache keeps rewritten statements: the store runs a few hundred
// different ones, each many times. Statements built with a list of
// arguments come in many lengths, so the cache stops growing at
// pgCacheMax and rewrites the rest each time.
var (
	pgCache     sync.Map
	pgCacheSize atomic.Int64
)

const pgCacheMax = 4096

// pgSQL rewrites one statement (or a migration's several) for PostgreSQL.
func pgSQL(q string) string {
	if v, ok := pgCache.Load(q); ok {
		return v.(string)
	}
	out := pgDDL(pgPlaceholders(q))
	if pgCacheSize.Add(1) <= pgCacheMax {
		pgCache.Store(q, out)
	}
	return out
}

// pgPlaceholders numbers the ? outside quotes and comments.
func pgPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '\'', '"':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+2])
			i += j + 1
		case '-':
			if i+1 < len(q) && q[i+1] == '-' {
				j := strings.IndexByte(q[i:], '\n')
				if j < 0 {
					b.WriteString(q[i:])
					return b.String()
				}
				b.WriteString(q[i : i+j])
				i += j - 1
				continue
			}
			b.WriteByte(c)
		case '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var (
	ddlRowid    = regexp.MustCompile(`\)\s*WITHOUT ROWID`)
	ddlIdentity = regexp.MustCompile(`\b(id|version)\s+INTEGER PRIMARY KEY\b`)
	ddlInteger  = regexp.MustCompile(`\bINTEGER\b`)
	ddlReal     = regexp.MustCompile(`\bREAL\b`)
)

// pgDDL turns SQLite's column types into PostgreSQL's: an id INTEGER
// PRIMARY KEY becomes an identity, INTEGER is 64 bits as in SQLite, REAL
// is a double. Only statements that define tables change.
func pgDDL(q string) string {
	if !strings.Contains(q, "CREATE TABLE") && !strings.Contains(q, "ADD COLUMN") {
		return q
	}
	q = ddlRowid.ReplaceAllString(q, ")")
	q = ddlIdentity.ReplaceAllString(q, "$1 BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	q = ddlInteger.ReplaceAllString(q, "BIGINT")
	return ddlReal.ReplaceAllString(q, "DOUBLE PRECISION")
}

// localDay is the SQL for the local date (2026-11-23) of a stored time
// column, offset from UTC by offset.
func (db *DB) localDay(col string, offset time.Duration) string {
	if db.pg {
		return fmt.Sprintf(`to_char(%s::timestamp + interval '%d seconds', 'YYYY-MM-DD')`, col, int(offset.Seconds()))
	}
	return fmt.Sprintf(`date(%s, '%+d seconds')`, col, int(offset.Seconds()))
}

// localMonday is the SQL for the local Monday of a stored time column's
// week.
func (db *DB) localMonday(col string, offset time.Duration) string {
	if db.pg {
		return fmt.Sprintf(`to_char(date_trunc('week', %s::timestamp + interval '%d seconds'), 'YYYY-MM-DD')`, col, int(offset.Seconds()))
	}
	return fmt.Sprintf(`date(%s, '%+d seconds', 'weekday 0', '-6 days')`, col, int(offset.Seconds()))
}

// secondsBetween is the SQL for the seconds from stored time a to b.
func (db *DB) secondsBetween(a, b string) string {
	if db.pg {
		return fmt.Sprintf(`extract(epoch from (%s::timestamp - %s::timestamp))`, b, a)
	}
	return fmt.Sprintf(`((julianday(%s) - julianday(%s)) * 86400.0)`, b, a)
}

// orderedJoin joins in the order written: SQLite's CROSS JOIN keeps its
// planner from starting at the larger table; PostgreSQL has no CROSS JOIN
// with ON and plans its joins from statistics.
func (db *DB) orderedJoin() string {
	if db.pg {
		return "JOIN"
	}
	return "CROSS JOIN"
}

// skipLocked is what a claiming SELECT ends with: PostgreSQL passes over
// rows another replica is claiming; SQLite has one writer and no row locks.
func (db *DB) skipLocked() string {
	if db.pg {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// isUnique reports whether err is a UNIQUE constraint violation, and on
// which columns ("table.column"; SQLite names them in its message,
// PostgreSQL in its detail).
func isUnique(err error, on string) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if pe.Code != "23505" {
			return false
		}
		if on == "" {
			return true
		}
		table, col, _ := strings.Cut(on, ".")
		return pe.TableName == table && strings.Contains(pe.Detail, col)
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintUnique && se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey {
		return false
	}
	return on == "" || strings.Contains(se.Error(), on)
}
