package scamcheck_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fanzha/handlers/scamcheck"
	"fanzha/knowledge"
	"fanzha/media"
)

// shotsDir holds the screenshot set, made by tools/shotgen.
const shotsDir = "../../media/testdata/shots"

// shot is one screenshot of the test set and the message it shows.
type shot struct {
	file, source, style, mode, width, text string
}

func loadShots(t testing.TB) []shot {
	t.Helper()
	f, err := os.Open(filepath.Join(shotsDir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []shot
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 6 {
			t.Fatalf("manifest line %q: want 6 columns", sc.Text())
		}
		out = append(out, shot{c[0], c[1], c[2], c[3], c[4], c[5]})
	}
	return out
}

func ocrReader(t testing.TB) *media.Reader {
	t.Helper()
	r, err := media.NewReader()
	if err != nil {
		if _, lerr := exec.LookPath("tesseract"); lerr != nil && os.Getenv("FANZHA_REQUIRE_OCR") == "" {
			t.Skip("tesseract not installed: ", err)
		}
		t.Fatal(err)
	}
	return r
}

// minShotAgreement is the share of screenshots whose verdict level read
// from the picture equals the level of the message typed (README).
const minShotAgreement = 0.90

// TestScreenshotsAgreeWithText renders nothing: it reads each screenshot
// of media/testdata/shots (rendered by tools/shotgen from development
// messages: SMS app, chat, poster; light and dark; 390 and 1080 px) and
// checks that the picture gets the verdict level its text gets.
func TestScreenshotsAgreeWithText(t *testing.T) {
	r := ocrReader(t)
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	shots := loadShots(t)
	pool := media.NewPool(r, 2, len(shots))
	defer pool.Close()
	type outcome struct {
		read string
		err  error
	}
	results := make([]outcome, len(shots))
	var wg sync.WaitGroup
	for i, s := range shots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := os.ReadFile(filepath.Join(shotsDir, s.file))
			if err != nil {
				results[i].err = err
				return
			}
			res, err := pool.Read(context.Background(), data)
			if err != nil {
				results[i].err = err
				return
			}
			results[i].read = scamcheck.PictureText(res)
		}()
	}
	wg.Wait()
	agree := 0
	byKind := map[string][2]int{}
	for i, s := range shots {
		if results[i].err != nil {
			t.Errorf("%s: %v", s.file, results[i].err)
			continue
		}
		want, got := kb.Check(s.text).Level.Code(), kb.Check(results[i].read).Level.Code()
		k := byKind[s.style+"/"+s.mode]
		k[1]++
		if want == got {
			agree++
			k[0]++
		} else {
			t.Logf("%s: typed %s, read %s: %q", s.file, want, got, results[i].read)
		}
		byKind[s.style+"/"+s.mode] = k
	}
	var kinds []string
	for k, v := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s %d/%d", k, v[0], v[1]))
	}
	sort.Strings(kinds)
	share := float64(agree) / float64(len(shots))
	t.Logf("same level from the picture as from the text: %d of %d (%.3f); %s", agree, len(shots), share, strings.Join(kinds, ", "))
	if len(shots) < 60 {
		t.Errorf("only %d screenshots; the set has at least 60", len(shots))
	}
	if share < minShotAgreement {
		t.Errorf("agreement %.3f < %.2f", share, minShotAgreement)
	}
}

// BenchmarkReadScreenshots reads the whole screenshot set through a pool
// of one worker per core, as the bot does, and reports pictures per second
// and the 95th-percentile time of one picture (queueing included).
func BenchmarkReadScreenshots(b *testing.B) {
	r := ocrReader(b)
	shots := loadShots(b)
	var data [][]byte
	for _, s := range shots {
		d, err := os.ReadFile(filepath.Join(shotsDir, s.file))
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	workers := max(1, runtimeCPU())
	pool := media.NewPool(r, workers, len(data))
	defer pool.Close()
	var lat []time.Duration
	var mu sync.Mutex
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, workers) // a steady stream, not one burst
		for _, d := range data {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				if _, err := pool.Read(context.Background(), d); err != nil {
					b.Error(err)
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "images/s")
	b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "p95-ms")
}

func runtimeCPU() int { return runtime.NumCPU() }
