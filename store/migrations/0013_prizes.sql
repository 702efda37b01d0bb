-- Prize draws for 有奖问答: rules, draws committed before their period and
-- drawn after it, and winners with who handed the prize out. Entrants are
-- kept as public tags (a short hash of the pseudonym), never names.
CREATE TABLE prize_rules (
	id             INTEGER PRIMARY KEY,
	unit_id        INTEGER REFERENCES org_units(id) ON DELETE CASCADE,
	group_id       INTEGER REFERENCES groups(id) ON DELETE CASCADE,
	period         TEXT NOT NULL CHECK (period IN ('round', 'week', 'month')),
	min_answers    INTEGER NOT NULL DEFAULT 1 CHECK (min_answers >= 0),
	min_correct    REAL NOT NULL DEFAULT 0 CHECK (min_correct BETWEEN 0 AND 100),
	winners        INTEGER NOT NULL CHECK (winners BETWEEN 1 AND 50),
	prize          TEXT NOT NULL,
	once_per_month INTEGER NOT NULL DEFAULT 1,
	created_by     INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	created_at     TEXT NOT NULL,
	active         INTEGER NOT NULL DEFAULT 1,
	CHECK ((unit_id IS NULL) != (group_id IS NULL))
);

CREATE TABLE prize_draws (
	id           INTEGER PRIMARY KEY,
	rule_id      INTEGER NOT NULL REFERENCES prize_rules(id) ON DELETE CASCADE,
	period       TEXT NOT NULL,
	commitment   TEXT NOT NULL,
	secret       TEXT NOT NULL,
	committed_at TEXT NOT NULL,
	ends_at      TEXT NOT NULL,
	drawn_at     TEXT,
	entrants     TEXT NOT NULL DEFAULT '', -- sorted tags, comma-separated
	UNIQUE (rule_id, period)
);

CREATE TABLE prize_winners (
	draw_id   INTEGER NOT NULL REFERENCES prize_draws(id) ON DELETE CASCADE,
	member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	group_id  INTEGER REFERENCES groups(id) ON DELETE SET NULL, -- where they answered, for their counsellor
	tag       TEXT NOT NULL,
	fast      INTEGER NOT NULL DEFAULT 0,
	won_at    TEXT NOT NULL,
	handed_at TEXT,
	handed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	PRIMARY KEY (draw_id, member_id)
);
