package knowledge

import (
	"unicode"
	"unicode/utf8"
)

// Normalize folds text into the form phrases are matched in: full-width to
// half-width, ASCII lower case, common traditional characters to simplified,
// and everything that is not a letter or digit removed, so "刷 单", "刷*单",
// "刷😀单" and "刷单" all read "刷单". It appends to dst and returns it.
func Normalize(dst []byte, s string) []byte {
	_, dst = foldBoth(nil, dst, nil, s)
	return dst
}

// foldBoth returns two forms of s. The folded form has full-width folded,
// traditional characters simplified and zero-width characters removed, with
// punctuation kept; entities are extracted from it. Runs of five or more
// Chinese numerals (a phone or QQ number spelled out to dodge filters:
// "幺三八…") become digits in both forms; shorter runs are words ("一起",
// "三年级") and stay. The second form is Normalize's. One pass, appending to
// folded and norm. If m is not nil, it records where in norm punctuation
// was dropped and which spans were in quotation marks.
func foldBoth(folded, norm []byte, m *marks, s string) ([]byte, []byte) {
	var bk []int32
	if m != nil {
		bk = m.breaks
		m.open = -1
		defer func() { m.breaks = bk }()
	}
	// The current run of Chinese numerals: where it starts in both outputs.
	runF, runN, digits := -1, -1, 0
	flush := func() {
		if digits >= 5 {
			folded = digitsInPlace(folded, runF)
			norm = digitsInPlace(norm, runN)
		}
		runF, runN, digits = -1, -1, 0
	}
	runes := 0
	for i := 0; i < len(s); {
		// Fast path for the common CJK character that needs no folding:
		// copy its three bytes instead of decoding and encoding it.
		if c := s[i]; c >= 0xE4 && c <= 0xE9 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			if r >= hanBase && plainHan[(r-hanBase)>>6]&(1<<((r-hanBase)&63)) != 0 {
				if digits > 0 {
					flush()
				}
				folded = append(folded, s[i:i+3]...)
				norm = append(norm, s[i:i+3]...)
				i += 3
				runes++
				continue
			}
		}
		runes++
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			continue // zero-width characters hide nothing from us
		}
		r = fold(r)
		if cnDigit(r) != 0 {
			if digits == 0 {
				runF, runN = len(folded), len(norm)
			}
			digits++
		} else if digits > 0 {
			flush()
		}
		if r < utf8.RuneSelf {
			folded = append(folded, byte(r))
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
				norm = append(norm, byte(r))
				continue
			}
			if m != nil {
				if len(bk) == 0 || bk[len(bk)-1] != int32(len(norm)) {
					bk = append(bk, int32(len(norm)))
				}
				switch r {
				case '"':
					m.quote(len(norm), m.open < 0)
				case ',', ';', '!', '?': // full-width marks fold to these
					m.stops = append(m.stops, int32(len(norm)))
				}
			}
			continue
		}
		folded = utf8.AppendRune(folded, r)
		if r >= hanBase && r <= 0x9FFF || unicode.IsLetter(r) || unicode.IsDigit(r) {
			norm = utf8.AppendRune(norm, r)
		} else if m != nil {
			if len(bk) == 0 || bk[len(bk)-1] != int32(len(norm)) {
				bk = append(bk, int32(len(norm)))
			}
			switch r {
			case '“', '「', '『':
				m.quote(len(norm), true)
			case '”', '」', '』':
				m.quote(len(norm), false)
			case '，', '。', '；', '！', '？', '：':
				m.stops = append(m.stops, int32(len(norm)))
			}
		}
	}
	flush()
	if m != nil {
		m.runes = runes
	}
	return folded, norm
}

