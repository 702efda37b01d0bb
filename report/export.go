package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

var unitHeader = []any{"排名", "村社/学校", "上级", "人口", "本周触达人数", "累计触达人数", "覆盖率", "本月目标", "目标人数",
	"群数", "推送达标群数", "本周推送条数", "答题人数", "诈骗查询次数", "后三名"}

var groupHeader = []any{"群名", "所属", "类型", "群人数", "本周活跃人数", "活跃率", "本周推送", "每周要求", "达标", "答题轮数", "答题人数",
	"答对率", "诈骗查询", "高风险", "可疑", "主动预警"}

// A record's cells are string, int, pct, or nil for a blank.
type pct float64 // a percentage, 28.6 for 28.6 %

// unitRecords is the report in the shape a town office submits: one row
// per village, community or school.
func unitRecords(r *Report) [][]any {
	out := [][]any{unitHeader}
	for _, u := range r.Units {
		var pop, cov, target, people any
		if u.Unit.Population > 0 {
			pop, cov = u.Unit.Population, pct(u.Coverage)
			if u.Target > 0 {
				target, people = pct(u.Target), u.TargetPeople
			}
		}
		var bottom any
		if u.Bottom {
			bottom = "是"
		}
		var rank any = "未填人口"
		if u.Rank > 0 {
			rank = u.Rank
		}
		out = append(out, []any{rank, u.Unit.Name, u.Parent, pop, u.ReachedWeek, u.ReachedTotal, cov, target, people,
			u.Groups, u.Compliant, u.TipsSent, u.QuizPeople, u.ScamChecks, bottom})
	}
	return out
}

func groupRecords(r *Report) [][]any {
	out := [][]any{groupHeader}
	for _, g := range r.Groups {
		var size, active, rate any
		if g.Group.Size > 0 {
			size, active = g.Group.Size, pct(g.ActiveRate)
		}
		if g.F.QuizAnswers > 0 {
			rate = pct(CorrectRate(g.F))
		}
		out = append(out, []any{g.Group.Name, g.Unit, g.Group.Kind.Label(), size, g.F.Members, active,
			g.F.TipsSent, RequiredTips, g.Status.Mark(), g.F.QuizRounds, g.F.QuizParticipants, rate,
			g.F.ScamChecks, g.F.ChecksHigh, g.F.ChecksSuspicious, g.F.Warnings})
	}
	return out
}

// text is a cell as CSV writes it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case pct:
		return Percent(float64(v))
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}

func texts(rows [][]any) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			out[i][j] = text(v)
			if _, ok := v.(string); ok {
				out[i][j] = inert(out[i][j])
			}
		}
	}
	return out
}

// inert keeps a name a spreadsheet would run as a formula ("=HYPERLINK(…)")
// a text: a leading apostrophe, as spreadsheets themselves write it.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Title names the report's week.
func (r *Report) Title() string {
	return fmt.Sprintf("反诈宣传周报 %s 至 %s", r.WeekStart.Format("2006-01-02"), r.WeekEnd.AddDate(0, 0, -1).Format("2006-01-02"))
}

// WriteCSV writes the unit rows, a blank line, then the group rows, as
// UTF-8 with a byte order mark so spreadsheet programs read the Chinese.
// A counsellor's report has no units: only the groups are written.
func WriteCSV(w io.Writer, r *Report) error {
	if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{r.Title()})
	if len(r.Units) > 0 {
		cw.WriteAll(texts(unitRecords(r)))
		cw.Write(nil)
	}
	cw.WriteAll(texts(groupRecords(r)))
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the report as an Excel workbook: a sheet of villages,
// communities and schools (left out when the viewer has none), and a sheet
// of groups. Counts are numbers and shares are percentages, so offices can
// sum and sort them; empty figures are blank cells; the header row is
// frozen and filtered.
func WriteXLSX(w io.Writer, r *Report) error {
	var sheets []sheet
	if len(r.Units) > 0 {
		sheets = append(sheets, sheet{"村社学校", unitRecords(r)})
	}
	sheets = append(sheets, sheet{"群", groupRecords(r)})
	return writeSheets(w, r.Title(), sheets)
}

// sheet is one worksheet: its name and its rows, the first a header.
type sheet struct {
	name string
	rows [][]any
}

// writeSheets writes a workbook of sheets, each headed by title.
func writeSheets(w io.Writer, title string, sheets []sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	percent, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("0.0%")})
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}})
	if err != nil {
		return err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return err
		}
		if err := f.SetCellValue(s.name, "A1", title); err != nil {
			return err
		}
		widths := make([]int, len(s.rows[0]))
		for ri, row := range s.rows {
			for ci, v := range row {
				cell, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
				widths[ci] = max(widths[ci], displayWidth(text(v)))
				switch v := v.(type) {
				case nil:
					continue // a blank cell, not an empty string
				case pct:
					if err := f.SetCellFloat(s.name, cell, float64(v)/100, -1, 64); err != nil {
						return err
					}
					if err := f.SetCellStyle(s.name, cell, cell, percent); err != nil {
						return err
					}
				default:
					if err := f.SetCellValue(s.name, cell, v); err != nil {
						return err
					}
				}
			}
		}
		last, _ := excelize.CoordinatesToCellName(len(s.rows[0]), 2)
		lastRow, _ := excelize.CoordinatesToCellName(len(s.rows[0]), len(s.rows)+1)
		if err := f.SetCellStyle(s.name, "A2", last, head); err != nil {
			return err
		}
		if err := f.AutoFilter(s.name, "A2:"+lastRow, nil); err != nil {
			return err
		}
		if err := f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		for ci, wd := range widths {
			col, _ := excelize.ColumnNumberToName(ci + 1)
			if err := f.SetColWidth(s.name, col, col, float64(min(max(wd, 6)+2, 40))); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

func ptr[T any](v T) *T { return &v }

// displayWidth counts a Chinese character as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x1100 {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// WriteWorkbook writes tables as sheets of a workbook headed by title:
// names[i] is the sheet of tables[i], whose first row is its header. Cells
// are strings, ints, nil (blank) or Pct(v), a percentage.
func WriteWorkbook(w io.Writer, title string, names []string, tables [][][]any) error {
	sheets := make([]sheet, len(names))
	for i := range names {
		sheets[i] = sheet{names[i], tables[i]}
	}
	return writeSheets(w, title, sheets)
}

// Pct is a percentage cell for WriteWorkbook: 28.6 for 28.6 %.
func Pct(v float64) any { return pct(v) }
