-- Reports scan events by time and read only these columns: a covering
-- index answers them without touching the table (measured by
-- BenchmarkWeekReport). It replaces the plain index on at.
DROP INDEX events_at;
CREATE INDEX events_reach ON events(at, group_id, member_id, kind, detail);
