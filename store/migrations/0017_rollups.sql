-- Roll-ups that keep reports' cost from growing with history, and indexes
-- for the report's scans of sent tips and quiz rounds.

-- reach_first: when each member was first seen in each group, at or after
-- the reach epoch (the campaign's start; '' = since the beginning). Reach
-- since the campaign began is then a count of rows, not a DISTINCT over
-- every event since. Written with each event (store/events.go).
CREATE TABLE reach_first (
	group_id  INTEGER NOT NULL,
	member_id INTEGER NOT NULL,
	first_at  TEXT NOT NULL,
	PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX reach_first_at ON reach_first(first_at, group_id, member_id);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('reach_epoch', '');

INSERT INTO reach_first (group_id, member_id, first_at)
	SELECT group_id, member_id, min(at) FROM events
	WHERE group_id IS NOT NULL AND member_id IS NOT NULL
	GROUP BY group_id, member_id;

CREATE INDEX posts_sent_tips ON posts(sent_at, group_id) WHERE status = 'sent' AND kind IN ('tip', 'tip_extra');
CREATE INDEX quiz_rounds_started ON quiz_rounds(started_at, group_id);
