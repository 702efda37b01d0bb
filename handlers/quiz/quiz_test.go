package quiz

import "testing"

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		in     string
		tf     bool
		choice int
		ok     bool
	}{
		{"A", false, 0, true},
		{"a", false, 0, true},
		{"选B", false, 1, true},
		{"我选 c", false, 2, true},
		{"Ｄ", false, 3, true},
		{"答案是A。", false, 0, true},
		{"E", false, 0, false},
		{"对", false, 0, false}, // not a letter question answer
		{"A股今天涨了好多啊朋友们", false, 0, false},
		{"对", true, 0, true},
		{"错", true, 1, true},
		{"×", true, 1, true},
		{"√", true, 0, true},
		{"B", true, 1, true},
		{"不知道", true, 0, false},
	}
	for _, tt := range tests {
		c, ok := ParseAnswer(tt.in, tt.tf)
		if ok != tt.ok || (ok && c != tt.choice) {
			t.Errorf("ParseAnswer(%q, tf=%v) = %d, %v; want %d, %v", tt.in, tt.tf, c, ok, tt.choice, tt.ok)
		}
	}
}
