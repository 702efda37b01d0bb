-- Scheduled quiz rounds: a group's weekly quiz times ("3 20:00"), and the
-- slot a round was started for, so a slot starts one round at most.
ALTER TABLE groups ADD COLUMN quiz_schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE quiz_rounds ADD COLUMN slot TEXT;
CREATE UNIQUE INDEX quiz_rounds_slot ON quiz_rounds(group_id, slot) WHERE slot IS NOT NULL;
