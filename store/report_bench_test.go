package store_test

import (
	"context"
	"testing"
	"time"

	"fanzha/report"
)

// BenchmarkWeekReport builds the admin overview — every group's week, every
// village's reach this week and since the campaign began, rankings — over
// 1,000,000 participation events in 2,000 groups of 200 villages.
func BenchmarkWeekReport(b *testing.B) {
	ctx := context.Background()
	db := open(b, "")
	cst, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, cst) // a Monday, 12 weeks before
	end := start.AddDate(0, 0, 7*12)
	if err := db.SeedForBenchmark(ctx, 200, 2000, 100000, 1_000_000, start, end); err != nil {
		b.Fatal(err)
	}
	week := end.AddDate(0, 0, -7)
	c := report.Campaign{Start: start, Targets: map[string]float64{"2026-11": 25}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := report.Week(ctx, report.Source{Groups: db.Groups(), Stats: db.Stats()}, report.Scope{All: true}, week, c)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Groups) != 2000 || len(r.Units) != 200 || r.Units[0].ReachedTotal == 0 {
			b.Fatalf("report has %d groups, %d units", len(r.Groups), len(r.Units))
		}
	}
}
