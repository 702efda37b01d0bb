package media

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func sim(a, b string) float64 {
	ra, rb := []rune(strings.Join(strings.Fields(a), "")), []rune(strings.Join(strings.Fields(b), ""))
	// LCS ratio
	dp := make([]int, len(rb)+1)
	for i := 1; i <= len(ra); i++ {
		prev := 0
		for j := 1; j <= len(rb); j++ {
			tmp := dp[j]
			if ra[i-1] == rb[j-1] {
				dp[j] = prev + 1
			} else if dp[j-1] > dp[j] {
				dp[j] = dp[j-1]
			}
			prev = tmp
		}
	}
	return float64(dp[len(rb)]) / float64(max(len(ra), len(rb)))
}

func TestZZTune(t *testing.T) {
	if v := os.Getenv("ZZ_W"); v != "" {
		targetWidth, _ = strconv.ParseFloat(v, 64)
	}
	r, _ := NewReader()
	if v := os.Getenv("ZZ_LANG"); v != "" {
		r.langs = v
	}
	files, _ := filepath.Glob("/tmp/tune/m*.png")
	var tot float64
	for _, f := range files {
		data, _ := os.ReadFile(f)
		want, _ := os.ReadFile(strings.TrimSuffix(f, ".png") + ".txt")
		res, err := r.Read(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		s := sim(string(want), res.Text)
		tot += s
		if os.Getenv("ZZ_V") != "" {
			t.Logf("%s %.2f %q", filepath.Base(f), s, res.Text)
		}
	}
	t.Logf("W=%v mean sim %.3f", targetWidth, tot/float64(len(files)))
}
