package store_test

import (
	"context"
	"testing"
	"time"

	"fanzha/report"
	"fanzha/store"
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

// BenchmarkDistrictOverview builds the admin overview of a district —
// 5,000 groups in 250 villages, 100 members each — at two points of one
// campaign with the same weekly activity: five weeks in (1M events, 20k
// sent tips, 2k quiz rounds) and a year in (10M events, 200k tips, 20k
// rounds). The report of the last week should cost about the same at both.
// Seeding 10M events takes a few minutes: run it on its own with
// -bench 'DistrictOverview/events=10M'.
func BenchmarkDistrictOverview(b *testing.B) {
	for _, size := range []struct {
		name  string
		weeks int
		scale int
	}{{"events=1M", 5, 1}, {"events=10M", 52, 10}} {
		b.Run(size.name, func(b *testing.B) {
			ctx := context.Background()
			db := open(b, "")
			cst, _ := time.LoadLocation("Asia/Shanghai")
			end := time.Date(2026, 11, 23, 0, 0, 0, 0, cst) // a Monday
			start := end.AddDate(0, 0, -7*size.weeks)
			if _, err := db.SetRollupZone(ctx, cst); err != nil {
				b.Fatal(err)
			}
			// 10M events in a year is about 192k a week; five weeks of it
			// is 0.96M, rounded to 1M.
			if err := db.SeedDistrict(ctx, store.District{Villages: 250, Groups: 5000, MembersPerGroup: 100,
				Events: size.scale * 1_000_000, Posts: size.scale * 20_000, Rounds: size.scale * 2_000, From: start, To: end}); err != nil {
				b.Fatal(err)
			}
			week := end.AddDate(0, 0, -7)
			c := report.Campaign{Start: time.Time{}, Targets: map[string]float64{"2026-11": 25}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := report.Week(ctx, report.Source{Groups: db.Groups(), Stats: db.Stats()}, report.Scope{All: true}, week, c)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Groups) != 5000 || len(r.Units) != 250 || r.Units[0].ReachedTotal == 0 {
					b.Fatalf("report has %d groups, %d units", len(r.Groups), len(r.Units))
				}
			}
		})
	}
}
