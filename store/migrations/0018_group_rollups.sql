-- Per-group roll-ups of the events, so that a week's figures are read from
-- a few rows per group rather than counted from the week's events. Days
-- and weeks are local to the reports' time zone, kept as a fixed offset in
-- meta('rollup_offset'); until it is set (at start-up, by SetRollupZone)
-- the roll-ups are empty and reports count the events.

-- group_days: a day's counters per group.
CREATE TABLE group_days (
	day               TEXT NOT NULL, -- local date, 2026-11-23
	group_id          INTEGER NOT NULL,
	checks            INTEGER NOT NULL DEFAULT 0,
	checks_high       INTEGER NOT NULL DEFAULT 0,
	checks_suspicious INTEGER NOT NULL DEFAULT 0,
	checks_none       INTEGER NOT NULL DEFAULT 0,
	warnings          INTEGER NOT NULL DEFAULT 0,
	quiz_answers      INTEGER NOT NULL DEFAULT 0,
	quiz_correct      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, group_id)
) WITHOUT ROWID;

-- group_week_members: who did anything in a group in a week (quiz: answered
-- a quiz question), and group_weeks: how many, counted as rows first appear.
CREATE TABLE group_week_members (
	week      TEXT NOT NULL, -- the local Monday, 2026-11-23
	group_id  INTEGER NOT NULL,
	member_id INTEGER NOT NULL,
	quiz      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (week, group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE group_weeks (
	week              TEXT NOT NULL,
	group_id          INTEGER NOT NULL,
	members           INTEGER NOT NULL DEFAULT 0,
	quiz_participants INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (week, group_id)
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('rollup_offset', '');
