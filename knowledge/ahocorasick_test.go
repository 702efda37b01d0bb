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

// TestAutomatonManyStates: a knowledge base grown past 65,536 states
// (70,000 phrases of four characters) still finds every phrase where it is.
func TestAutomatonManyStates(t *testing.T) {
	alphabet := []rune("转账汇款验证码安全户口银行卡号客服退款理赔刷单返利投资理财贷款")
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	var phrases []string
	for len(phrases) < 70000 {
		p := string([]rune{alphabet[rng.IntN(len(alphabet))], alphabet[rng.IntN(len(alphabet))], alphabet[rng.IntN(len(alphabet))], alphabet[rng.IntN(len(alphabet))]})
		if !seen[p] {
			seen[p] = true
			phrases = append(phrases, p)
		}
	}
	a := buildAutomaton(phrases)
	if states := len(a.outAt) - 1; states <= 1<<16 {
		t.Fatalf("only %d states", states)
	}
	for n := 0; n < 50; n++ {
		var b strings.Builder
		for k := 0; k < 40; k++ {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		found := map[[2]int]bool{}
		a.find([]byte(text), func(id int32, end int) { found[[2]int{int(id), end}] = true })
		want := 0
		const l = 4 * 3 // four characters of three bytes
		for i := range text {
			if i+l <= len(text) && seen[text[i:i+l]] {
				want++
				if !found[[2]int{slices.Index(phrases, text[i:i+l]), i + l}] {
					t.Fatalf("%q: %q at %d not found", text, text[i:i+l], i)
				}
			}
		}
		if len(found) != want {
			t.Fatalf("%q: %d found, %d there", text, len(found), want)
		}
	}
}
