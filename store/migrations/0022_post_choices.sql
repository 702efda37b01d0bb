-- The answers a post asks for, as typed (JSON list), so that channels with
-- buttons can show them as buttons.
ALTER TABLE posts ADD COLUMN choices TEXT NOT NULL DEFAULT '';
