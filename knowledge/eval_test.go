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

// TestHoldout measures the knowledge base on messages written after it and
// never used to tune it: scams in other words than its phrases, and
// ordinary messages that share words with scams. The floors sit just under
// what was measured when the set was written, so a change that makes the
// matcher worse on unseen text fails here.
// measure checks every message of two files and logs the mistakes.
func measure(t *testing.T, ix *Index, scamFile, ordinaryFile string) (recall, precision float64, fp int) {
	t.Helper()
	scams, ordinary := readLines(t, scamFile), readLines(t, ordinaryFile)
	tp := 0
	for _, m := range scams {
		if ix.Check(m).Level != LevelNone {
			tp++
		} else {
			t.Logf("missed: %s", m)
		}
	}
	for _, m := range ordinary {
		if v := ix.Check(m); v.Level != LevelNone {
			fp++
			t.Logf("false alarm (%s %v): %s", v.Level, v.Phrases, m)
		}
	}
	return float64(tp) / float64(len(scams)), float64(tp) / float64(max(1, tp+fp)), fp
}

// TestHoldout measures the knowledge base on messages written after it:
// scams in other words than its phrases, and ordinary messages that share
// words with scams. Each set was written after the previous round of
// changes. Floors sit just under the figures measured now, so a change
// that makes the matcher worse on text it was not written for fails.
func TestHoldout(t *testing.T) {
	ix := embeddedIndex(t)
	for _, h := range []struct {
		set       string
		recall    float64 // floor
		precision float64 // floor
		why       string
	}{
		// First run 0.05: the knowledge base only knew its own phrasing; the
		// general rules in data/general.yaml came from this set. With the
		// structure layer (issue 11): 0.975 / 0.929.
		{"holdout", 0.95, 0.92, "used for tuning"},
		// First run 0.40; its misses shaped the third round of tuning.
		// Structure layer: 0.975 / 1.000.
		// With the calibration layer (round 11): 0.925 / 1.000.
		{"holdout2", 0.92, 0.97, "used for tuning"},
		// First run 0.13: adding phrases does not generalise; the near
		// rules came from its misses. Structure layer: 1.000 / 1.000.
		// With the calibration layer: 0.933 / 1.000.
		{"holdout3", 0.93, 0.97, "used for tuning"},
		// Written after the near rules and never tuned on until issue 11,
		// whose second round looked at its misses (0.20 / 1.00 then; 0.75 /
		// 0.83 with the first structure layer): 0.950 / 0.905.
		// With the calibration layer: 0.850 / 1.000.
		{"holdout4", 0.85, 0.90, "used for tuning since issue 11"},
	} {
		t.Run(h.set, func(t *testing.T) {
			recall, precision, fp := measure(t, ix, "testdata/"+h.set+"_scam.txt", "testdata/"+h.set+"_ordinary.txt")
			t.Logf("%s (%s): recall %.3f, precision %.3f, false alarms %d", h.set, h.why, recall, precision, fp)
			if recall < h.recall || precision < h.precision {
				t.Errorf("recall %.3f (floor %.3f), precision %.3f (floor %.2f)", recall, h.recall, precision, h.precision)
			}
		})
	}
}
