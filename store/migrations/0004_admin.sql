-- Admin web accounts. Admins see everything under their org unit (all if NULL);
-- counsellors see the groups they bound, once their account is linked to their
-- chat identity with a one-time code sent in a group (关联账号 <code>).
CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 2 AND 32),
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'counsellor')),
	org_unit_id   INTEGER REFERENCES org_units(id) ON DELETE SET NULL,
	member_id     INTEGER REFERENCES members(id) ON DELETE SET NULL,
	link_code     TEXT,
	created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_link_code ON accounts(link_code) WHERE link_code IS NOT NULL;

-- Sessions are stored by the SHA-256 of their cookie token, so a copy of the
-- database does not hand out logins.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	expires_at TEXT NOT NULL
) WITHOUT ROWID;

-- Reports scan events by time across all groups.
CREATE INDEX events_at ON events(at);
