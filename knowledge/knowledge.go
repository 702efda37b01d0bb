// Package knowledge is fanzha's scam knowledge base and its matcher: scam
// types and universal rules loaded from the YAML files in data/, and Check,
// which tells a person whether a message looks like a scam and why.
package knowledge

import (
	"fmt"
	"strings"
)

// Audiences an entry can matter most for.
var Audiences = map[string]string{
	"elderly":  "老年人",
	"students": "学生",
	"parents":  "家长",
	"finance":  "财会人员",
	"everyone": "所有人",
}

// Entry is one scam type or universal rule.
type Entry struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Kind is "type" (a scam type), "rule" (a universal "凡是…都是诈骗"
	// rule), "context" (benign phrases that lower every score) or "part"
	// (one part of a scam's structure, or of an education post's frame).
	Kind string `yaml:"kind"`
	// Role is a part's role: identity, lure, demand, pressure, channel,
	// safe or frame (see structure.go).
	Role    string `yaml:"role"`
	Summary string `yaml:"summary"`
	// Pattern describes how the scam plays out in real life.
	Pattern   string   `yaml:"pattern"`
	Audiences []string `yaml:"audiences"`
	// Phrases are tell-tale phrases, "phrase" or "phrase=weight" (default 2).
	Phrases []string `yaml:"phrases"`
	// Require lists groups of phrases; the entry scores only if every group
	// has at least one phrase in the message.
	Require [][]string `yaml:"require"`
	// Benign are phrases of ordinary life that lower the score, same syntax.
	Benign []string `yaml:"benign"`
	// Near are gapped pairs, "A|B ~ C|D @8 =2": one of A, B followed within
	// 8 characters by one of C, D adds the weight (default 2). They catch
	// "交两千块罚款" and "提供收到的验证码" without listing every wording.
	Near []string `yaml:"near"`
	// Entities adds weight when the message contains such an entity, by kind.
	Entities map[string]float64 `yaml:"entities"`
	Advice   Advice             `yaml:"advice"`

	file string
	line int
}

// Advice is what to do and what never to do.
type Advice struct {
	Do   []string `yaml:"do"`
	Dont []string `yaml:"dont"`
}

// Location is where the entry was defined, "file:line".
func (e *Entry) Location() string { return fmt.Sprintf("%s:%d", e.file, e.line) }

const defaultWeight = 2

// parsePhrase splits "phrase=weight".
func parsePhrase(s string) (string, float64, error) {
	text, w, ok := strings.Cut(s, "=")
	if !ok {
		return strings.TrimSpace(s), defaultWeight, nil
	}
	var weight float64
	if _, err := fmt.Sscanf(strings.TrimSpace(w), "%g", &weight); err != nil || weight <= 0 || weight > 10 {
		return "", 0, fmt.Errorf("phrase %q: weight must be a number from 0 to 10", s)
	}
	return strings.TrimSpace(text), weight, nil
}

// nearRule is a parsed Near entry.
type nearRule struct {
	left, right []string
	gap         int // characters between the end of left and the start of right
	weight      float64
	display     string
}

// parseNear reads "A|B ~ C|D @8 =2".
func parseNear(s string) (nearRule, error) {
	r := nearRule{gap: 6, weight: defaultWeight, display: s}
	body, w, ok := strings.Cut(s, "=")
	if ok {
		if _, err := fmt.Sscanf(strings.TrimSpace(w), "%g", &r.weight); err != nil || r.weight <= 0 || r.weight > 10 {
			return r, fmt.Errorf("near %q: weight must be a number from 0 to 10", s)
		}
	}
	body, g, ok := strings.Cut(body, "@")
	if ok {
		if _, err := fmt.Sscanf(strings.TrimSpace(g), "%d", &r.gap); err != nil || r.gap < 0 || r.gap > 30 {
			return r, fmt.Errorf("near %q: gap must be 0 to 30 characters", s)
		}
	}
	l, rt, ok := strings.Cut(body, "~")
	if !ok {
		return r, fmt.Errorf("near %q: want \"A|B ~ C|D\"", s)
	}
	split := func(side string) []string {
		var out []string
		for _, p := range strings.Split(side, "|") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	r.left, r.right = split(l), split(rt)
	if len(r.left) == 0 || len(r.right) == 0 {
		return r, fmt.Errorf("near %q: both sides need a phrase", s)
	}
	r.display = r.left[0] + "…" + r.right[0]
	return r, nil
}
