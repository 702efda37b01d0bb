-- Fraud cases (发案) entered by admins: no names, phones or ID numbers,
-- only date, unit, type, loss, age band and role. Units whose cases pass
-- the thresholds are flagged 必讲 until an admin clears the flag.
CREATE TABLE cases (
	id         INTEGER PRIMARY KEY,
	day        TEXT NOT NULL, -- 2026-11-20, in the campaign's zone
	unit_id    INTEGER NOT NULL REFERENCES org_units(id) ON DELETE CASCADE,
	scam_type  TEXT NOT NULL,
	loss       INTEGER NOT NULL CHECK (loss >= 0),
	age_band   TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX cases_day ON cases(day);

CREATE TABLE must_teach (
	unit_id    INTEGER PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
	types      TEXT NOT NULL, -- comma-separated scam type ids
	flagged_at TEXT NOT NULL,
	cleared_at TEXT,
	cleared_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL
);
