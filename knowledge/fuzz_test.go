package knowledge

import (
	"testing"
	"unicode/utf8"
)

// FuzzCheck: any text, however broken, gets a verdict that holds together:
// a warning only on a scam-frame message at high risk, phrases that are in
// the text as folded, no panic.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"【中国移动】您的积分将于今日清零，请登录 http://10086-jf.top 兑换现金",
		"民警提醒：骗子会说“您涉嫌洗钱，请把钱转到安全账户”，这是诈骗！",
		"A. 照做\nB. 挂断\nC. 共享", "", "\x00\xff\xfe", "ＡＢＣ１２３　全角", "😀😀😀转账😀",
	} {
		f.Add(s)
	}
	ix := embeddedIndex(f)
	f.Fuzz(func(t *testing.T, text string) {
		v := ix.Check(text)
		if v.Warn && (v.Level != LevelHigh || v.Frame != FrameScam) {
			t.Fatalf("warned at %s in frame %s: %q", v.Level, v.Frame, text)
		}
		if v.Frame != FrameScam && v.Frame != FrameEducation && v.Frame != FrameOrdinary {
			t.Fatalf("frame %q", v.Frame)
		}
		for _, p := range v.Phrases {
			if !utf8.ValidString(p) {
				t.Fatalf("phrase %q is not UTF-8", p)
			}
		}
	})
}

// FuzzNormalize: normalising never panics and keeps text valid UTF-8.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"转 账", "ＱＱ：１２３", "加V信", "\xff\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if n := Normalize(nil, text); !utf8.Valid(n) && utf8.ValidString(text) {
			t.Fatalf("Normalize(%q) = %q, not UTF-8", text, n)
		}
	})
}
