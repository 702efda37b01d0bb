package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"fanzha/bot"
)

// Account and Session are the bot's (bot.SessionStore).
type (
	Account = bot.Account
	Session = bot.Session
)

var _ bot.SessionStore = (*Accounts)(nil)

// Accounts keeps admin web accounts and sessions.
type Accounts struct{ db *DB }

// Accounts returns the account store of db.
func (db *DB) Accounts() *Accounts { return &Accounts{db} }

// CreateAccount adds an account; the username must be new.
func (s *Accounts) CreateAccount(ctx context.Context, a *Account) error {
	err := s.db.withTx(ctx, "CreateAccount", func(tx *sql.Tx) error {
		var link any
		if a.LinkCode != "" {
			link = a.LinkCode
		}
		return tx.QueryRowContext(ctx, `INSERT INTO accounts (username, password_hash, role, org_unit_id, member_id, link_code, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Username, a.PasswordHash, a.Role, nullID(a.OrgUnitID), nullID(a.MemberID), link, s.db.now()).Scan(&a.ID)
	})
	if isUnique(err, "accounts.username") {
		return bot.Errorf(bot.ECONFLICT, "用户名 %s 已存在。", a.Username)
	}
	return err
}

const accountColumns = `id, username, password_hash, role, org_unit_id, member_id, link_code, disabled_at`

func scanAccount(row scanner) (*Account, error) {
	var a Account
	var org, member sql.NullInt64
	var link, disabled sql.NullString
	if err := row.Scan(&a.ID, &a.Username, &a.PasswordHash, &a.Role, &org, &member, &link, &disabled); err != nil {
		return nil, err
	}
	a.OrgUnitID, a.MemberID, a.LinkCode, a.Disabled = org.Int64, member.Int64, link.String, disabled.Valid
	return &a, nil
}

// ListAccounts returns every account by username.
func (s *Accounts) ListAccounts(ctx context.Context) ([]*Account, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("store: listing accounts: %w", err)
	}
	defer rows.Close()
	var out []*Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetPassword replaces username's password hash and logs out its browsers.
func (s *Accounts) SetPassword(ctx context.Context, username, hash string) error {
	return s.update(ctx, username, `password_hash = ?`, hash)
}

// SetDisabled disables or enables username; disabling logs out its
// browsers.
func (s *Accounts) SetDisabled(ctx context.Context, username string, disabled bool) error {
	if disabled {
		return s.update(ctx, username, `disabled_at = ?`, s.db.now())
	}
	return s.update(ctx, username, `disabled_at = ?`, nil)
}

// update sets one column of username's account and ends its sessions.
func (s *Accounts) update(ctx context.Context, username, set string, v any) error {
	return s.db.withTx(ctx, "update", func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE accounts SET `+set+` WHERE username = ? RETURNING id`, v, username).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return bot.Errorf(bot.ENOTFOUND, "没有 %s 这个账号。", username)
		}
		if err != nil {
			return fmt.Errorf("store: updating account %s: %w", username, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, id); err != nil {
			return fmt.Errorf("store: ending sessions of %s: %w", username, err)
		}
		return nil
	})
}

// FindAccount returns the account with username, or ENOTFOUND.
func (s *Accounts) FindAccount(ctx context.Context, username string) (*Account, error) {
	a, err := scanAccount(s.db.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "没有这个账号。")
	}
	return a, err
}

// LinkAccount ties the counsellor account holding code to a chat member and
// spends the code. It returns the username.
func (s *Accounts) LinkAccount(ctx context.Context, code string, memberID int64) (string, error) {
	var name string
	err := s.db.withTx(ctx, "LinkAccount", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE accounts SET member_id = ?, link_code = NULL WHERE link_code = ? AND role = 'counsellor'
			RETURNING username`, memberID, code).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return bot.Errorf(bot.ENOTFOUND, "关联码不对或已经用过了，请向管理员重新获取。")
		}
		return err
	})
	return name, err
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateSession records a login; only the token's hash is stored.
func (s *Accounts) CreateSession(ctx context.Context, token, csrf string, accountID int64, expires time.Time) error {
	return s.db.withTx(ctx, "CreateSession", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, s.db.now()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, csrf, expires_at) VALUES (?, ?, ?, ?)`,
			tokenHash(token), accountID, csrf, formatTime(expires))
		return err
	})
}

