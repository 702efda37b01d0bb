package schedule

import (
	"testing"
	"time"

	"fanzha/bot"
)

var shanghai = time.FixedZone("CST", 8*3600)

func TestParse(t *testing.T) {
	quiet := Quiet{22 * 60, 7 * 60}
	tests := []struct {
		in, want string // want: stored form, or "" for an error
	}{
		{"周二 周五 10:00", "2,5 10:00"},
		{"星期一、星期四 19:30", "1,4 19:30"},
		{"周五 周二 10：00", "2,5 10:00"}, // full-width colon, any order
		{"周三 周日 下午3点", "3,0 15:00"},
		{"周一 周三 周五 8点半", "1,3,5 08:30"},
		{"周二 10:00", ""},    // once a week is not enough
		{"周二 周五", ""},       // no time
		{"周二 周五 23:00", ""}, // quiet hours
		{"周二 周五 25:00", ""}, // no such time
		{"每天都发", ""},        // no days
	}
	for _, tt := range tests {
		s, err := Parse(tt.in, quiet)
		if tt.want == "" {
			if err == nil || bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("Parse(%q) = %v, %v; want an error", tt.in, s, err)
			}
			continue
		}
		if err != nil || s.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, s.String(), err, tt.want)
		}
	}
}

func TestWeekStartAndSlots(t *testing.T) {
	// Sunday 23:30 in Shanghai is still the week that began on Monday the 16th,
	// though in UTC it is already Sunday 15:30.
	sun := time.Date(2026, 11, 22, 23, 30, 0, 0, shanghai)
	ws := bot.WeekStart(sun, shanghai)
	if want := time.Date(2026, 11, 16, 0, 0, 0, 0, shanghai); !ws.Equal(want) {
		t.Fatalf("bot.WeekStart(%v) = %v; want %v", sun, ws, want)
	}
	mon := time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai)
	if got := bot.WeekStart(mon, shanghai); !got.Equal(mon) {
		t.Fatalf("Monday 00:00 starts its own week, got %v", got)
	}
	slots := Default(bot.GroupCommunity).Slots(ws)
	want := []time.Time{time.Date(2026, 11, 17, 10, 0, 0, 0, shanghai), time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai)}
	if len(slots) != 2 || !slots[0].Equal(want[0]) || !slots[1].Equal(want[1]) {
		t.Fatalf("community slots %v; want %v", slots, want)
	}
	class := Default(bot.GroupClass).Slots(ws)
	if class[0].Weekday() != time.Monday || class[0].Hour() != 19 || class[1].Weekday() != time.Thursday {
		t.Fatalf("class slots %v", class)
	}
	sunday, _ := parseStored("0,3 09:00")
	if s := sunday.Slots(ws); s[0].Weekday() != time.Wednesday || s[1].Weekday() != time.Sunday || s[1].Day() != 22 {
		t.Fatalf("Sunday belongs to the end of the week: %v", s)
	}
}

func TestQuiet(t *testing.T) {
	q, err := ParseQuiet("22:00-07:00")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		hm    int
		quiet bool
	}{{23*60 + 59, true}, {0, true}, {6*60 + 59, true}, {7 * 60, false}, {21*60 + 59, false}, {22 * 60, true}} {
		if q.Contains(tt.hm) != tt.quiet {
			t.Errorf("%02d:%02d quiet = %v", tt.hm/60, tt.hm%60, !tt.quiet)
		}
	}
	if _, err := ParseQuiet("10pm-7am"); err == nil {
		t.Error("bad quiet hours accepted")
	}
}

func TestQuietNext(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	q, err := ParseQuiet("22:00-07:00")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, loc) }
	for _, tt := range []struct{ in, want time.Time }{
		{at(24, 23, 0), at(25, 7, 0)},  // evening: tomorrow morning
		{at(25, 3, 30), at(25, 7, 0)},  // small hours: this morning
		{at(25, 12, 0), at(25, 12, 0)}, // daytime: now
		{at(25, 7, 0), at(25, 7, 0)},   // the end of quiet hours is not quiet
	} {
		if got := q.Next(tt.in); !got.Equal(tt.want) {
			t.Errorf("Next(%s) = %s; want %s", tt.in.Format("01-02 15:04"), got.Format("01-02 15:04"), tt.want.Format("01-02 15:04"))
		}
	}
}
