package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

var unitHeader = []string{"排名", "村社/学校", "上级", "人口", "本周触达人数", "累计触达人数", "覆盖率", "本月目标", "目标人数",
	"群数", "推送达标群数", "本周推送条数", "答题人数", "诈骗查询次数", "后三名"}

var groupHeader = []string{"群名", "所属", "类型", "群人数", "本周活跃人数", "活跃率", "本周推送", "达标", "答题轮数", "答题人数",
	"答对率", "诈骗查询", "高风险", "可疑", "主动预警"}

var kindNames = map[string]string{"community": "社区群", "class": "班级群", "other": "其他"}

// unitRecords is the report in the shape a town office submits: one row
// per village, community or school.
func unitRecords(r *Report) [][]string {
	out := [][]string{unitHeader}
	for _, u := range r.Units {
		pop, cov, target, people := "", "", "", ""
		if u.Unit.Population > 0 {
			pop, cov = strconv.Itoa(u.Unit.Population), Percent(u.Coverage)
			if u.Target > 0 {
				target, people = Percent(u.Target), strconv.Itoa(u.TargetPeople)
			}
		}
		bottom := ""
		if u.Bottom {
			bottom = "是"
		}
		rank := "未填人口"
		if u.Rank > 0 {
			rank = strconv.Itoa(u.Rank)
		}
		out = append(out, []string{rank, u.Unit.Name, u.Parent, pop, strconv.Itoa(u.ReachedWeek),
			strconv.Itoa(u.ReachedTotal), cov, target, people, strconv.Itoa(u.Groups), strconv.Itoa(u.Compliant),
			strconv.Itoa(u.TipsSent), strconv.Itoa(u.QuizPeople), strconv.Itoa(u.ScamChecks), bottom})
	}
	return out
}

func groupRecords(r *Report) [][]string {
	out := [][]string{groupHeader}
	for _, g := range r.Groups {
		size, active := "", ""
		if g.Group.Size > 0 {
			size, active = strconv.Itoa(g.Group.Size), Percent(g.ActiveRate)
		}
		rate := ""
		if g.F.QuizAnswers > 0 {
			rate = Percent(CorrectRate(g.F))
		}
		out = append(out, []string{g.Group.Name, g.Unit, kindNames[string(g.Group.Kind)], size, strconv.Itoa(g.F.Members), active,
			fmt.Sprintf("%d/%d", g.F.TipsSent, RequiredTips), g.Status.Mark(), strconv.Itoa(g.F.QuizRounds),
			strconv.Itoa(g.F.QuizParticipants), rate, strconv.Itoa(g.F.ScamChecks), strconv.Itoa(g.F.ChecksHigh),
			strconv.Itoa(g.F.ChecksSuspicious), strconv.Itoa(g.F.Warnings)})
	}
	return out
}

// Title names the report's week.
func (r *Report) Title() string {
	return fmt.Sprintf("反诈宣传周报 %s 至 %s", r.WeekStart.Format("2006-01-02"), r.WeekEnd.AddDate(0, 0, -1).Format("2006-01-02"))
}

// WriteCSV writes the unit rows, a blank line, then the group rows, as
// UTF-8 with a byte order mark so spreadsheet programs read the Chinese.
func WriteCSV(w io.Writer, r *Report) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{r.Title()})
	cw.WriteAll(unitRecords(r))
	cw.Write(nil)
	cw.WriteAll(groupRecords(r))
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the report as an Excel workbook: a sheet of villages,
// communities and schools, and a sheet of groups.
func WriteXLSX(w io.Writer, r *Report) error {
	f := excelize.NewFile()
	defer f.Close()
	sheets := []struct {
		name string
		rows [][]string
	}{{"村社学校", unitRecords(r)}, {"群", groupRecords(r)}}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return err
		}
		if err := f.SetCellValue(s.name, "A1", r.Title()); err != nil {
			return err
		}
		for ri, row := range s.rows {
			for ci, v := range row {
				cell, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
				var val any = v
				if n, err := strconv.Atoi(v); err == nil {
					val = n // numbers as numbers, so offices can sum them
				}
				if err := f.SetCellValue(s.name, cell, val); err != nil {
					return err
				}
			}
		}
		f.SetColWidth(s.name, "A", "B", 16)
	}
	return f.Write(w)
}
