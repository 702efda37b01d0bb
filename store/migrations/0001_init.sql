-- Org units: district → town → village/community/school → class.
CREATE TABLE org_units (
	id         INTEGER PRIMARY KEY,
	parent_id  INTEGER REFERENCES org_units(id) ON DELETE RESTRICT,
	kind       TEXT NOT NULL CHECK (kind IN ('district','town','village','community','school','class')),
	name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),
	created_at TEXT NOT NULL
);
-- SQLite treats NULLs as distinct in UNIQUE, so top-level names need their own index.
CREATE UNIQUE INDEX org_units_parent_name ON org_units(parent_id, name) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX org_units_top_name ON org_units(name) WHERE parent_id IS NULL;

-- Members are pseudonymous: pseudonym = HMAC-SHA256(install secret, channel || user ID).
CREATE TABLE members (
	id           INTEGER PRIMARY KEY,
	channel      TEXT NOT NULL,
	pseudonym    TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	UNIQUE (channel, pseudonym)
);

CREATE TABLE groups (
	id          INTEGER PRIMARY KEY,
	channel     TEXT NOT NULL,
	platform_id TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL DEFAULT 'other' CHECK (kind IN ('community','class','other')),
	org_unit_id INTEGER REFERENCES org_units(id) ON DELETE SET NULL,
	bound_by    INTEGER REFERENCES members(id) ON DELETE SET NULL,
	bound_at    TEXT,
	size        INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL,
	UNIQUE (channel, platform_id)
);

-- The inbox: every accepted message, keyed by the platform's message ID.
-- payload holds the message only until it is handled, then is cleared.
CREATE TABLE inbox (
	channel     TEXT NOT NULL,
	platform_id TEXT NOT NULL,
	received_at TEXT NOT NULL,
	payload     TEXT,
	attempts    INTEGER NOT NULL DEFAULT 1,
	done_at     TEXT,
	PRIMARY KEY (channel, platform_id)
) WITHOUT ROWID;
CREATE INDEX inbox_pending ON inbox(channel) WHERE done_at IS NULL;

-- Participation: one row per act (scam check, quiz answer, help ...).
CREATE TABLE events (
	id        INTEGER PRIMARY KEY,
	group_id  INTEGER REFERENCES groups(id) ON DELETE CASCADE,
	member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
	kind      TEXT NOT NULL,
	detail    TEXT NOT NULL DEFAULT '',
	at        TEXT NOT NULL
);
CREATE INDEX events_group_at ON events(group_id, at);

-- Posts sent to groups (tips, quiz, warnings): the outbox. A row is written
-- before sending and marked sent after.
CREATE TABLE posts (
	id         INTEGER PRIMARY KEY,
	group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	ref        TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL,
	due_at     TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','sent','failed')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    TEXT,
	created_at TEXT NOT NULL
);
CREATE INDEX posts_group_due ON posts(group_id, due_at);
CREATE INDEX posts_status ON posts(status) WHERE status IN ('pending','sending');

-- The playground channel's simulated chat transcript.
CREATE TABLE playground_messages (
	id          INTEGER PRIMARY KEY,
	group_id    TEXT NOT NULL,
	group_name  TEXT NOT NULL DEFAULT '',
	sender_id   TEXT NOT NULL DEFAULT '',
	sender_name TEXT NOT NULL DEFAULT '',
	from_bot    INTEGER NOT NULL DEFAULT 0,
	msg_id      TEXT NOT NULL DEFAULT '',
	mentions    INTEGER NOT NULL DEFAULT 0,
	kind        TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
CREATE INDEX playground_messages_group ON playground_messages(group_id, id);
CREATE UNIQUE INDEX playground_messages_msg ON playground_messages(group_id, msg_id) WHERE msg_id != '';
