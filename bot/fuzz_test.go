package bot

import (
	"testing"
	"unicode/utf8"
)

// FuzzTruncate: a cut text is valid UTF-8 whenever the text was, and no
// longer than the limit and its mark.
func FuzzTruncate(f *testing.F) {
	f.Add("反诈提醒：不要转账", 7)
	f.Add("abc", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		out := Truncate(s, n)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Truncate(%q, %d) = %q", s, n, out)
		}
		if len(out) > n+len("…") {
			t.Fatalf("Truncate(%q, %d) is %d bytes", s, n, len(out))
		}
	})
}
