package media

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ocrLine is one line tesseract found, with where it is.
type ocrLine struct {
	block, par int
	words      []string
	top        int
	conf       float64
}

// parseTSV turns tesseract's TSV (level, page, block, par, line, word,
// left, top, width, height, conf, text) into text in reading order: the
// lines of a paragraph joined as the wrapped text they are, paragraphs on
// lines of their own, phone UI noise dropped.
func parseTSV(tsv []byte, width, height int) string {
	var lines []*ocrLine
	index := map[[3]int]*ocrLine{}
	for _, row := range bytes.Split(tsv, []byte("\n")) {
		f := strings.Split(string(row), "\t")
		if len(f) < 12 || f[0] != "5" {
			continue // not a word (the header, pages, blocks, lines)
		}
		word := strings.TrimSpace(f[11])
		if word == "" {
			continue
		}
		var n [5]int
		for i := range n {
			n[i], _ = strconv.Atoi(f[i+2]) // block, par, line, word, left
		}
		top, _ := strconv.Atoi(f[7])
		conf, _ := strconv.ParseFloat(f[10], 64)
		key := [3]int{n[0], n[1], n[2]}
		l := index[key]
		if l == nil {
			l = &ocrLine{block: n[0], par: n[1], top: top}
			index[key] = l
			lines = append(lines, l)
		}
		l.words = append(l.words, word)
		l.conf += conf
	}
	var b strings.Builder
	var prev *ocrLine
	for _, l := range lines {
		text := joinWords(l.words)
		if noise(text, l, width, height) {
			continue
		}
		switch {
		case prev == nil:
		case prev.block == l.block && prev.par == l.par:
			if endsASCIIWord(b.String()) && startsASCIIWord(text) {
				b.WriteByte(' ')
			}
		default:
			b.WriteByte('\n')
		}
		b.WriteString(text)
		prev = l
	}
	return b.String()
}

// joinWords joins tesseract's words: Chinese characters come out as words
// of their own, and no space belongs between them.
func joinWords(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 && endsASCIIWord(b.String()) && startsASCIIWord(w) {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

func endsASCIIWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func startsASCIIWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

var (
	// A time stamp on a line of its own: 15:30, 昨天 15:30, 11月20日 上午10:12, 2026/11/20 09:15.
	// Also as tesseract often reads them: 天15:3, 昨天 153.
	stampLine = regexp.MustCompile(`^(昨天|今天|前天|天|星期[一二三四五六日天]|周[一二三四五六日天])?(\d{4}[/年.-])?(\d{1,2}[/月.-]\d{1,2}日?)?(上午|下午|中午|晚上|凌晨|早上)?\d{1,2}([:：]?\d{1,2})?$`)
	// A group chat's title ends with its member count: 幸福里社区居民群(386).
	memberCount = regexp.MustCompile(`[(（]\d{1,4}[)）]\S{0,3}$`)
	// A status bar's marks: clock, network, battery.
	statusLine = regexp.MustCompile(`^(\d{1,2}[:：]\d{2}|\d{1,3}%|[2345]G|LTE|HD|VoLTE|Wi-?Fi|[|.ıll]+)+$`)
	// A status bar: a clock with signal and battery marks around it.
	clock = regexp.MustCompile(`\d{1,2}[:：]\d{2}`)
	// What the messaging apps print around a message.
	uiWords = map[string]bool{"短信/彩信": true, "短信/": true, "/彩信": true, "短信": true, "彩信": true, "短信彩信": true, "iMessage": true, "文本消息": true,
		"发送": true, "按住说话": true, "按住 说话": true, "信息": true, "发信息": true}
)

// noise reports lines that are the phone's, not the message's: the status
// bar, time stamps, the apps' labels and buttons, and the stray marks
// tesseract makes of icons.
func noise(text string, l *ocrLine, width, height int) bool {
	compact := strings.Join(strings.Fields(text), "")
	if uiWords[compact] || uiWords[text] {
		return true
	}
	if stampLine.MatchString(compact) || statusLine.MatchString(compact) {
		return true
	}
	var meaningful int
	for _, r := range compact {
		if unicode.Is(unicode.Han, r) || unicode.IsLetter(r) || unicode.IsDigit(r) {
			meaningful++
		}
	}
	if meaningful < 2 {
		return true // icons, avatars, a lone bracket
	}
	n := float64(len(l.words))
	if l.conf/n < 35 && utf8.RuneCountInString(compact) <= 4 {
		return true // a short guess: usually an icon read as characters
	}
	han := strings.ContainsFunc(compact, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	short := utf8.RuneCountInString(compact) <= 24
	// Where a phone puts its bars, in proportion to the screen's width: the
	// status bar in the top eighth of a width, a chat's title bar below it.
	statusBar, titleBar := l.top < width/8, l.top < width/3
	switch {
	case statusBar && short && (clock.MatchString(compact) || strings.Contains(compact, "%")) &&
		(strings.Contains(compact, "%") || !han):
		return true // clock, signal, battery
	case titleBar && memberCount.MatchString(compact) && utf8.RuneCountInString(compact) <= 30:
		return true // a group chat's name and member count
	case height > 0 && l.top > height*85/100 && utf8.RuneCountInString(compact) <= 8 && !han:
		return true // the input bar's icons, read as stray Latin letters
	}
	return false
}

// clean tidies the text read: spaces tesseract puts between Chinese
// characters and punctuation go; blank lines go.
func clean(text string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = dropCJKSpaces(strings.TrimSpace(line))
		if line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// dropCJKSpaces removes a space with a Chinese character or full-width
// punctuation on either side; spaces between Latin words and numbers stay.
func dropCJKSpaces(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if r == ' ' {
			var before, after rune
			if i > 0 {
				before = rs[i-1]
			}
			if i+1 < len(rs) {
				after = rs[i+1]
			}
			if wide(before) || wide(after) || before == ' ' {
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}
