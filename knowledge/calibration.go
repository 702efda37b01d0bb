package knowledge

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// The calibration layer: a logistic regression over the structure a verdict
// was made of — which parts were found, which pattern fired, the level, the
// frame weight, whether there is a live channel — learned from the
// development sets and tuned holdouts (go test ./knowledge -run
// TestCalibrationFile -calibrate). It sees no words, only structure, so it
// does not learn a writer's style; it learns which combinations honest
// messages also make. A flagged verdict whose combination honest messages
// make more often than scams is let go.

// calibrationFile holds the weights, one "feature<TAB>weight" per line;
// "# threshold<TAB>t" sets the cut.
const calibrationFile = "calibration/weights.tsv"

// Features besides the part bits and the patterns.
var extraFeatures = [numExtra]string{"bias", "type_only", "high", "frame", "live", "signed", "short", "long", "type_score", "parts"}

const (
	featBias = iota
	featTypeOnly
	featHigh
	featFrame
	featLive
	featSigned
	featShort
	featLong
	featTypeScore
	featParts
	numExtra
)

// calibration is the compiled layer: weights by part bit, by pattern index
// and for the extra features.
type calibration struct {
	part      [maxParts]float64
	pattern   []float64
	extra     [numExtra]float64
	threshold float64
}

// features calls f for every non-zero feature of a flagged verdict: the
// index (parts, then patterns, then extras) and the value.
func (ix *Index) features(in calInput, f func(i int, x float64)) {
	parts, best, level, edu, live, signed, runes, typeScore := in.parts, in.best, in.level, in.edu, in.live, in.signed, in.runes, in.typeScore
	np := len(ix.structure.patterns)
	extra := func(k int, x float64) { f(maxParts+np+k, x) }
	extra(featBias, 1)
	for p := parts; p != 0; p &= p - 1 {
		f(bits.TrailingZeros64(p), 1)
	}
	if best >= 0 {
		f(maxParts+best, 1)
	} else {
		extra(featTypeOnly, 1)
	}
	if level == LevelHigh {
		extra(featHigh, 1)
	}
	if edu > 0 {
		extra(featFrame, min(edu, 2*eduThreshold)/eduThreshold)
	}
	if live {
		extra(featLive, 1)
	}
	if signed {
		extra(featSigned, 1)
	}
	switch {
	case runes < 25:
		extra(featShort, 1)
	case runes > 150:
		extra(featLong, 1)
	}
	if typeScore > 0 {
		extra(featTypeScore, min(typeScore, 20)/10)
	}
	extra(featParts, float64(bits.OnesCount64(parts))/5)
}

// featureNames lists the names of every feature index, as the weights file
// spells them.
func (ix *Index) featureNames() []string {
	st := &ix.structure
	names := make([]string, 0, maxParts+len(st.patterns)+len(extraFeatures))
	for b := 0; b < maxParts; b++ {
		name := fmt.Sprintf("part:unused%d", b)
		if b < len(st.partEntry) {
			name = "part:" + ix.Entries[st.partEntry[b]].ID
		}
		names = append(names, name)
	}
	for _, p := range st.patterns {
		names = append(names, "pattern:"+p.ID)
	}
	for _, e := range extraFeatures {
		names = append(names, "x:"+e)
	}
	return names
}

// loadCalibration reads the weights file. A feature the knowledge base no
// longer has is an error naming the line: weights learned for other parts
// would judge wrongly. A knowledge folder copied before the layer existed
// has no weights file; it gets the built-in weights when they fit its parts
// and patterns, and no layer when they do not (Index.Calibrated).
func (ix *Index) loadCalibration(fsys fs.FS) error {
	b, err := fs.ReadFile(fsys, calibrationFile)
	if err != nil {
		builtin, err := fs.ReadFile(Embedded(), calibrationFile)
		if err != nil || ix.parseCalibration(builtin) != nil {
			ix.cal = nil
		}
		return nil
	}
	return ix.parseCalibration(b)
}

// Calibrated reports whether the calibration layer is on.
func (ix *Index) Calibrated() bool { return ix.cal != nil }

// parseCalibration reads a weights file into the index's layer.
func (ix *Index) parseCalibration(b []byte) error {
	names := ix.featureNames()
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	c := &calibration{pattern: make([]float64, len(ix.structure.patterns)), threshold: 0.5}
	np := len(ix.structure.patterns)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(text, "# "), "\t")
		if strings.HasPrefix(text, "#") && name != "threshold" {
			continue
		}
		w, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return &LoadError{File: calibrationFile, Line: line, Msg: "want feature<TAB>weight"}
		}
		if name == "threshold" {
			if w <= 0 || w >= 1 {
				return &LoadError{File: calibrationFile, Line: line, Msg: "threshold must lie between 0 and 1"}
			}
			c.threshold = w
			continue
		}
		i, ok := index[name]
		if !ok {
			return &LoadError{File: calibrationFile, Line: line, Msg: fmt.Sprintf("unknown feature %q: the knowledge base changed; relearn the weights", name)}
		}
		switch {
		case i < maxParts:
			c.part[i] = w
		case i < maxParts+np:
			c.pattern[i-maxParts] = w
		default:
			c.extra[i-maxParts-np] = w
		}
	}
	ix.cal = c
	return nil
}

// calInput is what the calibration layer reads of a flagged verdict.
type calInput struct {
	parts      uint64
	best       int
	level      Level
	edu        float64
	live       bool
	signed     bool
	runes      int
	typeScore  float64
	calibrated bool // the layer ran
}

// score is the calibrated probability that a flagged verdict is a scam.
func (c *calibration) score(ix *Index, in calInput) float64 {
	z := 0.0
	np := len(ix.structure.patterns)
	ix.features(in, func(i int, x float64) {
		switch {
		case i < maxParts:
			z += c.part[i] * x
		case i < maxParts+np:
			z += c.pattern[i-maxParts] * x
		default:
			z += c.extra[i-maxParts-np] * x
		}
	})
	return 1 / (1 + math.Exp(-z))
}
