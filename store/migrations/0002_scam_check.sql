-- Per-group choices for the scam check.
-- warn_scams: NULL means the default for the group's kind (on for community groups).
ALTER TABLE groups ADD COLUMN warn_scams INTEGER;
-- share_samples: the group agreed to keep checked messages to improve the knowledge base.
ALTER TABLE groups ADD COLUMN share_samples INTEGER NOT NULL DEFAULT 0;

-- Messages kept, only from groups that opted in, for improving the knowledge base.
CREATE TABLE kb_samples (
	id         INTEGER PRIMARY KEY,
	group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	level      TEXT NOT NULL,
	text       TEXT NOT NULL,
	created_at TEXT NOT NULL
);

CREATE INDEX events_group_kind_at ON events(group_id, kind, at);
