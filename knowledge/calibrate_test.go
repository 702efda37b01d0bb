package knowledge

import (
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

var relearn = flag.Bool("calibrate", false, "learn the calibration layer's weights and rewrite data/"+calibrationFile)

// calibrationSets are the sets the layer learns from: the development sets,
// the holdouts already read, and fanzha's own content. The newest blind
// holdouts are never among them.
func calibrationSets(t testing.TB) (scams, benign []labelled) {
	t.Helper()
	var scamFiles, benignFiles []string
	for _, d := range []string{"dev", "dev2", "dev3", "dev4", "dev5"} {
		m, _ := filepath.Glob("testdata/" + d + "/scam*.tsv")
		scamFiles = append(scamFiles, m...)
		benignFiles = append(benignFiles, "testdata/"+d+"/ordinary.tsv", "testdata/"+d+"/education.tsv")
	}
	for n := 5; n <= lastReadHoldout; n++ {
		h := fmt.Sprintf("testdata/holdout%d_", n)
		scamFiles = append(scamFiles, h+"scam.tsv")
		benignFiles = append(benignFiles, h+"ordinary.tsv", h+"education.tsv")
	}
	// The phrase matcher's labelled set and holdouts 1-4.
	for _, l := range readLines(t, "testdata/scam.tsv") {
		_, text, _ := strings.Cut(l, "\t")
		scams = append(scams, labelled{label: "scam", text: text})
	}
	for _, f := range []string{"holdout_scam.txt", "holdout2_scam.txt", "holdout3_scam.txt", "holdout4_scam.txt"} {
		for _, text := range readLines(t, "testdata/"+f) {
			scams = append(scams, labelled{label: "scam", text: text})
		}
	}
	for _, f := range []string{"ordinary.txt", "holdout_ordinary.txt", "holdout2_ordinary.txt", "holdout3_ordinary.txt", "holdout4_ordinary.txt"} {
		for _, text := range readLines(t, "testdata/"+f) {
			benign = append(benign, labelled{label: "ordinary", text: text})
		}
	}
	for _, f := range scamFiles {
		scams = append(scams, readTSV(t, f)...)
	}
	for _, f := range benignFiles {
		benign = append(benign, readTSV(t, f)...)
	}
	for _, text := range ownContent(t) {
		benign = append(benign, labelled{label: "own", text: text})
	}
	return scams, benign
}

// lastReadHoldout is the newest holdout whose mistakes have been read; the
// layer may learn from it and from every one before.
const lastReadHoldout = 18

// sample is one flagged verdict: its features and whether it was a scam.
type sample struct {
	idx  []int
	val  []float64
	scam bool
}

func flaggedSamples(ix *Index, scams, benign []labelled) []sample {
	var out []sample
	add := func(m labelled, scam bool) {
		v := ix.Check(m.text)
		if v.Level == LevelNone {
			return
		}
		var s sample
		s.scam = scam
		ix.features(v.cal, func(i int, x float64) {
			s.idx = append(s.idx, i)
			s.val = append(s.val, x)
		})
		out = append(out, s)
	}
	for _, m := range scams {
		add(m, true)
	}
	for _, m := range benign {
		add(m, false)
	}
	return out
}

// learn fits an L2-regularised logistic regression by gradient descent.
// Honest messages weigh more than scams, as rare as they are among the
// flagged, so that the layer learns their combinations at all.
func learn(samples []sample, n int, lambda, benignWeight float64) []float64 {
	w := make([]float64, n)
	g := make([]float64, n)
	m2 := make([]float64, n) // Adagrad accumulators
	const rate, rounds = 0.5, 1500
	var total float64
	for _, s := range samples {
		if s.scam {
			total++
		} else {
			total += benignWeight
		}
	}
	for r := 0; r < rounds; r++ {
		clear(g)
		for _, s := range samples {
			z := 0.0
			for k, i := range s.idx {
				z += w[i] * s.val[k]
			}
			p := 1 / (1 + math.Exp(-z))
			y, weight := 0.0, benignWeight
			if s.scam {
				y, weight = 1, 1
			}
			d := weight * (p - y) / total
			for k, i := range s.idx {
				g[i] += d * s.val[k]
			}
		}
		for i := range w {
			g[i] += lambda * w[i] / total
			m2[i] += g[i] * g[i]
			if m2[i] > 0 {
				w[i] -= rate * g[i] / math.Sqrt(m2[i]+1e-12)
			}
		}
	}
	return w
}

// calibrationLambda and calibrationBenignWeight: regularisation keeps a
// part seen in three honest messages from outweighing everything; honest
// messages count twice.
const (
	calibrationLambda       = 2.0
	calibrationBenignWeight = 2.0
	// calibrationRecallCost: the cut lets go of at most this share of the
	// flagged scams the layer learned from.
	calibrationRecallCost = 0.025
)

// TestCalibrationFile learns the calibration layer's weights from
// calibrationSets and checks that the shipped file is exactly what that
// gives, so the layer can always be rebuilt by the command in its header;
// with -calibrate it writes the file.
func TestCalibrationFile(t *testing.T) {
	ix := embeddedIndex(t)
	if ix.cal == nil && !*relearn {
		t.Fatalf("no calibration layer: data/%s is missing (go test ./knowledge -run TestCalibrationFile -calibrate)", calibrationFile)
	}
	ix.uncalibrated = true
	scams, benign := calibrationSets(t)
	samples := flaggedSamples(ix, scams, benign)
	names := ix.featureNames()
	w := learn(samples, len(names), calibrationLambda, calibrationBenignWeight)
	// The cut: the highest threshold that lets go of no more than
	// calibrationRecallCost of the flagged scams.
	var ps []float64
	for _, s := range samples {
		if s.scam {
			z := 0.0
			for k, i := range s.idx {
				z += w[i] * s.val[k]
			}
			ps = append(ps, 1/(1+math.Exp(-z)))
		}
	}
	sort.Float64s(ps)
	threshold := ps[int(calibrationRecallCost*float64(len(ps)))]
	var b strings.Builder
	fmt.Fprintf(&b, "# Calibration layer weights, learned by go test ./knowledge -run TestCalibrationFile -calibrate\n")
	fmt.Fprintf(&b, "# from %d flagged verdicts of the development sets, the labelled set, holdouts 1-%d and fanzha's own content.\n", len(samples), lastReadHoldout)
	fmt.Fprintf(&b, "# threshold\t%.4f\n", threshold)
	for i, n := range names {
		if math.Abs(w[i]) >= 0.001 {
			fmt.Fprintf(&b, "%s\t%.4f\n", n, w[i])
		}
	}
	path := filepath.Join("data", calibrationFile)
	if !*relearn {
		shipped, err := os.ReadFile(path)
		if err != nil || string(shipped) != b.String() {
			t.Fatalf("data/%s is not what learning from the sets gives now (the knowledge base or a set changed): go test ./knowledge -run TestCalibrationFile -calibrate", calibrationFile)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("learned from %d flagged verdicts; threshold %.4f", len(samples), threshold)
}

// withWeights is the embedded knowledge base with the weights file
// replaced.
func withWeights(t *testing.T, weights string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(Embedded(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Embedded(), path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m[calibrationFile] = &fstest.MapFile{Data: []byte(weights)}
	return m
}

func TestBrokenCalibrationIsRefused(t *testing.T) {
	for _, tt := range []struct{ name, weights, want string }{
		{"not a number", "x:bias\tlots\n", "weights.tsv:1"},
		{"a part the base no longer has", "x:bias\t0.1\npart:id_martian\t1\n", "weights.tsv:2"},
		{"threshold out of range", "# threshold\t1.5\n", "weights.tsv:1"},
	} {
		_, err := Load(withWeights(t, tt.weights))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want it to name %s", tt.name, err, tt.want)
		}
	}
}

// TestCalibrationLetsGoOnlyOfWhatHonestMessagesMake: with a layer that
// distrusts everything, an honest-looking structure is let go, but a demand
// for the code or the screen still stands; the verdict reports the layer's
// confidence.
func TestCalibrationLetsGoOnlyOfWhatHonestMessagesMake(t *testing.T) {
	ix, err := Load(withWeights(t, "# threshold\t0.5\nx:bias\t-5\n"))
	if err != nil {
		t.Fatal(err)
	}
	refund := ix.Check("您好，我是淘宝客服，您买的商品有质量问题，给您办理三倍赔偿，请联系理赔专员")
	if refund.Level != LevelNone || refund.Confidence == 0 || refund.Confidence >= 0.5 {
		t.Errorf("refund offer: level %s, confidence %.3f; want it let go below 0.5", refund.Level, refund.Confidence)
	}
	screen := ix.Check("您好，我是淘宝客服，请下载会议软件开启屏幕共享，我远程帮您操作退款")
	if screen.Level != LevelHigh || !screen.Warn {
		t.Errorf("screen share: level %s, warn %v; a demand for the screen must stand", screen.Level, screen.Warn)
	}
	shipped := embeddedIndex(t).Check("您好，我是淘宝客服，您买的商品有质量问题，给您办理三倍赔偿，请联系理赔专员")
	if shipped.Level == LevelNone || shipped.Confidence <= 0 {
		t.Errorf("shipped layer: level %s, confidence %.3f; want a flagged refund offer with its confidence", shipped.Level, shipped.Confidence)
	}
}

// TestOldKnowledgeFolderGetsTheBuiltInLayer: a knowledge folder copied
// before the calibration layer existed has no weights file; it gets the
// built-in weights when they fit it, and loads without a layer when they do
// not, rather than refusing to load.
func TestOldKnowledgeFolderGetsTheBuiltInLayer(t *testing.T) {
	old := withWeights(t, "")
	delete(old, calibrationFile)
	ix, err := Load(old)
	if err != nil || !ix.Calibrated() {
		t.Fatalf("a folder without weights: err %v, calibrated %v; want the built-in layer", err, ix != nil && ix.Calibrated())
	}
	// A folder whose parts differ from the built-in weights' (one part
	// renamed) loads, without a layer.
	parts := string(old["parts.yaml"].Data)
	old["parts.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(parts, "- id: safe_family\n", "- id: safe_relatives\n", 1))}
	patterns := string(old["patterns/patterns.yaml"].Data)
	old["patterns/patterns.yaml"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(patterns, "safe_family", "safe_relatives"))}
	ix, err = Load(old)
	if err != nil || ix.Calibrated() {
		t.Fatalf("a folder the weights do not fit: err %v, calibrated %v; want it loaded without a layer", err, ix != nil && ix.Calibrated())
	}
}
