package quiz

import "testing"

// FuzzParseAnswer: any reply parses to a valid choice or to nothing.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"A", "选b", "答案是Ｃ。", "对", "×", "不知道", "A股涨了", "\x00"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, tf bool) {
		c, ok := ParseAnswer(text, tf)
		if ok && (c < 0 || c > 3 || tf && c > 1) {
			t.Fatalf("ParseAnswer(%q, %v) = %d", text, tf, c)
		}
	})
}
