// Package report computes the figures the campaign asks for: per group and
// per village, community or school, per week, with compliance to the
// twice-a-week rule, coverage against population targets, rankings and the
// bottom three. It applies the viewer's scope before anything is counted.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"fanzha/bot"
)

// RequiredTips is how many tips a group must get a week.
const RequiredTips = 2

// Source is what reports are computed from: the groups and the read-only
// statistics (the store provides both).
type Source struct {
	Groups bot.GroupStore
	Stats  bot.StatsStore
}

// Scope is what a viewer may see.
type Scope struct {
	// All: a top-level admin.
	All bool
	// Units: an admin of an org unit sees it and everything below it.
	Units map[int64]bool
	// Member: a counsellor sees the groups this member bound, nothing else.
	Member int64
}

// Group reports whether g is in scope.
func (s Scope) Group(g *bot.Group) bool {
	switch {
	case s.All:
		return true
	case s.Member != 0:
		return g.BoundBy == s.Member
	case g.OrgUnit != nil:
		return s.Units[g.OrgUnit.ID]
	}
	return false
}

// Unit reports whether unit figures may be shown. Counsellors see their
// groups only: a village's figures include other counsellors' groups.
func (s Scope) Unit(id int64) bool { return s.All || (s.Member == 0 && s.Units[id]) }

// ScopeFor is the scope of an admin of unit (0: everything) or of a
// counsellor member.
func ScopeFor(units []bot.OrgUnit, role bot.Role, unit, member int64) Scope {
	if role == bot.RoleCounsellor {
		if member == 0 {
			member = -1 // not linked yet: sees nothing
		}
		return Scope{Member: member}
	}
	if unit == 0 {
		return Scope{All: true}
	}
	s := Scope{Units: map[int64]bool{unit: true}}
	for changed := true; changed; { // add descendants until none are new
		changed = false
		for _, u := range units {
			if s.Units[u.ParentID] && !s.Units[u.ID] {
				s.Units[u.ID] = true
				changed = true
			}
		}
	}
	return s
}

// Campaign is the population coverage plan: coverage counts people reached
// since Start, against the target percentage of the month ("2026-11": 8).
type Campaign struct {
	Start   time.Time
	Targets map[string]float64
	// Now is the clock that tells a week in progress from one that is
	// over; nil means time.Now.
	Now func() time.Time
	// Official leaves out the playground's simulated groups: anyone who
	// can reach the playground can make one, so they never count where a
	// real channel runs.
	Official bool
}

// Status is a group's week against the rule of RequiredTips tips a week.
type Status int

const (
	StatusMet    Status = iota // enough tips
	StatusMissed               // the week is over with too few
	StatusOpen                 // this week, not there yet
	StatusFuture               // a week that has not begun
)

// Mark is the status in a table cell.
func (s Status) Mark() string {
	return [...]string{"✓", "✗", "进行中", "–"}[s]
}

// Class is the status's style on the admin pages.
func (s Status) Class() string {
	return [...]string{"good", "bad", "muted", "muted"}[s]
}

// Say is the status in a chat line, after the tips counted so far.
func (s Status) Say(sent int) string {
	switch s {
	case StatusMet:
		return " ✓"
	case StatusMissed:
		return " ✗ 未达标"
	case StatusOpen:
		return fmt.Sprintf("，本周还差 %d 条", RequiredTips-sent)
	}
	return ""
}

// WeekStatus is the status of the week starting at ws with sent tips, at
// now.
func WeekStatus(ws, now time.Time, sent int) Status {
	return status(ws, ws.AddDate(0, 0, 7), now, sent)
}

// status of a week [ws, we) with sent tips, at now.
func status(ws, we, now time.Time, sent int) Status {
	switch {
	case sent >= RequiredTips:
		return StatusMet
	case !now.Before(we):
		return StatusMissed
	case now.Before(ws):
		return StatusFuture
	}
	return StatusOpen
}

// GroupRow is one group's week.
type GroupRow struct {
	Group      *bot.Group
	Unit       string
	F          bot.GroupFigures
	Compliant  bool // Status == StatusMet
	Status     Status
	ActiveRate float64 // members seen / group size, if the size is known
	// Rank among the report's groups: by active rate where the size is
	// known, then by members seen; groups of unknown size come after.
	Rank int
}

