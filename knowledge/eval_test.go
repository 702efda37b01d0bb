package knowledge

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func embeddedIndex(t testing.TB) *Index {
	t.Helper()
	ix, err := Load(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestLabeledSet measures the knowledge base on the labelled messages in
// testdata: scam messages must be flagged (可疑 or 高风险), ordinary group
// messages must not be.
func TestLabeledSet(t *testing.T) {
	ix := embeddedIndex(t)
	scams := readLines(t, "testdata/scam.tsv")
	ordinary := readLines(t, "testdata/ordinary.txt")
	if len(scams) < 150 || len(ordinary) < 150 {
		t.Fatalf("labelled set too small: %d scam, %d ordinary; want >= 150 each", len(scams), len(ordinary))
	}
	var tp, fn, fp, typed int
	types := map[string]bool{}
	for _, l := range scams {
		want, text, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("scam.tsv line without a tab: %q", l)
		}
		types[want] = true
		v := ix.Check(text)
		if v.Level == LevelNone {
			fn++
			t.Logf("missed (%s): %s", want, text)
			continue
		}
		tp++
		for _, ts := range v.Types {
			if ts.ID == want {
				typed++
				break
			}
		}
	}
	for _, text := range ordinary {
		if v := ix.Check(text); v.Level != LevelNone {
			fp++
			t.Logf("false alarm (%s %s %.1f %v): %s", v.Level, v.Types[0].ID, v.Types[0].Score, v.Phrases, text)
		}
	}
	recall := float64(tp) / float64(tp+fn)
	precision := float64(tp) / float64(tp+fp)
	t.Logf("scam %d, ordinary %d, types covered %d: recall %.3f, precision %.3f, right type among the best %d/%d",
		len(scams), len(ordinary), len(types), recall, precision, typed, tp)
	if recall < 0.85 {
		t.Errorf("recall %.3f < 0.85", recall)
	}
	if precision < 0.95 {
		t.Errorf("precision %.3f < 0.95", precision)
	}
	if len(types) < 30 {
		t.Errorf("labelled scams cover %d types; want >= 30", len(types))
	}
}
