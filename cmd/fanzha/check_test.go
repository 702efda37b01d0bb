package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fanzha/knowledge"
)

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"check", "刷单返利，日结佣金，先垫付后返还"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "高风险") || !strings.Contains(out.String(), "刷单返利") {
		t.Fatalf("human output:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"check"}, nil, &out, &errb); err == nil {
		t.Fatal("check without text succeeded")
	}
}

func TestCheckJSONBatch(t *testing.T) {
	in := strings.Join([]string{
		"刷单返利，日结佣金，先垫付后返还",
		"",
		"明天上午小区停水",
		"积分即将清零，请点击链接兑换 https://t.cn/abc",
		"【反诈提醒】凡是让你点链接兑换积分的短信都是诈骗，如有疑问请拨打96110。",
	}, "\n")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--json"}, strings.NewReader(in), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var got []checkResult
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r checkResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	if len(got) != 4 {
		t.Fatalf("%d results for 4 messages (and one blank line)", len(got))
	}
	if got[0].Level != "high" || got[0].Types[0].ID != "shuadan" || len(got[0].Phrases) == 0 {
		t.Errorf("scam: %+v", got[0])
	}
	if got[1].Level != "none" || got[1].Types == nil || got[1].Entities == nil {
		t.Errorf("ordinary: %+v (lists must be [], not null)", got[1])
	}
	if got[2].Level == "none" || len(got[2].Entities) != 1 || got[2].Entities[0].Kind != "short_url" {
		t.Errorf("phishing: %+v", got[2])
	}
	// The structure is in the output: the frame, whether the group would be
	// warned, the parts found and the pattern that made the verdict.
	if !got[2].Warn || got[2].Frame != "scam" || got[2].Pattern == nil || len(got[2].Parts) < 2 {
		t.Errorf("phishing must warn, with its parts and pattern: %+v", got[2])
	}
	// And how sure the calibration layer is of a flagged structure.
	if got[2].Confidence < 0.5 || got[2].Confidence > 1 || got[1].Confidence != 0 {
		t.Errorf("confidence: phishing %.3f (want above one half), ordinary %.3f (want 0)", got[2].Confidence, got[1].Confidence)
	}
	if got[1].Warn || got[1].Frame != "ordinary" || got[1].Parts == nil {
		t.Errorf("ordinary: %+v (parts must be [], not null)", got[1])
	}
	if got[3].Warn || got[3].Frame != "education" || got[3].Level != "none" || got[3].FrameScore < 4 {
		t.Errorf("an anti-fraud reminder is education, never warned: %+v", got[3])
	}
	// A line too long for the scanner is an error naming the limit, not a silent cut.
	err := run(context.Background(), []string{"check", "--json"}, strings.NewReader(strings.Repeat("骗", maxCheckLine)), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("oversized line: %v", err)
	}
}

// TestCheckJSONInOrder: with several workers, verdicts come out in the
// order of the lines, the same as one worker gives, across chunks.
func TestCheckJSONInOrder(t *testing.T) {
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range []string{"../../knowledge/testdata/scam.tsv", "../../knowledge/testdata/ordinary.txt"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			_, text, found := strings.Cut(l, "\t")
			if !found {
				text = l
			}
			lines = append(lines, text)
		}
	}
	for len(lines) < 3*checkChunk+7 {
		lines = append(lines, lines...)
	}
	in := strings.Join(lines, "\n")
	var one, many bytes.Buffer
	if err := checkLines(kb, strings.NewReader(in), &one, 1); err != nil {
		t.Fatal(err)
	}
	if err := checkLines(kb, strings.NewReader(in), &many, 4); err != nil {
		t.Fatal(err)
	}
	if one.String() != many.String() {
		t.Fatal("four workers gave other output than one")
	}
	n := 0
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	if got := strings.Count(one.String(), "\n"); got != n {
		t.Fatalf("%d verdicts for %d lines", got, n)
	}
	// The first verdict is the first line's.
	first, _, _ := strings.Cut(one.String(), "\n")
	var r checkResult
	if err := json.Unmarshal([]byte(first), &r); err != nil || r.Level != kb.Check(lines[0]).Level.Code() {
		t.Fatalf("first verdict %s for %q", first, lines[0])
	}
}

// TestAppendResultIsEncodingJSON: the hand-written JSON of a verdict is
// byte for byte what encoding/json writes, for every message of the
// development sets and holdouts and for strings that need escaping.
func TestAppendResultIsEncodingJSON(t *testing.T) {
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../knowledge/testdata/*.tsv")
	var texts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if _, text, ok := strings.Cut(l, "\t"); ok {
				texts = append(texts, text)
			}
		}
	}
	if len(texts) < 5000 {
		t.Fatalf("only %d messages found", len(texts))
	}
	tricky := []string{"引号\"和\\反斜杠", "控制\x01字符\x1f\t\n\r\b\f", "坏的\xff\xfeUTF-8", "截断\xe4\xb8", "代理\xed\xa0\x80对", "分隔\u2028与\u2029", "<html>&amp;", ""}
	check := func(r checkResult) {
		t.Helper()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := appendResult(nil, &r); string(got) != want.String() {
			t.Fatalf("\n got: %s\nwant: %s", got, want.String())
		}
	}
	for _, text := range texts {
		check(toResult(kb.Check(text)))
	}
	for _, s := range tricky {
		r := toResult(kb.Check("请点击链接领取 http://a.cn/x 退款"))
		r.Level, r.Phrases = s, append(r.Phrases, s)
		r.Entities = append(r.Entities, knowledge.Entity{Kind: s, Value: s})
		r.Pattern = &knowledge.PatternMatch{ID: s, Name: s, Because: s}
		r.Parts = append(r.Parts, knowledge.PartHit{Role: s, Phrase: s})
		check(r)
	}
	for _, f := range []float64{0, 1, -2.5, 1e-7, 1.5e-9, 1e21, 123456789.125, 0.1 + 0.2} {
		r := toResult(kb.Check("明天上午小区停水"))
		r.FrameScore, r.Confidence = f, f
		check(r)
	}
	// nil lists are null, as encoding/json writes them.
	check(checkResult{Level: "none"})
}

// TestAppendFloatIsEncodingJSON: whole scores take a short cut; every
// figure still reads as encoding/json writes it.
func TestAppendFloatIsEncodingJSON(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, f := range []float64{0, negZero, 1, 6, -3, 2.5, 0.1 + 0.2, 1e-7, 3e-6, 1e15 - 1, 1e15, 1e20, 1e21, -1e21, 123456.75} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("%v: wrote %s, encoding/json %s", f, got, want)
		}
	}
}
