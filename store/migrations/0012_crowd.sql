-- What residents report (举报) and say about verdicts (误报, 漏报, 有用, 没用),
-- the reviewed blocklist the check consults, and the log of every review
-- decision. Reporters are members (pseudonymous); a report's text is kept
-- only as long as retention says (text set to NULL), the item until it is
-- unlisted.
CREATE TABLE reports (
	id         INTEGER PRIMARY KEY,
	item_kind  TEXT NOT NULL,
	item_value TEXT NOT NULL,
	group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
	member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	text       TEXT,
	created_at TEXT NOT NULL,
	closed_at  TEXT, -- reviewed: listed or dismissed
	UNIQUE (item_kind, item_value, member_id)
);
CREATE INDEX reports_open ON reports(item_kind, item_value) WHERE closed_at IS NULL;

CREATE TABLE feedback (
	id         INTEGER PRIMARY KEY,
	group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
	member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('false_alarm', 'miss', 'useful', 'useless')),
	on_event   TEXT NOT NULL,
	rule       TEXT NOT NULL DEFAULT '',
	level      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	closed_at  TEXT
);

CREATE TABLE mutes (
	group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	rule     TEXT NOT NULL,
	until    TEXT NOT NULL,
	PRIMARY KEY (group_id, rule)
);

CREATE TABLE blocklist (
	item_kind   TEXT NOT NULL,
	item_value  TEXT NOT NULL,
	scam_type   TEXT NOT NULL DEFAULT '',
	note        TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL CHECK (source IN ('review', 'import')),
	listed_by   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	listed_at   TEXT NOT NULL,
	expires_at  TEXT,
	unlisted_at TEXT,
	PRIMARY KEY (item_kind, item_value)
);

CREATE TABLE review_log (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	action     TEXT NOT NULL,
	item_kind  TEXT NOT NULL DEFAULT '',
	item_value TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT '',
	at         TEXT NOT NULL
);
