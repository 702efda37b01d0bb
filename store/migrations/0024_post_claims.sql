-- A post being sent is its sender's until claimed_until (a lease), so that
-- several replicas can send from one outbox and a dead one's posts return.
-- Posts left sending before this column existed count as long lapsed.
ALTER TABLE posts ADD COLUMN claimed_until TEXT NOT NULL DEFAULT '';
-- The same for a message being replayed from the inbox.
ALTER TABLE inbox ADD COLUMN claimed_until TEXT NOT NULL DEFAULT '';
