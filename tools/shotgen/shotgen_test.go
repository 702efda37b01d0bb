package main

import (
	"bufio"
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	shotsDir = "../../media/testdata/shots"
	dataDir  = "../../knowledge/testdata"
)

// sourceLines returns the lines of a source file (index 0 is line 1).
func sourceLines(t *testing.T, cache map[string][]string, rel string) []string {
	t.Helper()
	if ls, ok := cache[rel]; ok {
		return ls
	}
	b, err := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("source %s: %v", rel, err)
	}
	var ls []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ls = append(ls, strings.TrimSuffix(sc.Text(), "\r"))
	}
	cache[rel] = ls
	return ls
}

func TestManifest(t *testing.T) {
	f, err := os.Open(filepath.Join(shotsDir, "manifest.tsv"))
	if err != nil {
		t.Fatalf("manifest: %v (run: go run ./tools/shotgen)", err)
	}
	defer f.Close()

	cache := map[string][]string{}
	cats := map[string]int{}
	styles := map[string]int{}
	modes := map[string]int{}
	widths := map[int]int{}
	seen := map[string]bool{}
	rows := 0

	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 6 {
			t.Errorf("manifest:%d: %d columns, want 6", n, len(cols))
			continue
		}
		file, source, style, mode, widthStr, text := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
		rows++
		if seen[file] {
			t.Errorf("manifest:%d: duplicate file %s", n, file)
		}
		seen[file] = true

		// The image exists, decodes, and has the stated width.
		width, err := strconv.Atoi(widthStr)
		if err != nil || (width != 390 && width != 1080) {
			t.Errorf("manifest:%d: width %q, want 390 or 1080", n, widthStr)
		}
		img, err := os.Open(filepath.Join(shotsDir, file))
		if err != nil {
			t.Errorf("manifest:%d: %v", n, err)
		} else {
			cfg, format, err := image.DecodeConfig(img)
			img.Close()
			ext := strings.ToLower(filepath.Ext(file))
			switch {
			case err != nil:
				t.Errorf("%s: decode: %v", file, err)
			case !(format == "png" && ext == ".png") && !(format == "jpeg" && ext == ".jpg"):
				t.Errorf("%s: format %s does not match the extension", file, format)
			case cfg.Width != width:
				t.Errorf("%s: pixel width %d, manifest says %d", file, cfg.Width, width)
			case cfg.Height < 200 || cfg.Height > 6000:
				t.Errorf("%s: implausible height %d", file, cfg.Height)
			}
		}

		// The text is exactly the text column of the named source line.
		rel, lineStr, ok := strings.Cut(source, ":")
		ln, err := strconv.Atoi(lineStr)
		if !ok || err != nil || ln < 1 {
			t.Errorf("manifest:%d: bad source %q", n, source)
			continue
		}
		ls := sourceLines(t, cache, rel)
		if ln > len(ls) {
			t.Errorf("manifest:%d: %s has only %d lines", n, rel, len(ls))
			continue
		}
		src := ls[ln-1]
		if strings.HasPrefix(src, "#") {
			t.Errorf("manifest:%d: %s is a comment line", n, source)
			continue
		}
		srcCols := strings.Split(src, "\t")
		if got := srcCols[len(srcCols)-1]; got != text {
			t.Errorf("manifest:%d: text differs from %s:\n got %q\nwant %q", n, source, text, got)
		}

		switch base := filepath.Base(rel); {
		case strings.HasPrefix(base, "scam"):
			cats["scam"]++
		case strings.HasPrefix(base, "ordinary"):
			cats["ordinary"]++
		case strings.HasPrefix(base, "education"):
			cats["education"]++
		default:
			t.Errorf("manifest:%d: unknown source kind %s", n, rel)
		}
		styles[style]++
		modes[mode]++
		widths[width]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	if rows < 60 {
		t.Errorf("%d rows, want at least 60", rows)
	}
	for cat, min := range map[string]int{"scam": 30, "ordinary": 10, "education": 10} {
		if cats[cat] < min {
			t.Errorf("%d %s rows, want at least %d", cats[cat], cat, min)
		}
	}
	for _, s := range []string{"sms", "wechat", "poster"} {
		if styles[s] == 0 {
			t.Errorf("no %s images", s)
		}
	}
	for s := range styles {
		if s != "sms" && s != "wechat" && s != "poster" {
			t.Errorf("unknown style %q", s)
		}
	}
	for _, m := range []string{"light", "dark"} {
		if modes[m] == 0 {
			t.Errorf("no %s images", m)
		}
	}
	for m := range modes {
		if m != "light" && m != "dark" {
			t.Errorf("unknown mode %q", m)
		}
	}
	if widths[390] == 0 || widths[1080] == 0 {
		t.Errorf("widths %v, want both 390 and 1080", widths)
	}
	t.Logf("%d rows: %v %v %v %v", rows, cats, styles, modes, widths)
}

// TestSelection checks the message selection without rendering anything.
func TestSelection(t *testing.T) {
	shots, err := selectShots(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := selectShots(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(shots) != len(again) {
		t.Fatalf("selection is not deterministic: %d vs %d", len(shots), len(again))
	}
	families := map[string]bool{}
	for i, s := range shots {
		if *s != *again[i] {
			t.Errorf("selection is not deterministic at %d: %+v vs %+v", i, *s, *again[i])
		}
		if !usable(s.Text) {
			t.Errorf("%s: text not usable: %q", s.File, s.Text)
		}
		if s.Cat == "scam" {
			families[s.Label] = true
		}
	}
	if len(families) < 15 {
		t.Errorf("scams cover %d families, want at least 15", len(families))
	}
}

func TestLinkify(t *testing.T) {
	got := string(linkify(`点<b> t.cn/A6xQ2mKp 或致电136-2817-0493，余额1,200.00元`, true))
	want := `点&lt;b&gt; <span class="link">t.cn/A6xQ2mKp</span> 或致电<span class="link">136-2817-0493</span>，余额1,200.00元`
	if got != want {
		t.Errorf("linkify:\n got %s\nwant %s", got, want)
	}
}