// FindSession returns the live session of token, or ENOTFOUND.
func (s *Accounts) FindSession(ctx context.Context, token string) (*Session, error) {
	row := s.db.r.QueryRowContext(ctx, `SELECT s.csrf, s.expires_at, `+prefixed("a.", accountColumns)+`
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash(token), s.db.now())
	var ses Session
	var exp string
	var a Account
	var org, member sql.NullInt64
	var link, disabled sql.NullString
	err := row.Scan(&ses.CSRF, &exp, &a.ID, &a.Username, &a.PasswordHash, &a.Role, &org, &member, &link, &disabled)
	if errors.Is(err, sql.ErrNoRows) || err == nil && disabled.Valid {
		return nil, bot.Errorf(bot.ENOTFOUND, "请重新登录。")
	}
	if err != nil {
		return nil, err
	}
	a.OrgUnitID, a.MemberID, a.LinkCode = org.Int64, member.Int64, link.String
	ses.Account, ses.Expires = &a, parseTime(exp)
	return &ses, nil
}

// CreateToken records an API token for the account username; only its
// hash is stored, so it is shown once, by the caller.
func (s *Accounts) CreateToken(ctx context.Context, username, name, token string) error {
	return s.db.withTx(ctx, "CreateToken", func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE username = ?`, username).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return bot.Errorf(bot.ENOTFOUND, "没有账号 %s。", username)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_tokens (account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`,
			id, name, tokenHash(token), s.db.now())
		return err
	})
}

// RevokeTokens revokes every API token of username, and reports how many.
func (s *Accounts) RevokeTokens(ctx context.Context, username string) (int, error) {
	n := 0
	err := s.db.withTx(ctx, "RevokeTokens", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL
			AND account_id = (SELECT id FROM accounts WHERE username = ?)`, s.db.now(), username)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}

// FindToken returns the enabled account of a live API token, or
// ENOTFOUND.
func (s *Accounts) FindToken(ctx context.Context, token string) (*Account, error) {
	row := s.db.r.QueryRowContext(ctx, `SELECT `+prefixed("a.", accountColumns)+`
		FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ? AND t.revoked_at IS NULL`, tokenHash(token))
	var a Account
	var org, member sql.NullInt64
	var link, disabled sql.NullString
	err := row.Scan(&a.ID, &a.Username, &a.PasswordHash, &a.Role, &org, &member, &link, &disabled)
	if errors.Is(err, sql.ErrNoRows) || err == nil && disabled.Valid {
		return nil, bot.Errorf(bot.ENOTFOUND, "API 令牌无效或已撤销。")
	}
	if err != nil {
		return nil, err
	}
	a.OrgUnitID, a.MemberID, a.LinkCode = org.Int64, member.Int64, link.String
	return &a, nil
}

// DeleteSession logs a browser out.
func (s *Accounts) DeleteSession(ctx context.Context, token string) error {
	return s.db.withTx(ctx, "DeleteSession", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash(token))
		return err
	})
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// FindOrgUnitByName returns the top-most unit called name, for
// `fanzha admin create --org`.
func (db *DB) FindOrgUnitByName(ctx context.Context, name string) (*bot.OrgUnit, error) {
	var u bot.OrgUnit
	var parent sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT id, parent_id, kind, name, population FROM org_units WHERE name = ? ORDER BY parent_id IS NOT NULL, id LIMIT 1`, name).
		Scan(&u.ID, &parent, &u.Kind, &u.Name, &u.Population)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no org unit named %q", name)
	}
	u.ParentID = parent.Int64
	return &u, err
}

// IsLinkedCounsellor reports whether the chat member is linked to an
// enabled 老师/网格员 account.
func (s *Accounts) IsLinkedCounsellor(ctx context.Context, memberID int64) (bool, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE member_id = ? AND role = 'counsellor' AND disabled_at IS NULL`,
		memberID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: IsLinkedCounsellor: %w", err)
	}
	return n > 0, nil
}
