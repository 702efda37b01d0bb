-- Winners in the order they were drawn, in a column of their own instead
-- of SQLite's rowid, which PostgreSQL does not have.
ALTER TABLE prize_winners ADD COLUMN place INTEGER NOT NULL DEFAULT 0;
UPDATE prize_winners SET place = rowid;
