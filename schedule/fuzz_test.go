package schedule

import (
	"testing"
	"time"
)

// FuzzParse: a schedule someone types either fails or reads back the same,
// with valid days and times outside the quiet hours.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"周二 周五 10:00", "每周一、周四 19:30", "二五 8点", "周八 25:00", ""} {
		f.Add(s)
	}
	quiet, _ := ParseQuiet("22:00-07:00")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text, quiet)
		if err != nil {
			return
		}
		if len(s.Days) < MinDays || s.Hour < 0 || s.Hour > 23 || s.Minute < 0 || s.Minute > 59 || quiet.At(time.Date(2026, 1, 1, s.Hour, s.Minute, 0, 0, time.UTC)) {
			t.Fatalf("Parse(%q) = %+v", text, s)
		}
		back, err := ParseStored(s.String())
		if err != nil || back.String() != s.String() {
			t.Fatalf("Parse(%q) = %s does not read back: %v", text, s, err)
		}
	})
}

// FuzzParseQuiet: quiet hours parse or fail; never a panic.
func FuzzParseQuiet(f *testing.F) {
	for _, s := range []string{"22:00-07:00", "7:00-7:00", "late", "99:99-00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, err := ParseQuiet(v)
		if err == nil && (q.Start < 0 || q.Start >= 24*60 || q.End < 0 || q.End >= 24*60) {
			t.Fatalf("ParseQuiet(%q) = %+v", v, q)
		}
	})
}
