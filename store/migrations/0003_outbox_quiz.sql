-- The outbox gets a per-group key (idempotent planning, and the dedupe key
-- for channels that support one), a retry time, and the "unconfirmed" state.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE posts_new (
	id          INTEGER PRIMARY KEY,
	group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,
	ref         TEXT NOT NULL DEFAULT '',
	key         TEXT NOT NULL,
	body        TEXT NOT NULL,
	due_at      TEXT NOT NULL,
	next_try_at TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','sent','failed','unconfirmed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	sent_at     TEXT,
	created_at  TEXT NOT NULL,
	UNIQUE (group_id, key)
);
INSERT INTO posts_new (id, group_id, kind, ref, key, body, due_at, next_try_at, status, attempts, last_error, sent_at, created_at)
	SELECT id, group_id, kind, ref, 'legacy:' || id, body, due_at, due_at, status, attempts, last_error, sent_at, created_at FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;
CREATE INDEX posts_due ON posts(next_try_at) WHERE status = 'pending';
CREATE INDEX posts_group_kind_due ON posts(group_id, kind, due_at);
CREATE INDEX posts_status ON posts(status) WHERE status IN ('sending', 'failed', 'unconfirmed');

-- A counsellor's own weekly schedule ("2,5 10:00"); '' means the default for the kind.
ALTER TABLE groups ADD COLUMN schedule TEXT NOT NULL DEFAULT '';

CREATE TABLE quiz_rounds (
	id          INTEGER PRIMARY KEY,
	group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	started_by  INTEGER REFERENCES members(id) ON DELETE SET NULL,
	questions   TEXT NOT NULL, -- JSON list of question IDs
	window_secs INTEGER NOT NULL CHECK (window_secs > 0),
	current     INTEGER NOT NULL DEFAULT 0,
	opened_at   TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','finished','aborted')),
	started_at  TEXT NOT NULL,
	ended_at    TEXT
);
CREATE UNIQUE INDEX quiz_rounds_one_active ON quiz_rounds(group_id) WHERE status = 'active';
CREATE INDEX quiz_rounds_group ON quiz_rounds(group_id, started_at);

CREATE TABLE quiz_answers (
	round_id  INTEGER NOT NULL REFERENCES quiz_rounds(id) ON DELETE CASCADE,
	idx       INTEGER NOT NULL,
	member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	choice    INTEGER NOT NULL,
	correct   INTEGER NOT NULL,
	at        TEXT NOT NULL,
	PRIMARY KEY (round_id, idx, member_id)
) WITHOUT ROWID;
