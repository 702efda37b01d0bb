// Package schedule is when things happen each week: a group's tip days and
// time, quiz times, and the quiet hours nothing is posted in. Tips, quizzes,
// the configuration and the admin pages all read schedules through it.
package schedule

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"fanzha/bot"
)

// Schedule is when a group gets its tips each week.
type Schedule struct {
	Days   []time.Weekday // sorted, Monday first
	Hour   int
	Minute int
}

// The campaign asks for anti-fraud content at least twice a week.
const MinDays = 2

// Default is the schedule of a group that has none of its own: community
// groups in the morning when the elderly read, class groups in the evening
// when parents are home.
func Default(kind bot.GroupKind) Schedule {
	if kind == bot.GroupClass {
		return Schedule{Days: []time.Weekday{time.Monday, time.Thursday}, Hour: 19, Minute: 30}
	}
	return Schedule{Days: []time.Weekday{time.Tuesday, time.Friday}, Hour: 10}
}

// ParseStored reads a stored schedule ("2,5 10:00").
func ParseStored(v string) (Schedule, error) { return parseStored(v) }

// For returns the group's schedule: its own if set and valid, else the
// default for its kind.
func For(g *bot.Group) Schedule {
	if g.Schedule != "" {
		if s, err := parseStored(g.Schedule); err == nil {
			return s
		}
	}
	return Default(g.Kind)
}

// String is the stored form, "2,5 10:00" (0 = Sunday).
func (s Schedule) String() string {
	ds := make([]string, len(s.Days))
	for i, d := range s.Days {
		ds[i] = strconv.Itoa(int(d))
	}
	return fmt.Sprintf("%s %02d:%02d", strings.Join(ds, ","), s.Hour, s.Minute)
}

var dayNames = []string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// DayName is a weekday as people write it: 周一.
func DayName(d time.Weekday) string { return dayNames[d] }

// Human is the schedule as people say it: "每周二、周五 10:00".
func (s Schedule) Human() string {
	ds := make([]string, len(s.Days))
	for i, d := range s.Days {
		ds[i] = dayNames[d]
	}
	return fmt.Sprintf("每%s %02d:%02d", strings.Join(ds, "、"), s.Hour, s.Minute)
}

func parseStored(v string) (Schedule, error) {
	days, hm, ok := strings.Cut(v, " ")
	if !ok {
		return Schedule{}, fmt.Errorf("schedule %q: want \"2,5 10:00\"", v)
	}
	var s Schedule
	for _, d := range strings.Split(days, ",") {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 6 {
			return Schedule{}, fmt.Errorf("schedule %q: bad day %q", v, d)
		}
		s.Days = append(s.Days, time.Weekday(n))
	}
	if _, err := fmt.Sscanf(hm, "%d:%d", &s.Hour, &s.Minute); err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: bad time", v)
	}
	s.sortDays()
	return s, nil
}

func (s *Schedule) sortDays() {
	sort.Slice(s.Days, func(i, j int) bool { return bot.MondayFirst(s.Days[i]) < bot.MondayFirst(s.Days[j]) })
}

var (
	dayRe  = regexp.MustCompile(`(?:周|星期|礼拜)([一二三四五六日天1-7])`)
	timeRe = regexp.MustCompile(`(\d{1,2})(?:[:：](\d{2})|点(半|(\d{1,2})分?)?)`)
)

var dayChars = map[string]time.Weekday{
	"一": time.Monday, "二": time.Tuesday, "三": time.Wednesday, "四": time.Thursday, "五": time.Friday,
	"六": time.Saturday, "日": time.Sunday, "天": time.Sunday,
	"1": time.Monday, "2": time.Tuesday, "3": time.Wednesday, "4": time.Thursday, "5": time.Friday,
	"6": time.Saturday, "7": time.Sunday,
}

// Parse reads what a counsellor types after 设置推送: "周二 周五 10:00",
// "星期一、星期四 19:30", "周三 周六 下午3点". Tips need at least two days.
func Parse(text string, quiet Quiet) (Schedule, error) { return ParseDays(text, quiet, MinDays) }

