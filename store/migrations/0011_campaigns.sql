-- Campaigns: bulletins, notices, pledges and surveys sent to every group in
-- scope through the outbox (posts.key = 'campaign:<id>'), and the answers
-- people give in chat: one per person per campaign.
CREATE TABLE campaigns (
	id           INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL CHECK (kind IN ('bulletin', 'notice', 'pledge', 'survey')),
	title        TEXT NOT NULL,
	body         TEXT NOT NULL,
	image_url    TEXT NOT NULL DEFAULT '',
	options      TEXT NOT NULL DEFAULT '', -- survey options, one per line
	target       REAL NOT NULL DEFAULT 0,
	repeat_of    INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
	urgent       INTEGER NOT NULL DEFAULT 0,
	created_by   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	created_at   TEXT NOT NULL,
	send_at      TEXT NOT NULL,
	closes_at    TEXT NOT NULL,
	cancelled_at TEXT
);

-- The scope: units (their groups and those below), and groups picked by
-- hand or relayed to by a counsellor.
CREATE TABLE campaign_units (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	unit_id     INTEGER NOT NULL REFERENCES org_units(id) ON DELETE CASCADE,
	PRIMARY KEY (campaign_id, unit_id)
);
CREATE TABLE campaign_groups (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	PRIMARY KEY (campaign_id, group_id)
);

CREATE TABLE campaign_answers (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	option      INTEGER NOT NULL DEFAULT 0,
	at          TEXT NOT NULL,
	PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX campaign_answers_group ON campaign_answers(campaign_id, group_id);

-- API tokens for scripts (the anti-fraud centre's systems): the hash only.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name         TEXT NOT NULL DEFAULT '',
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);

-- A campaign's posts are found by their key across groups.
CREATE INDEX posts_key ON posts(key) WHERE kind = 'campaign';
