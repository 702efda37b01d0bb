package report

import (
	"testing"

	"fanzha/bot"
)

// TestRankSharesTiesAndLeavesOutUnitsWithoutPopulation: equal coverage
// shares a rank; a unit with no population is not ranked and never among
// the bottom three.
func TestRankSharesTiesAndLeavesOutUnitsWithoutPopulation(t *testing.T) {
	u := func(name string, pop int, cov float64) UnitRow {
		return UnitRow{Unit: bot.OrgUnit{Name: name, Population: pop}, Coverage: cov}
	}
	us := []UnitRow{u("甲村", 100, 10), u("乙村", 0, 0), u("丙村", 100, 20), u("丁村", 100, 10), u("戊村", 100, 5), u("己村", 100, 1)}
	rank(us)
	got := map[string]UnitRow{}
	for _, r := range us {
		got[r.Unit.Name] = r
	}
	for name, want := range map[string]int{"丙村": 1, "甲村": 2, "丁村": 2, "戊村": 4, "己村": 5, "乙村": 0} {
		if got[name].Rank != want {
			t.Errorf("%s ranked %d; want %d", name, got[name].Rank, want)
		}
	}
	// 甲村 and 丁村 tie on the third place from last: both are named.
	if got["乙村"].Bottom || !got["己村"].Bottom || !got["戊村"].Bottom || !got["丁村"].Bottom || !got["甲村"].Bottom || got["丙村"].Bottom {
		t.Errorf("bottom three: %+v", us)
	}
}
