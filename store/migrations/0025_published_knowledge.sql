-- The knowledge folder as last edited on the admin pages, for replicas on
-- one database: each installs a newer revision than the one it runs. A
-- single process keeps its knowledge in data/knowledge alone and never
-- writes here.
CREATE TABLE published_knowledge (
	rev          INTEGER PRIMARY KEY,
	files        TEXT NOT NULL, -- JSON: file name → content
	published_at TEXT NOT NULL,
	published_by TEXT NOT NULL DEFAULT ''
);
