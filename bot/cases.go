package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fraud cases (发案) as an admin enters them: when, where, what kind, how
// much was lost, and who, by age band and role — never a name, a phone or
// an ID number.

// AgeBands are the victims' age bands.
var AgeBands = []string{"18岁以下", "18-30岁", "31-45岁", "46-60岁", "60岁以上"}

// VictimRoles are who the victim was.
var VictimRoles = []string{"居民", "学生", "老年人", "财务人员"}

// Case is one fraud case.
type Case struct {
	ID       int64
	Date     time.Time // the day it happened, in the campaign's zone
	UnitID   int64     // village, community, school or class
	ScamType string    // the knowledge base's type id
	Loss     int64     // yuan
	AgeBand  string
	Role     string
	By       int64 // account
	At       time.Time
}

// MaxLoss bounds a case's loss: anything larger is a typing error.
const MaxLoss = 1_000_000_000

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

// ValidateCase checks a case: a date not in the future, a unit, a known
// scam type, a loss, and an age band and a role from the lists.
func ValidateCase(c *Case, now time.Time, knownType func(string) bool) error {
	switch {
	case c.Date.IsZero() || c.Date.After(now):
		return Errorf(EINVALID, "发案日期请填写今天或以前的日期。")
	case c.UnitID == 0:
		return Errorf(EINVALID, "请选择发案的村社、学校或班级。")
	case c.ScamType == "" || knownType != nil && !knownType(c.ScamType):
		return Errorf(EINVALID, "诈骗类型请从知识库的类型里选。")
	case c.Loss < 0 || c.Loss > MaxLoss:
		return Errorf(EINVALID, "损失金额请填写 0 到 %d 元。", MaxLoss)
	case !oneOf(c.AgeBand, AgeBands):
		return Errorf(EINVALID, "年龄段请选：%s。", strings.Join(AgeBands, "、"))
	case !oneOf(c.Role, VictimRoles):
		return Errorf(EINVALID, "身份请选：%s。", strings.Join(VictimRoles, "、"))
	}
	return nil
}

// CaseHeader is the header of a case import: one case a row.
var CaseHeader = []string{"发案日期", "单位", "诈骗类型", "损失金额", "年龄段", "身份"}

