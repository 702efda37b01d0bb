-- Leases: what only one replica may hold at a time (WeCom's single long
-- connection per bot).
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at TEXT NOT NULL
) WITHOUT ROWID;
