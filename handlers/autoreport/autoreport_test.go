package autoreport

import (
	"testing"
	"time"
)

// TestSlot: the latest due time of each report at or before now.
func TestSlot(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, loc) }
	for _, tt := range []struct {
		kind string
		now  time.Time
		want time.Time
	}{
		{Weekly, at(11, 26, 16, 0), at(11, 26, 16, 0)},  // Thursday 16:00 itself
		{Weekly, at(11, 26, 15, 59), at(11, 19, 16, 0)}, // a minute before: last week's
		{Weekly, at(11, 30, 9, 0), at(11, 26, 16, 0)},   // the Monday after
		{Progress, at(11, 25, 9, 0), at(11, 25, 9, 0)},
		{Progress, at(11, 24, 23, 0), at(11, 10, 9, 0)},
		{Progress, at(12, 5, 12, 0), at(11, 25, 9, 0)},                        // across the month
		{Progress, at(1, 9, 12, 0), time.Date(2025, 12, 25, 9, 0, 0, 0, loc)}, // and the year
		{Monthly, at(12, 1, 9, 0), at(12, 1, 9, 0)},
		{Monthly, at(12, 1, 8, 59), at(11, 1, 9, 0)},
	} {
		if got := Slot(tt.kind, tt.now, loc); !got.Equal(tt.want) {
			t.Errorf("Slot(%s, %v) = %v; want %v", tt.kind, tt.now, got, tt.want)
		}
	}
}
