-- Accounts can be disabled (a counsellor who moved on) without losing who
-- created what; a disabled account cannot log in.
ALTER TABLE accounts ADD COLUMN disabled_at TEXT;