// UnitRow is one village, community or school.
type UnitRow struct {
	Unit         bot.OrgUnit
	Parent       string
	Groups       int
	Compliant    int
	ReachedWeek  int
	ReachedTotal int     // since the campaign start
	Coverage     float64 // ReachedTotal / population, percent
	Target       float64 // percent due this month, 0 if none
	TargetPeople int
	TipsSent     int
	QuizRounds   int
	QuizPeople   int
	ScamChecks   int
	Rank         int
	Bottom       bool // one of the last three: named in the weekly 通报
}

// Report is a week as one viewer may see it.
type Report struct {
	WeekStart, WeekEnd time.Time
	Current, Future    bool // the week is in progress, or has not begun
	Groups             []GroupRow
	Units              []UnitRow
	Total              bot.GroupFigures
	Compliant          int
}

// reportingKinds are the units a town reports on.
var reportingKinds = map[bot.OrgKind]bool{bot.OrgVillage: true, bot.OrgCommunity: true, bot.OrgSchool: true}

// Week builds the report of the week starting at ws (a Monday 00:00).
func Week(ctx context.Context, src Source, scope Scope, ws time.Time, c Campaign) (*Report, error) {
	we := ws.AddDate(0, 0, 7)
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	r := &Report{WeekStart: ws, WeekEnd: we, Current: !now.Before(ws) && now.Before(we), Future: now.Before(ws)}
	groups, err := src.Groups.FindGroups(ctx, bot.GroupFilter{})
	if err != nil {
		return nil, err
	}
	units, err := src.Stats.OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]bot.OrgUnit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	// The reporting unit (village, community, school) of every unit.
	reportingOf := func(id int64) (bot.OrgUnit, bool) { return reportingUnit(byID, id) }
	rows := map[int64]*UnitRow{}
	row := func(u bot.OrgUnit) *UnitRow {
		if rows[u.ID] == nil {
			rows[u.ID] = &UnitRow{Unit: u, Parent: byID[u.ParentID].Name}
		}
		return rows[u.ID]
	}
	// Which units report where, for the units the viewer may see.
	reportsTo := map[int64]int64{}
	for _, u := range units {
		if rep, ok := reportingOf(u.ID); ok && scope.Unit(rep.ID) {
			reportsTo[u.ID] = rep.ID
		}
	}
	// The scans of the events table are independent: run them at once on
	// the read pool. Distinct people per reporting unit are reached this
	// week, reached since the campaign started, and quiz players this week.
	var (
		wg      sync.WaitGroup
		figs    map[int64]*bot.GroupFigures
		figsErr error
		reach   [3]map[int64]int
		errs    [3]error
	)
	spans := [3]struct {
		from time.Time
		kind bot.EventKind
	}{{ws, ""}, {c.Start, ""}, {ws, bot.EventQuizAnswer}}
	wg.Add(4)
	go func() {
		defer wg.Done()
		figs, figsErr = src.Stats.GroupFigures(ctx, ws, we, 0)
	}()
	for i, sp := range spans {
		go func() {
			defer wg.Done()
			reach[i], errs[i] = src.Stats.UnitReach(ctx, sp.from, we, sp.kind, reportsTo)
		}()
	}
	wg.Wait()
	if err := errors.Join(figsErr, errs[0], errs[1], errs[2]); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if !scope.Group(g) || !g.Bound() || g.BoundAt != nil && !g.BoundAt.Before(we) {
			continue // not bound in this week: nothing was due
		}
		if c.Official && g.Channel == bot.PlaygroundChannel {
			continue
		}
		f := bot.GroupFigures{}
		if p := figs[g.ID]; p != nil {
			f = *p
		}
		st := status(ws, we, now, f.TipsSent)
		gr := GroupRow{Group: g, Unit: g.OrgUnit.Name, F: f, Compliant: st == StatusMet, Status: st}
		if g.Size > 0 {
			gr.ActiveRate = 100 * float64(f.Members) / float64(g.Size)
		}
		r.Groups = append(r.Groups, gr)
		add(&r.Total, f)
		if gr.Compliant {
			r.Compliant++
		}
		if u, ok := reportingOf(g.OrgUnit.ID); ok && scope.Unit(u.ID) {
			ur := row(u)
			ur.Groups++
			ur.TipsSent += f.TipsSent
			ur.QuizRounds += f.QuizRounds
			ur.ScamChecks += f.ScamChecks
			if gr.Compliant {
				ur.Compliant++
			}
		}
	}
	target := c.Targets[we.Add(-time.Second).Format("2006-01")]
	for id, ur := range rows {
		ur.ReachedWeek, ur.ReachedTotal, ur.QuizPeople = reach[0][id], reach[1][id], reach[2][id]
		if ur.Unit.Population > 0 {
			ur.Coverage = 100 * float64(ur.ReachedTotal) / float64(ur.Unit.Population)
			ur.Target = target
			ur.TargetPeople = int(float64(ur.Unit.Population)*target/100 + 0.5)
		}
		r.Units = append(r.Units, *ur)
	}
	rank(r.Units)
	rankGroups(r.Groups)
	sort.SliceStable(r.Groups, func(i, j int) bool {
		a, b := r.Groups[i], r.Groups[j]
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		return a.Group.ID < b.Group.ID
	})
	return r, nil
}

