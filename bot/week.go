package bot

import "time"

// MondayFirst is d's place in a week that starts on Monday, as Chinese
// weeks, the campaign's weekly rule and its reports do.
func MondayFirst(d time.Weekday) int { return (int(d) + 6) % 7 }

// WeekStart is Monday 00:00 of t's week in loc. Tip schedules, quiz
// schedules and weekly reports all count weeks from it.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return d.AddDate(0, 0, -MondayFirst(d.Weekday()))
}
