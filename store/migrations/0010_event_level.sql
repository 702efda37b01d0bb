-- The verdict of a scam check in a column of its own, instead of parsed back
-- out of the detail ("high:shuadan") by every report.
ALTER TABLE events ADD COLUMN level TEXT;
UPDATE events SET level = CASE
	WHEN detail LIKE 'high%' THEN 'high'
	WHEN detail LIKE 'suspicious%' THEN 'suspicious'
	WHEN detail LIKE 'lookup%' THEN 'lookup'
	ELSE 'none' END
WHERE kind = 'scam_check';
