package knowledge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var updateGolden = flag.Bool("update-verdicts", false, "rewrite testdata/golden/verdicts.tsv from the current matcher")

// goldenPath holds the verdict of every message of every test set.
const goldenPath = "testdata/golden/verdicts.tsv"

// TestVerdictsUnchanged pins the verdict — level, warn, frame and the first
// type — of every message in every development set and holdout, so that
// work on the matcher's speed can show it changed nothing. A deliberate
// change of the matcher rewrites the file (go test ./knowledge -run
// TestVerdictsUnchanged -update-verdicts) and the diff shows what moved.
// Lines are keyed by a hash of the text, not the text, to keep the file
// small and the sets in one place.
func TestVerdictsUnchanged(t *testing.T) {
	ix := embeddedIndex(t)
	files, _ := filepath.Glob("testdata/*.txt")
	more, _ := filepath.Glob("testdata/*.tsv")
	deeper, _ := filepath.Glob("testdata/*/*.tsv")
	files = append(append(files, more...), deeper...)
	sort.Strings(files)
	var b bytes.Buffer
	b.WriteString("# file\ttext sha256 (12)\tlevel\twarn\tframe\tfirst type\n")
	n := 0
	for _, f := range files {
		if strings.Contains(f, "golden") {
			continue
		}
		for _, line := range readLines(t, f) {
			text := line
			if i := strings.LastIndex(line, "\t"); i >= 0 {
				text = line[i+1:]
			}
			v := ix.Check(text)
			first := ""
			if len(v.Types) > 0 {
				first = v.Types[0].ID
			}
			sum := sha256.Sum256([]byte(text))
			fmt.Fprintf(&b, "%s\t%s\t%s\t%v\t%s\t%s\n", filepath.ToSlash(f), hex.EncodeToString(sum[:6]), v.Level.Code(), v.Warn, v.Frame, first)
			n++
		}
	}
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d verdicts", n)
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update-verdicts to create it)", err)
	}
	if n < 5000 {
		t.Fatalf("only %d messages in the test sets", n)
	}
	got, wantLines := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
	if len(got) != len(wantLines) {
		t.Fatalf("%d verdicts, the golden file has %d: a test set changed (rewrite with -update-verdicts)", len(got), len(wantLines))
	}
	changed := 0
	for i := range got {
		if got[i] != wantLines[i] {
			if changed < 20 {
				t.Errorf("was %s\nnow %s", wantLines[i], got[i])
			}
			changed++
		}
	}
	if changed > 0 {
		t.Fatalf("%d of %d verdicts changed", changed, n)
	}
}

// TestConcurrentChecksAgree: checks running at once, sharing the index's
// scratches and its kept explanations, give what one at a time gives, and
// no verdict shares memory with another.
func TestConcurrentChecksAgree(t *testing.T) {
	ix := embeddedIndex(t)
	var texts []string
	for _, f := range []string{"testdata/dev/scam_a.tsv", "testdata/dev/ordinary.tsv", "testdata/dev/education.tsv"} {
		for _, m := range readTSV(t, f) {
			texts = append(texts, m.text)
		}
	}
	want := make([]string, len(texts))
	for i, text := range texts {
		b, _ := json.Marshal(ix.Check(text))
		want[i] = string(b)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kept := make([]Verdict, 0, len(texts))
			for i := range texts {
				j := (i*7 + w*13) % len(texts)
				kept = append(kept, ix.Check(texts[j]))
				if b, _ := json.Marshal(kept[len(kept)-1]); string(b) != want[j] {
					t.Errorf("writer %d, message %d: %s; alone it was %s", w, j, b, want[j])
					return
				}
			}
			// Verdicts kept from earlier checks are still what they were.
			for i, v := range kept {
				j := (i*7 + w*13) % len(texts)
				if b, _ := json.Marshal(v); string(b) != want[j] {
					t.Errorf("writer %d: verdict of message %d changed after later checks", w, j)
					return
				}
			}
		}()
	}
	wg.Wait()
}
