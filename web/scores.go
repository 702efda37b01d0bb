package web

import (
	"bytes"
	"math"
	"net/http"
	"time"

	"fanzha/bot"
	"fanzha/report"
)

// scoreMonth reads ?month=2026-11, default this month.
func (s *Server) scoreMonth(r *http.Request) time.Time {
	now := s.Now().In(s.Loc)
	if t, err := time.ParseInLocation("2006-01", r.URL.Query().Get("month"), s.Loc); err == nil {
		return t
	}
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.Loc)
}

func (s *Server) monthScores(r *http.Request) ([]report.UnitScore, time.Time, error) {
	scope, err := s.scope(r.Context(), session(r))
	if err != nil {
		return nil, time.Time{}, err
	}
	month := s.scoreMonth(r)
	scores, err := report.MonthScores(r.Context(), report.ScoreSource{Groups: s.Groups, Stats: s.Stats, Campaigns: s.Campaigns, Cases: s.Cases},
		scope, month, s.Campaign, s.Weights)
	return scores, month, err
}

func (s *Server) scoresPage(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "综合评分")
		return
	}
	scores, month, err := s.monthScores(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var bottom []report.UnitScore
	for _, sc := range scores {
		if sc.Bottom {
			bottom = append(bottom, sc)
		}
	}
	var labels []string
	series := make([]chartSeries, len(report.ScorePartNames))
	for i, name := range report.ScorePartNames {
		series[i].Label = name
	}
	for _, sc := range scores {
		labels = append(labels, sc.Unit.Name)
		for i, name := range report.ScorePartNames {
			v := 0.0
			for _, p := range sc.Parts {
				if p.Name == name {
					v = math.Round(p.Points*10) / 10
				}
			}
			series[i].Data = append(series[i].Data, v)
		}
	}
	chartLabels, chartData := chartJSON(labels, series)
	s.render(w, r, "scores.html", map[string]any{"Charts": true, "ChartLabels": chartLabels, "ChartSeries": chartData, "Scores": scores, "Bottom": bottom, "W": s.Weights, "Parts": report.ScorePartNames,
		"Month": month.Format("2006-01"), "Prev": month.AddDate(0, -1, 0).Format("2006-01"), "Next": month.AddDate(0, 1, 0).Format("2006-01")})
}

func (s *Server) exportScores(w http.ResponseWriter, r *http.Request) {
	if session(r).Account.Role != bot.RoleAdmin {
		s.forbidden(w, r, "综合评分")
		return
	}
	scores, month, err := s.monthScores(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := report.WriteWorkbook(&b, "综合评分 "+month.Format("2006年1月"), []string{"综合评分"},
		[][][]any{report.ScoreRecords(scores, report.ScorePartNames)}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="scores-`+month.Format("2006-01")+`.xlsx"`)
	b.WriteTo(w)
}
