package main

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"fanzha/knowledge"
)

// appendResult appends r as one line of JSON, byte for byte what
// encoding/json writes for it (with HTML left unescaped), without its
// reflection: in `fanzha check --json` that was a fifth of the time.
// TestAppendResultIsEncodingJSON holds the two to each other.
func appendResult(b []byte, r *checkResult) []byte {
	if r.Error != "" || r.File != "" || r.Read != nil || len(r.QRs) > 0 {
		out, _ := json.Marshal(r) // pictures: rare, and the general way
		return append(append(b, out...), '\n')
	}
	b = append(b, `{"level":`...)
	b = appendString(b, r.Level)
	b = append(b, `,"warn":`...)
	b = strconv.AppendBool(b, r.Warn)
	b = append(b, `,"frame":`...)
	b = appendString(b, r.Frame)
	b = append(b, `,"frame_score":`...)
	b = appendFloat(b, r.FrameScore)
	b = append(b, `,"confidence":`...)
	b = appendFloat(b, r.Confidence)
	b = append(b, `,"parts":`...)
	b = appendList(b, r.Parts, func(b []byte, p knowledge.PartHit) []byte {
		b = append(b, `{"role":`...)
		b = appendString(b, p.Role)
		b = append(b, `,"id":`...)
		b = appendString(b, p.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, p.Name)
		b = append(b, `,"phrase":`...)
		b = appendString(b, p.Phrase)
		return append(b, '}')
	})
	if p := r.Pattern; p != nil {
		b = append(b, `,"pattern":{"id":`...)
		b = appendString(b, p.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, p.Name)
		b = append(b, `,"because":`...)
		b = appendString(b, p.Because)
		b = append(b, '}')
	}
	b = append(b, `,"types":`...)
	b = appendList(b, r.Types, func(b []byte, t checkType) []byte {
		b = append(b, `{"id":`...)
		b = appendString(b, t.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, t.Name)
		b = append(b, `,"score":`...)
		b = appendFloat(b, t.Score)
		return append(b, '}')
	})
	b = append(b, `,"phrases":`...)
	b = appendList(b, r.Phrases, appendString)
	b = append(b, `,"entities":`...)
	b = appendList(b, r.Entities, func(b []byte, e knowledge.Entity) []byte {
		b = append(b, `{"kind":`...)
		b = appendString(b, e.Kind)
		b = append(b, `,"value":`...)
		b = appendString(b, e.Value)
		return append(b, '}')
	})
	return append(b, "}\n"...)
}

// appendList writes xs as a JSON array, each element by one, and a nil
// list as null, as encoding/json does.
func appendList[T any](b []byte, xs []T, one func([]byte, T) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, x)
	}
	return append(b, ']')
}

// appendFloat writes f as encoding/json does: the shortest form, with an
// exponent only below 1e-6 or from 1e21, and no leading zero in it. A
// verdict's figures are never NaN or infinite.
func appendFloat(b []byte, f float64) []byte {
	if i := int64(f); float64(i) == f && i > -1e15 && i < 1e15 && (i != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(b, i, 10) // most scores are whole
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plainJSON reports whether s goes into JSON as it is, between quotes:
// valid UTF-8 with no control character, quote, backslash, U+2028 or
// U+2029. Nearly every string of a verdict does, most of them Chinese, so
// three-byte characters are checked in line.
func plainJSON(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
		case c >= 0xE3 && c <= 0xEC || c == 0xEE || c == 0xEF || c == 0xE1:
			// Three bytes whose second may be any continuation byte
			// (not E0, ED, nor E2, which begins U+2028 and U+2029).
			if i+2 >= len(s) || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 {
				return false
			}
			i += 3
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return false
			}
			i += size
		}
	}
	return true
}

// appendString writes s quoted as encoding/json does with HTML escaping
// off: quote, backslash and control characters escaped, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
