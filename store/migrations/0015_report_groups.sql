-- The group each unit's reports are posted to (设为管理群): one per unit.
CREATE TABLE report_groups (
	unit_id  INTEGER PRIMARY KEY REFERENCES org_units(id) ON DELETE CASCADE,
	group_id INTEGER NOT NULL UNIQUE REFERENCES groups(id) ON DELETE CASCADE,
	set_by   INTEGER REFERENCES members(id) ON DELETE SET NULL,
	set_at   TEXT NOT NULL
);