// ParseDays is Parse with another minimum number of days (a weekly quiz
// needs only one).
func ParseDays(text string, quiet Quiet, min int) (Schedule, error) {
	var s Schedule
	seen := map[time.Weekday]bool{}
	for _, m := range dayRe.FindAllStringSubmatch(text, -1) {
		d := dayChars[m[1]]
		if !seen[d] {
			seen[d] = true
			s.Days = append(s.Days, d)
		}
	}
	if len(s.Days) < min {
		if min == 1 {
			return s, bot.Errorf(bot.EINVALID, "请写上星期几和时间，例如：设置答题 周三 20:00")
		}
		return s, bot.Errorf(bot.EINVALID, "请至少选两天（活动要求每周推送不少于两次），例如：设置推送 周二 周五 10:00")
	}
	tm := timeRe.FindStringSubmatch(text)
	if tm == nil {
		return s, bot.Errorf(bot.EINVALID, "请写上时间，例如 10:00 或 晚上8点。")
	}
	s.Hour, _ = strconv.Atoi(tm[1])
	switch {
	case tm[2] != "":
		s.Minute, _ = strconv.Atoi(tm[2])
	case tm[3] == "半":
		s.Minute = 30
	case tm[4] != "":
		s.Minute, _ = strconv.Atoi(tm[4])
	}
	if (strings.Contains(text, "下午") || strings.Contains(text, "晚上")) && s.Hour < 12 {
		s.Hour += 12
	}
	if s.Hour > 23 || s.Minute > 59 {
		return s, bot.Errorf(bot.EINVALID, "时间“%s”不对，请用 24 小时制，例如 19:30。", tm[0])
	}
	if quiet.Contains(s.Hour*60 + s.Minute) {
		return s, bot.Errorf(bot.EINVALID, "%02d:%02d 在免打扰时段（%s）内，请换一个时间。", s.Hour, s.Minute, quiet)
	}
	s.sortDays()
	return s, nil
}

// Slots returns the week's post times, in order, for the week starting at
// weekStart (a Monday 00:00).
func (s Schedule) Slots(weekStart time.Time) []time.Time {
	out := make([]time.Time, 0, len(s.Days))
	for _, d := range s.Days {
		day := weekStart.AddDate(0, 0, bot.MondayFirst(d))
		out = append(out, time.Date(day.Year(), day.Month(), day.Day(), s.Hour, s.Minute, 0, 0, weekStart.Location()))
	}
	return out
}

// Quiet is a daily window, in minutes after midnight, in which the bot
// posts nothing on its own. It may wrap midnight (22:00-07:00).
type Quiet struct{ Start, End int }

// quietRe is the shape of quiet hours: "22:00-07:00", no signs.
var quietRe = regexp.MustCompile(`^\d{1,2}:\d{2}-\d{1,2}:\d{2}$`)

// ParseQuiet reads "22:00-07:00"; "" means no quiet hours.
func ParseQuiet(v string) (Quiet, error) {
	if v == "" {
		return Quiet{}, nil
	}
	var h1, m1, h2, m2 int
	if !quietRe.MatchString(v) {
		return Quiet{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", v)
	}
	if _, err := fmt.Sscanf(v, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 {
		return Quiet{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", v)
	}
	return Quiet{h1*60 + m1, h2*60 + m2}, nil
}

// Contains reports whether minute of day m is quiet.
func (q Quiet) Contains(m int) bool {
	switch {
	case q.Start == q.End:
		return false
	case q.Start < q.End:
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End
}

// At reports whether t (already in the campaign's zone) is quiet.
func (q Quiet) At(t time.Time) bool { return q.Contains(t.Hour()*60 + t.Minute()) }

// Next is the first instant at or after t (in the campaign's zone) that is
// not quiet.
func (q Quiet) Next(t time.Time) time.Time {
	if !q.At(t) {
		return t
	}
	end := time.Date(t.Year(), t.Month(), t.Day(), q.End/60, q.End%60, 0, 0, t.Location())
	if !end.After(t) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

func (q Quiet) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}
