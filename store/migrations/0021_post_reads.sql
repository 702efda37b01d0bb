-- Who read the bot's posts, where the platform tells (DingTalk): the post's
-- handle there, and its readers, pseudonymised like members.
ALTER TABLE posts ADD COLUMN receipt TEXT NOT NULL DEFAULT '';
CREATE INDEX posts_receipts ON posts(sent_at) WHERE receipt != '';
CREATE TABLE post_reads (
	post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
	reader  TEXT NOT NULL, -- HMAC of the platform user ID, as members.pseudonym
	PRIMARY KEY (post_id, reader)
) WITHOUT ROWID;