// ParseCases reads imported rows (the header first) into cases, checking
// every cell: a bad row is named by its line and column, and no case is
// returned unless every row is good. unit finds a unit by name; typeID a
// scam type by id or name.
func ParseCases(rows [][]string, unit func(string) (int64, bool), typeID func(string) (string, bool), now time.Time, loc *time.Location) ([]*Case, error) {
	if len(rows) == 0 {
		return nil, Errorf(EINVALID, "表格是空的：第一行应是表头 %s。", strings.Join(CaseHeader, "、"))
	}
	head := rows[0]
	if len(head) != len(CaseHeader) {
		return nil, Errorf(EINVALID, "第 1 行应是表头：%s（不要多加列：姓名、电话、身份证号都不能录入）。", strings.Join(CaseHeader, "、"))
	}
	for i, h := range CaseHeader {
		if strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff")) != h {
			return nil, Errorf(EINVALID, "第 1 行第 %d 列应是“%s”。", i+1, h)
		}
	}
	var out []*Case
	var problems []string
	for i, row := range rows[1:] {
		line := i + 2
		cell := func(c int) string {
			if c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		if strings.Join(row, "") == "" {
			continue
		}
		if len(row) > len(CaseHeader) && strings.Join(row[len(CaseHeader):], "") != "" {
			problems = append(problems, fmt.Sprintf("第 %d 行：表头之外还有内容（姓名、电话、身份证号都不能录入）", line))
			continue
		}
		c := &Case{At: now}
		var bad []string
		d, dateErr := time.ParseInLocation("2006-01-02", cell(0), loc)
		if dateErr != nil {
			bad = append(bad, fmt.Sprintf("第 1 列“发案日期”：%q 应写成 2026-11-20", cell(0)))
		}
		c.Date = d
		if id, ok := unit(cell(1)); ok {
			c.UnitID = id
		} else {
			bad = append(bad, fmt.Sprintf("第 2 列“单位”：没有叫 %q 的村社、学校或班级", cell(1)))
		}
		if t, ok := typeID(cell(2)); ok {
			c.ScamType = t
		} else {
			bad = append(bad, fmt.Sprintf("第 3 列“诈骗类型”：%q 不在知识库里", cell(2)))
		}
		loss, err := strconv.ParseInt(strings.ReplaceAll(cell(3), ",", ""), 10, 64)
		if err != nil || loss < 0 || loss > MaxLoss {
			bad = append(bad, fmt.Sprintf("第 4 列“损失金额”：%q 应是 0 到 %d 的整数（元）", cell(3), MaxLoss))
		}
		c.Loss = loss
		if c.AgeBand = cell(4); !oneOf(c.AgeBand, AgeBands) {
			bad = append(bad, fmt.Sprintf("第 5 列“年龄段”：%q 应是 %s 之一", cell(4), strings.Join(AgeBands, "、")))
		}
		if c.Role = cell(5); !oneOf(c.Role, VictimRoles) {
			bad = append(bad, fmt.Sprintf("第 6 列“身份”：%q 应是 %s 之一", cell(5), strings.Join(VictimRoles, "、")))
		}
		if dateErr == nil && c.Date.After(now) {
			bad = append(bad, "第 1 列“发案日期”：在今天之后")
		}
		for _, b := range bad {
			problems = append(problems, fmt.Sprintf("第 %d 行%s", line, b))
		}
		if len(bad) == 0 {
			out = append(out, c)
		}
	}
	if err := importProblems(problems, len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// CaseStore keeps fraud cases and the 必讲 flags they raise.
type CaseStore interface {
	// AddCases stores every case in one transaction, or none.
	AddCases(ctx context.Context, cs []*Case) error
	// Cases lists the cases in [from, to), newest first.
	Cases(ctx context.Context, from, to time.Time) ([]*Case, error)
	Case(ctx context.Context, id int64) (*Case, error)
	// MustTeach lists units flagged 必讲 (and not cleared) with the scam
	// types to teach there.
	MustTeach(ctx context.Context) (map[int64][]string, error)
	// Flag marks a unit 必讲 for types; Clear takes the flag off.
	Flag(ctx context.Context, unitID int64, types []string, at time.Time) error
	Clear(ctx context.Context, unitID, accountID int64, at time.Time) error
	// ClearedAt is when the unit's flag was last cleared, zero if never:
	// only cases entered after it count towards a new flag.
	ClearedAt(ctx context.Context, unitID int64) (time.Time, error)
}

// MustTeachRule is when a unit's cases make targeted content compulsory.
type MustTeachRule struct {
	MinLoss  int64 // total loss in a year, yuan
	MinCases int   // cases in a year
}

// DefaultMustTeach: ¥100,000 lost or three cases in twelve months.
var DefaultMustTeach = MustTeachRule{MinLoss: 100_000, MinCases: 3}

// MustTeachTypes are the scam types of cs (one unit's cases) to teach if
// they pass the rule, most frequent first; nil if they do not.
func (r MustTeachRule) MustTeachTypes(cs []*Case) []string {
	var loss int64
	count := map[string]int{}
	var order []string
	for _, c := range cs {
		loss += c.Loss
		if count[c.ScamType] == 0 {
			order = append(order, c.ScamType)
		}
		count[c.ScamType]++
	}
	if loss < r.MinLoss && len(cs) < r.MinCases {
		return nil
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && count[order[j]] > count[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

// ReportGroup is the group a unit's scheduled reports go to.
type ReportGroup struct {
	UnitID  int64
	GroupID int64
	SetAt   time.Time
}

// ReportGroupStore keeps the report group of each unit.
type ReportGroupStore interface {
	// SetReportGroup makes g the report group of unit, replacing any
	// other; a group reports for one unit.
	SetReportGroup(ctx context.Context, unitID, groupID, by int64, at time.Time) error
	UnsetReportGroup(ctx context.Context, groupID int64) (bool, error)
	ReportGroups(ctx context.Context) ([]ReportGroup, error)
}
