-- As 0023_winner_place.sql; PostgreSQL has no earlier rows to number.
ALTER TABLE prize_winners ADD COLUMN place INTEGER NOT NULL DEFAULT 0;