// plainHan marks, by rune - hanBase, the Chinese characters that fold to
// themselves and are no numeral, as most of any text: 2.6 KB, which stays
// in the cache where t2s does not.
var plainHan = func() (b [(0x9FFF - hanBase + 64) / 64]uint64) {
	for r := rune(hanBase); r <= 0x9FFF; r++ {
		if t2s[r-hanBase] == 0 && cnDigit(r) == 0 {
			b[(r-hanBase)>>6] |= 1 << ((r - hanBase) & 63)
		}
	}
	return b
}()

// marks are what normalising removes but the matcher still needs, as
// offsets in the normalised text.
type marks struct {
	breaks []int32 // where punctuation or spaces were dropped
	stops  []int32 // where a clause mark (，。；！？ and their ASCII forms, ：) was dropped
	quotes []int32 // start, end of each quoted span
	open   int32   // start of the quote now open, or -1
	runes  int     // characters of the text before folding
}

// quote opens or closes a quoted span at offset at.
func (m *marks) quote(at int, open bool) {
	switch {
	case open:
		m.open = int32(at)
	case m.open >= 0:
		m.quotes = append(m.quotes, m.open, int32(at))
		m.open = -1
	}
}

// digitsInPlace rewrites the Chinese numerals in b[from:] as ASCII digits.
func digitsInPlace(b []byte, from int) []byte {
	tail := string(b[from:])
	b = b[:from]
	for _, r := range tail {
		b = append(b, cnDigit(r))
	}
	return b
}

// fold maps one rune to its half-width, simplified form.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	if r >= hanBase && r < hanBase+rune(len(t2s)) {
		if s := t2s[r-hanBase]; s != 0 {
			return s
		}
	}
	return r
}

const hanBase = 0x4E00

// cnDigit maps a Chinese numeral, in any of the ways people write them, to
// its ASCII digit, or returns 0.
func cnDigit(r rune) byte {
	switch r {
	case '〇', '零':
		return '0'
	case '一', '幺', '壹':
		return '1'
	case '二', '两', '贰':
		return '2'
	case '三', '叁':
		return '3'
	case '四', '肆':
		return '4'
	case '五', '伍':
		return '5'
	case '六', '陆':
		return '6'
	case '七', '柒':
		return '7'
	case '八', '捌':
		return '8'
	case '九', '玖':
		return '9'
	}
	return 0
}

// t2s maps the traditional characters common in scam texts to simplified,
// indexed by rune - hanBase; 0 means "unchanged". An array, not a map: this
// lookup runs for every character of every message.
var t2s = func() []rune {
	const pairs = "詐诈騙骗帳账戶户轉转匯汇款款驗验證证碼码貸贷錢钱銀银額额費费號号碼码機机關关務务員员" +
		"網网絡络購购買买賣卖單单傳传點点擊击鏈链連连載载開开臉脸衛卫險险擔担護护醫医療疗" +
		"險险養养老老舊旧幣币資资產产財财經经濟济營营業业會会團团隊队獎奖勵励紅红積积領领" +
		"註注銷销學学補补貼贴獲获簽签訂订發发貨货遞递遺遗賠赔償偿還还債债凍冻結结審审計计" +
		"檢检察察法法院院辦办處处罰罚報报優优惠惠價价廣广間间題题請请線线選选擇择實实現现" +
		"導导師师親亲戚戚愛爱戀恋約约見见聯联繫系話话訊讯覽览網网頁页碼码帶带頭头導导總总" +
		"碼码雙双讓让鐘钟時时問问們们個个這这麼么還还對对與与為为們们體体驗验優优質质車车" +
		"禍祸壞坏簡简證证書书紙纸號号權权範范圍围確确認认識识別别屬属厲厉視视頻频螢萤幕幕" +
		"鎖锁掃扫條条進进轉转額额賬账刷刷齊齐幫帮換换戶户專专屬属軟软體体稅税盤盘擔担"
	m := make([]rune, 0x9FFF-hanBase+1)
	rs := []rune(pairs)
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] != rs[i+1] {
			m[rs[i]-hanBase] = rs[i+1]
		}
	}
	return m
}()
