-- The hash of a draw's sorted entrant list, announced with the winners, so
-- the list cannot be changed after the draw without it showing.
ALTER TABLE prize_draws ADD COLUMN entrants_hash TEXT NOT NULL DEFAULT '';
