-- When a platform reports the bot is no longer in a group (DingTalk's
-- robotCode.notExsit), nothing more is planned for it until it speaks again.
ALTER TABLE groups ADD COLUMN removed_at TEXT;
