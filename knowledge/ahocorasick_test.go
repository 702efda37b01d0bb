package knowledge

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestAutomatonFindsWhatIndexFinds compares the automaton with a plain
// search for every phrase, on texts built from pieces of the phrases: every
// occurrence, overlapping and nested ones included, at the right offset.
func TestAutomatonFindsWhatIndexFinds(t *testing.T) {
	phrases := []string{"转账", "转", "安全账户", "账户", "qq", "加qq", "96110", "1", "你好", "好你", "验证码", "码"}
	a := buildAutomaton(phrases)
	pieces := append(slices.Clone(phrases), "，", "的", "x", "Ω", "😀", "请")
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 500; n++ {
		var b strings.Builder
		for k := rng.IntN(12); k >= 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		var got, want [][2]int
		a.find([]byte(text), func(id int32, end int) { got = append(got, [2]int{int(id), end}) })
		for id, p := range phrases {
			for from := 0; ; {
				i := strings.Index(text[from:], p)
				if i < 0 {
					break
				}
				want = append(want, [2]int{id, from + i + len(p)})
				from += i + 1
			}
		}
		cmp := func(x, y [2]int) int {
			if x[1] != y[1] {
				return x[1] - y[1]
			}
			return x[0] - y[0]
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: automaton found %v, search finds %v", text, got, want)
		}
	}
}