// rankGroups numbers gs best first, ties sharing a rank: a counsellor with
// five class groups sees which one to nudge.
func rankGroups(gs []GroupRow) {
	order := make([]*GroupRow, len(gs))
	for i := range gs {
		order[i] = &gs[i]
	}
	better := func(a, b *GroupRow) int {
		if (a.Group.Size > 0) != (b.Group.Size > 0) {
			if a.Group.Size > 0 {
				return -1
			}
			return 1
		}
		if a.ActiveRate != b.ActiveRate {
			return cmp.Compare(b.ActiveRate, a.ActiveRate)
		}
		return cmp.Compare(b.F.Members, a.F.Members)
	}
	slices.SortStableFunc(order, better)
	for i, g := range order {
		g.Rank = i + 1
		if i > 0 && better(order[i-1], g) == 0 {
			g.Rank = order[i-1].Rank
		}
	}
}

// rank orders units best first: coverage against population where it is
// known, then people reached this week, then name; units without a
// population come last. The last three with a population are the bottom
// three, once there are more than three to compare.
func rank(us []UnitRow) {
	sort.SliceStable(us, func(i, j int) bool {
		a, b := us[i], us[j]
		if (a.Unit.Population > 0) != (b.Unit.Population > 0) {
			return a.Unit.Population > 0
		}
		if a.Coverage != b.Coverage {
			return a.Coverage > b.Coverage
		}
		if a.ReachedWeek != b.ReachedWeek {
			return a.ReachedWeek > b.ReachedWeek
		}
		return a.Unit.Name < b.Unit.Name
	})
	// Units with a population share a rank when their coverage is equal
	// (1, 2, 2, 4); units without one are not ranked (Rank 0) and are
	// listed apart as 未填人口, never among the bottom three.
	withPop := 0
	for i := range us {
		if us[i].Unit.Population == 0 {
			continue
		}
		withPop++
		us[i].Rank = i + 1
		if i > 0 && us[i].Coverage == us[i-1].Coverage {
			us[i].Rank = us[i-1].Rank
		}
	}
	if withPop > 3 {
		// The last three, and whoever ties with the third from last.
		for i, cut := 0, us[withPop-3].Rank; i < withPop; i++ {
			us[i].Bottom = us[i].Rank >= cut
		}
	}
}

func add(t *bot.GroupFigures, f bot.GroupFigures) {
	t.Members += f.Members
	t.ScamChecks += f.ScamChecks
	t.ChecksHigh += f.ChecksHigh
	t.ChecksSuspicious += f.ChecksSuspicious
	t.ChecksNone += f.ChecksNone
	t.Warnings += f.Warnings
	t.QuizAnswers += f.QuizAnswers
	t.QuizCorrect += f.QuizCorrect
	t.QuizParticipants += f.QuizParticipants
	t.QuizRounds += f.QuizRounds
	t.TipsSent += f.TipsSent
}

// CorrectRate is the share of quiz answers that were right, in percent.
func CorrectRate(f bot.GroupFigures) float64 {
	if f.QuizAnswers == 0 {
		return 0
	}
	return 100 * float64(f.QuizCorrect) / float64(f.QuizAnswers)
}

// CorrectText is the share of right quiz answers for people: "–" when
// nobody answered.
func CorrectText(f bot.GroupFigures) string {
	if f.QuizAnswers == 0 {
		return "–"
	}
	return Percent(CorrectRate(f))
}

// Percent formats a percentage for people: one decimal, or two below 1 %
// so that 2 of 1,500 (0.13 %) and 4 of 3,200 (0.12 %) do not look equal.
func Percent(v float64) string {
	if v > 0 && v < 1 {
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.1f%%", v)
}
