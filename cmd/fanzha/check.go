package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"fanzha/knowledge"
)

// checkResult is one line of `fanzha check --json`.
type checkResult struct {
	Level string `json:"level"` // high, suspicious or none
	// Warn: would the unrequested group warning fire. Frame: scam,
	// education or ordinary.
	Warn       bool                    `json:"warn"`
	Frame      string                  `json:"frame"`
	FrameScore float64                 `json:"frame_score"` // weight of education evidence
	Parts      []knowledge.PartHit     `json:"parts"`
	Pattern    *knowledge.PatternMatch `json:"pattern,omitempty"`
	Types      []checkType             `json:"types"`
	Phrases    []string                `json:"phrases"`
	Entities   []knowledge.Entity      `json:"entities"`
	Error      string                  `json:"error,omitempty"`
}

type checkType struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// maxCheckLine bounds one line of batch input; longer lines are reported,
// not truncated silently.
const maxCheckLine = 64 << 10

// runCheck implements `fanzha check "text"` (a verdict a person reads) and
// `fanzha check --json < messages.txt` (one JSON object per input line).
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "read one message per line from stdin, write one JSON object per line")
	dir := fs.String("knowledge", "", "knowledge directory (default: the built-in knowledge)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kb, err := knowledge.Open(*dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	if !*asJSON {
		text := strings.Join(fs.Args(), " ")
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf(`usage: fanzha check "message text"  or  fanzha check --json < messages.txt`)
		}
		fmt.Fprintln(stdout, kb.Check(text).Text())
		return nil
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxCheckLine)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := enc.Encode(toResult(kb.Check(line))); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading messages: %w (one message per line, at most %d bytes)", err, maxCheckLine)
	}
	return nil
}

func toResult(v knowledge.Verdict) checkResult {
	r := checkResult{Level: v.Level.Code(), Warn: v.Warn, Frame: v.Frame, FrameScore: v.FrameScore, Parts: v.Parts, Pattern: v.Pattern,
		Types: []checkType{}, Phrases: v.Phrases, Entities: v.Entities}
	if r.Parts == nil {
		r.Parts = []knowledge.PartHit{}
	}
	if r.Phrases == nil {
		r.Phrases = []string{}
	}
	if r.Entities == nil {
		r.Entities = []knowledge.Entity{}
	}
	for _, t := range v.Types {
		r.Types = append(r.Types, checkType{ID: t.ID, Name: t.Name, Score: t.Score})
	}
	return r
}
