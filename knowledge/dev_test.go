package knowledge

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// labelled is one line of a TSV test set: label, optional register, text.
type labelled struct{ label, register, text string }

// readTSV reads "label<TAB>text" or "label<TAB>register<TAB>text" lines.
func readTSV(t testing.TB, path string) []labelled {
	t.Helper()
	var out []labelled
	for i, l := range readLines(t, path) {
		f := strings.Split(l, "\t")
		switch len(f) {
		case 2:
			out = append(out, labelled{label: f[0], text: f[1]})
		case 3:
			out = append(out, labelled{label: f[0], register: f[1], text: f[2]})
		default:
			t.Fatalf("%s: line %d has %d fields; want label<TAB>[register<TAB>]text", path, i+1, len(f))
		}
	}
	return out
}

// setFigures are what one evaluation measured.
type setFigures struct {
	scams, flagged, warned int // scam messages and how many were flagged / warned
	benign, fp, fw         int // non-scam messages and how many were flagged / warned
	byLabel                map[string][2]int
}

func (f setFigures) recall() float64     { return ratio(f.flagged, f.scams) }
func (f setFigures) warnRecall() float64 { return ratio(f.warned, f.scams) }
func (f setFigures) precision() float64  { return ratio(f.flagged, f.flagged+f.fp) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// evaluate checks scams and non-scams and logs every mistake, so a failing
// run shows what to look at.
func evaluate(t *testing.T, ix *Index, scams, benign []labelled) setFigures {
	t.Helper()
	f := setFigures{scams: len(scams), benign: len(benign), byLabel: map[string][2]int{}}
	for _, m := range scams {
		v := ix.Check(m.text)
		c := f.byLabel[m.label]
		c[1]++
		if v.Level != LevelNone {
			f.flagged++
			c[0]++
		} else {
			t.Logf("missed [%s/%s]: %s", m.label, m.register, m.text)
		}
		if v.Warn {
			f.warned++
		}
		f.byLabel[m.label] = c
	}
	for _, m := range benign {
		v := ix.Check(m.text)
		if v.Level != LevelNone {
			f.fp++
			why := ""
			if v.Pattern != nil {
				why = v.Pattern.Because
			}
			t.Logf("false alarm [%s] %s %s %v (%s): %s", m.label, v.Level.Code(), v.Frame, v.Phrases, why, m.text)
		}
		if v.Warn {
			f.fw++
		}
	}
	return f
}

// measureSet evaluates one set of three files and logs its figures: all
// non-scams together, and education alone.
func measureSet(t *testing.T, ix *Index, scamFile, ordinaryFile, educationFile string) (all, edu setFigures) {
	t.Helper()
	scams := readTSV(t, scamFile)
	ordinary := readTSV(t, ordinaryFile)
	education := readTSV(t, educationFile)
	all = evaluate(t, ix, scams, append(append([]labelled{}, ordinary...), education...))
	edu = evaluate(t, ix, nil, education)
	t.Logf("%d scams: flagged recall %.3f, warning recall %.3f, precision %.3f; by family: %s",
		all.scams, all.recall(), all.warnRecall(), all.precision(), all.families())
	t.Logf("ordinary %d + education %d: %d flagged, %d warned; education alone: %d flagged (%.1f%%), %d warned (%.1f%%)",
		len(ordinary), len(education), all.fp, all.fw, edu.fp, 100*ratio(edu.fp, edu.benign), edu.fw, 100*ratio(edu.fw, edu.benign))
	return all, edu
}

func (f setFigures) families() string {
	labels := make([]string, 0, len(f.byLabel))
	for l := range f.byLabel {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var b strings.Builder
	for _, l := range labels {
		c := f.byLabel[l]
		fmt.Fprintf(&b, "%s %.2f  ", l, ratio(c[0], c[1]))
	}
	return b.String()
}

// TestDevelopmentSets measures the check on the development sets in
// testdata/dev: scams of every family in six registers, ordinary messages
// (legitimate SMS with links and 验证码, chat, notices, ads) and anti-fraud
// education in many voices. Precision counts false alarms on ordinary and
// education messages together.
func TestDevelopmentSets(t *testing.T) {
	ix := embeddedIndex(t)
	var scams []labelled
	files, _ := filepath.Glob("testdata/dev/scam_*.tsv")
	for _, f := range files {
		scams = append(scams, readTSV(t, f)...)
	}
	ordinary := readTSV(t, "testdata/dev/ordinary.tsv")
	education := readTSV(t, "testdata/dev/education.tsv")
	if (len(scams) < 700 || len(ordinary) < 600 || len(education) < 200) && os.Getenv("FANZHA_EVAL_ONLY") == "" {
		t.Fatalf("development sets too small: %d scams, %d ordinary, %d education", len(scams), len(ordinary), len(education))
	}
	all := evaluate(t, ix, scams, append(append([]labelled{}, ordinary...), education...))
	edu := evaluate(t, ix, nil, education)
	t.Logf("scams %d: flagged recall %.3f, warning recall %.3f, precision %.3f", all.scams, all.recall(), all.warnRecall(), all.precision())
	t.Logf("by family: %s", all.families())
	t.Logf("ordinary %d + education %d: %d flagged, %d warned; education alone: %d flagged (%.1f%%), %d warned (%.1f%%)",
		len(ordinary), len(education), all.fp, all.fw, edu.fp, 100*ratio(edu.fp, edu.benign), edu.fw, 100*ratio(edu.fw, edu.benign))
	if os.Getenv("FANZHA_EVAL_ONLY") != "" {
		return
	}
	// Issue 11's bar: flagged recall 0.90 at precision 0.97, warning
	// recall 0.60; education at most 1 % warned and 5 % flagged. Measured
	// after round 6: 0.900 / 0.989 / 0.620, education 1.1 % flagged and
	// none warned; after round 7: 0.900 / 0.990 / 0.616, the same.
	if all.recall() < 0.90 || all.precision() < 0.98 || all.warnRecall() < 0.61 {
		t.Errorf("flagged recall %.3f (floor 0.90), precision %.3f (floor 0.98), warning recall %.3f (floor 0.61)",
			all.recall(), all.precision(), all.warnRecall())
	}
	if ratio(edu.fw, edu.benign) > 0.01 || ratio(edu.fp, edu.benign) > 0.05 {
		t.Errorf("education: %d of %d warned (ceiling 1%%), %d flagged (ceiling 5%%)", edu.fw, edu.benign, edu.fp)
	}
}

// TestLaterDevelopmentSets measures the development sets written blind
// after round 2 (dev2: scam words used honestly, education quoting the
// scammer), after round 3 (dev3: education in many voices, retold in plain
// words), after round 4 (dev4: ordinary money talk and notices) and after
// round 5 (dev5: case bulletins in plain words, honest notices about money). Each was tuned on in the round after it was written; its
// first-run figures are in the comments, the floors sit just under the
// figures measured now.
func TestLaterDevelopmentSets(t *testing.T) {
	ix := embeddedIndex(t)
	for _, d := range []struct {
		set                     string
		recall, precision, warn float64 // floors
		eduFlagged, eduWarned   float64 // ceilings
	}{
		// First run (round 2): 0.844 / 0.727, warning 0.533; education 11.0 %
		// flagged, 3.8 % warned. After round 6: 0.956 / 0.920, 0.639; 3.3 %,
		// 1.4 %. After round 7: 0.956 / 0.940, 0.633; 2.4 %, 1.0 %.
		{"dev2", 0.94, 0.97, 0.65, 0.03, 0.015},
		// First run (round 3): 0.958 / 0.517, warning 0.729; education 20.2 %
		// flagged, 8.3 % warned. After round 4: 0.958 / 0.681, 0.729; 9.5 %,
		// 4.9 %. After round 6: 0.958 / 0.687, 0.740; 9.8 %, 5.2 %. After
		// round 7: 0.958 / 0.767, 0.740; 6.1 %, 3.7 %. After round 9:
		// 0.927 / 0.761, 0.750; a signed SMS needs somewhere to go besides a
		// sum, and two of its SMS give links in the reserved .example domain,
		// which the link finder does not read as links.
		{"dev3", 0.90, 0.91, 0.74, 0.065, 0.04},
		// First run (round 4): 0.967 / 0.696, warning 0.744; education 6.7 %
		// flagged, none warned. After round 5: 0.967 / 0.763, 0.733; 6.7 %,
		// 1.0 %. After round 6: 0.967 / 0.784, 0.733; 5.8 %, 1.0 %. After
		// round 7: 0.967 / 0.861, 0.733; 2.9 %, 1.0 %.
		{"dev4", 0.92, 0.95, 0.71, 0.035, 0.015},
		// First run (round 5): 0.978 / 0.710, warning 0.744; education 5.1 %
		// flagged, 1.7 % warned. After round 6: 0.978 / 0.807, 0.744; 2.6 %,
		// none. After round 7: 0.967 / 0.870, 0.733; 0.9 %, none.
		{"dev5", 0.95, 0.96, 0.75, 0.015, 0.005},
	} {
		t.Run(d.set, func(t *testing.T) {
			all, edu := measureSet(t, ix, "testdata/"+d.set+"/scam.tsv", "testdata/"+d.set+"/ordinary.tsv", "testdata/"+d.set+"/education.tsv")
			if all.recall() < d.recall || all.precision() < d.precision || all.warnRecall() < d.warn ||
				ratio(edu.fp, edu.benign) > d.eduFlagged || ratio(edu.fw, edu.benign) > d.eduWarned {
				t.Errorf("%s: recall %.3f (floor %.2f), precision %.3f (floor %.2f), warning recall %.3f (floor %.2f), education %.3f flagged (ceiling %.2f), %.3f warned (ceiling %.2f)",
					d.set, all.recall(), d.recall, all.precision(), d.precision, all.warnRecall(), d.warn, ratio(edu.fp, edu.benign), d.eduFlagged, ratio(edu.fw, edu.benign), d.eduWarned)
			}
		})
	}
}

// TestOwnContentNeverWarns runs every tip, quiz question and explanation
// fanzha posts through the check: the bot must never warn a group about
// itself.
func TestOwnContentNeverWarns(t *testing.T) {
	ix := embeddedIndex(t)
	texts := ownContent(t)
	warned, flagged := 0, 0
	for _, text := range texts {
		v := ix.Check(text)
		if v.Warn {
			warned++
			t.Errorf("would warn about our own content (%s %v): %s", v.Frame, v.Phrases, text)
		}
		if v.Level != LevelNone {
			flagged++
		}
	}
	t.Logf("%d tips, questions and explanations: %d warned, %d flagged", len(texts), warned, flagged)
}

// ownContent is every tip, quiz question and explanation fanzha posts.
func ownContent(t testing.TB) []string {
	t.Helper()
	ix := embeddedIndex(t)
	con, err := loadContent(Embedded(), ix)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, tip := range con.Tips {
		texts = append(texts, tip.Text)
	}
	for _, q := range con.Questions {
		// The question as a counsellor would forward it, without the
		// 【有奖问答】 header that would make it easy.
		posted := q.Q
		if q.TF {
			posted = "判断对错：" + posted
		}
		for i, o := range q.Options {
			posted += fmt.Sprintf("\n%c. %s", 'A'+i, o)
		}
		texts = append(texts, q.Explain, posted)
	}
	return texts
}

// TestBlindHoldouts measures the holdouts written by helpers who never saw
// the knowledge base, each after a round of changes to the matcher, and
// run once when written (and once after each later round). Holdouts 5–10
// were blind through round 6; round 7 read their false alarms together
// with the development sets' and tuned on them, so from round 7 they are
// development sets too, and their first-run figures are the blind ones.
// Holdouts 11 and 12 were written after round 7 and read in round 8;
// holdouts 13 and 14, written after round 8, were read in round 9;
// holdouts 15 and 16, written during round 9 and run once after its last
// change, were read in round 10; holdouts 17 and 18, written during round
// 10, were learned from by round 11's calibration layer; holdouts 19 and
// 20, written during round 11 and run once after its last change, are the
// final blind sets. Floors sit just under the figures measured now.
func TestBlindHoldouts(t *testing.T) {
	ix := embeddedIndex(t)
	for _, h := range []struct {
		set                          string
		recall, precision, eduWarned float64 // floors, and the ceiling of education warned
	}{
		// Written after the first structure layer; first run 0.821 / 0.873,
		// education 3.2 % warned. After round 2 (run once): 0.838 / 0.883,
		// 1.6 % warned. After round 3 (run once): 0.829 / 0.924, none warned.
		// After round 4 (run once): 0.816 / 0.918, none warned. After round 5:
		// 0.812 / 0.922, none warned. After round 6: 0.803 / 0.940, none warned.
		// Tuned on in round 7: 0.803 / 0.974, none warned.
		{"holdout5", 0.78, 0.99, 0.01},
		// Written after round 2; first run 0.853 / 0.867, education 11.8 %
		// flagged and 2.0 % warned. After round 3 (run once): 0.829 / 0.901,
		// education 7.8 % flagged and 2.6 % warned. After round 4 (run once):
		// 0.813 / 0.903, 7.2 % and 2.6 %. After round 5: 0.810 / 0.911, 8.5 %
		// and 3.3 %. After round 6: 0.806 / 0.910, 8.5 % and 3.3 %. Tuned on
		// in round 7: 0.806 / 0.944, 3.3 % and 1.3 %.
		{"holdout6", 0.79, 0.98, 0.015},
		// Written after round 3: first run 0.825 (warning 0.651) / 0.889;
		// education 11.8 % flagged and 3.9 % warned. After round 4 (run
		// once): 0.821 (0.647) / 0.896; 10.7 % and 4.5 %. After round 5:
		// 0.821 (0.647) / 0.881; 10.7 % and 4.5 %. After round 6: 0.813
		// (0.639) / 0.884; 10.1 % and 4.5 %. Tuned on in round 7: 0.810
		// (0.635) / 0.944; 5.1 % and 2.8 %.
		{"holdout7", 0.80, 0.97, 0.03},
		// Written after round 4: first run 0.810 (warning 0.591) / 0.903;
		// education 5.1 % flagged and 2.2 % warned. After round 5 (run once):
		// 0.810 (0.591) / 0.919; 3.9 % and 1.1 %. After round 6: 0.802
		// (0.587) / 0.935; 3.4 % and 1.1 %. Tuned on in round 7: 0.802
		// (0.591) / 0.971; 0.6 % and 0.6 %.
		{"holdout8", 0.80, 0.98, 0.01},
		// Written after round 5: first run 0.833 (warning 0.579) / 0.933;
		// education 4.2 % flagged and 2.1 % warned. After round 6 (run once):
		// 0.833 (0.575) / 0.938; 4.2 % and 2.1 %. Tuned on in round 7: 0.833
		// (0.567) / 0.955; 3.7 % and 2.1 %.
		{"holdout9", 0.81, 0.99, 0.025},
		// Written after round 6: first run 0.865 (warning 0.679) / 0.916;
		// education 6.0 % flagged and 2.7 % warned. Tuned on in round 7:
		// 0.857 (0.671) / 0.939; 2.7 % and 1.6 %.
		{"holdout10", 0.82, 0.96, 0.02},
		// Written after round 7 by two helpers in different voices
		// (holdout 12: rural elders, migrant workers, dialect), first run:
		// holdout 11: 0.800 (warning 0.619) / 0.889; education 6.5 %
		// flagged, 2.5 % warned. Holdout 12: 0.800 (0.604) / 0.915; 6.0 %,
		// 1.5 %. Round 8 read their false alarms (tuned on): holdout 11
		// 0.804 (0.622) / 0.943, 1.0 % and none; holdout 12 0.800 (0.604)
		// / 0.939, 3.5 % and 1.0 %.
		{"holdout11", 0.82, 0.98, 0.005},
		{"holdout12", 0.80, 0.97, 0.015},
		// Written after round 8, the last change to the matcher, by two
		// helpers who never saw the knowledge base (holdout 13: big-city
		// students and young workers; holdout 14: a county town's parents,
		// shopkeepers, retirees and cadres): the final blind figures, run
		// once. Holdout 13: 0.863 (warning 0.641) / 0.928; education 4.0 %
		// flagged, 0.5 % warned. Holdout 14: 0.793 (0.559) / 0.922; 5.0 %,
		// 1.5 %. Round 9 read their false alarms and misses (tuned on):
		// holdout 13 0.889 (0.670) / 0.956, 2.0 % and 0.5 %; holdout 14
		// 0.833 (0.589) / 0.962, 2.0 % and 1.0 %.
		{"holdout13", 0.87, 0.99, 0.01},
		{"holdout14", 0.80, 0.98, 0.015},
		// Written by two more helpers who never saw the knowledge base
		// (holdout 15: a southern factory and logistics district, Cantonese
		// flavour; holdout 16: a northern farming county, voice-to-text
		// typos), run once after round 9's last change. Holdout 15: 0.856
		// (warning 0.607) / 0.924; education 6.0 % flagged, 1.0 % warned.
		// Holdout 16: 0.900 (0.656) / 0.931; 5.0 %, 2.0 %. Round 10 read
		// their false alarms (tuned on): holdout 15 0.856 (0.607) / 0.963,
		// 3.0 % and 0.5 %; holdout 16 0.900 (0.656) / 0.957, 3.0 % and 1.0 %.
		{"holdout15", 0.83, 0.98, 0.01},
		{"holdout16", 0.87, 0.97, 0.015},
		// Written by two more blind helpers (holdout 17: a seaside fishing
		// county, Minnan flavour, grandparents; holdout 18: an inland city's
		// old factory compound and a university town, Sichuan flavour), run
		// once after round 10's last change: the final blind figures.
		// Holdout 17: 0.863 (warning 0.552) / 0.914; education 5.0 %
		// flagged, 1.0 % warned. Holdout 18: 0.874 (0.652) / 0.937; 5.0 %,
		// 2.5 %. Round 11's calibration layer learned from them.
		{"holdout17", 0.82, 0.95, 0.01},
		{"holdout18", 0.84, 0.95, 0.025},
		// Written by two more blind helpers during round 11 (holdout 19: a
		// northeastern city, hospital staff, insurance agents, laid-off
		// workers; holdout 20: southwestern mountain villages, Mandarin as a
		// second language) and run once after its last change, the
		// calibration layer: the final blind figures. Holdout 19: 0.819
		// (warning 0.619) / 0.965; education 1.0 % flagged, none warned.
		// Holdout 20: 0.841 (0.596) / 0.954; 2.5 %, 1.0 %.
		{"holdout19", 0.81, 0.96, 0.005},
		{"holdout20", 0.84, 0.95, 0.01},
	} {
		t.Run(h.set, func(t *testing.T) {
			all, edu := measureSet(t, ix, "testdata/"+h.set+"_scam.tsv", "testdata/"+h.set+"_ordinary.tsv", "testdata/"+h.set+"_education.tsv")
			if all.recall() < h.recall || all.precision() < h.precision || ratio(edu.fw, edu.benign) > h.eduWarned {
				t.Errorf("%s: recall %.3f (floor %.3f), precision %.3f (floor %.3f), education warned %.3f (ceiling %.3f)",
					h.set, all.recall(), h.recall, all.precision(), h.precision, ratio(edu.fw, edu.benign), h.eduWarned)
			}
		})
	}
}
