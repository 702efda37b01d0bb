-- Every query of a group's events names the group and a time (warning
-- cooldowns, a week's warnings, crowd feedback): (group_id, at) serves
-- them all, filtering kind on the way. A second index led by the group made
-- each event write two scattered index entries instead of one and cut
-- durable ingest from about 78,000 to 46,000 events a second
-- (BenchmarkEventIngest).
DROP INDEX events_group_kind_at;
