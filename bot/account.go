package bot

import (
	"context"
	"time"
)

// Account is a login of the admin web.
type Account struct {
	ID           int64
	Username     string
	PasswordHash string
	Role         Role
	OrgUnitID    int64  // admins: the unit they oversee, 0 for everything
	MemberID     int64  // counsellors: their chat identity, once linked
	LinkCode     string // counsellors: the one-time code to link it
	Disabled     bool   // cannot log in
}

// Session is a logged-in browser.
type Session struct {
	Account *Account
	CSRF    string
	Expires time.Time
}

// SessionStore is what the admin web needs of accounts: find one to log
// in, and keep its browsers' sessions.
type SessionStore interface {
	FindAccount(ctx context.Context, username string) (*Account, error)
	CreateSession(ctx context.Context, token, csrf string, accountID int64, expires time.Time) error
	FindSession(ctx context.Context, token string) (*Session, error)
	DeleteSession(ctx context.Context, token string) error
}

// TokenStore finds the account behind an API token. Only tokens' hashes
// are stored.
type TokenStore interface {
	FindToken(ctx context.Context, token string) (*Account, error)
}

// OrgUnitStore lists org units and lets admins fill in what chat binding
// cannot know: population and the town a unit belongs to.
type OrgUnitStore interface {
	OrgUnits(ctx context.Context) ([]OrgUnit, error)
	CreateOrgUnit(ctx context.Context, u *OrgUnit) error
	UpdateOrgUnit(ctx context.Context, id int64, population int, parentID int64) error
}
