package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fanzha/bot"
)

// Prizes implements bot.PrizeStore.
type Prizes struct{ db *DB }

// Prizes returns the prize store of db.
func (db *DB) Prizes() *Prizes { return &Prizes{db} }

var _ bot.PrizeStore = (*Prizes)(nil)

// CreatePrizeRule stores r and sets its ID.
func (s *Prizes) CreatePrizeRule(ctx context.Context, r *bot.PrizeRule) error {
	return s.db.withTx(ctx, "CreatePrizeRule", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO prize_rules (unit_id, group_id, period, min_answers, min_correct, winners, prize, once_per_month, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nullID(r.UnitID), nullID(r.GroupID), string(r.Period), r.MinAnswers, r.MinCorrect, r.Winners, r.Prize, r.OncePerMonth,
			nullID(r.CreatedBy), formatTime(r.CreatedAt)).Scan(&r.ID)
	})
}

// PrizeRules lists every rule, newest first.
func (s *Prizes) PrizeRules(ctx context.Context) ([]*bot.PrizeRule, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, coalesce(unit_id, 0), coalesce(group_id, 0), period, min_answers, min_correct, winners, prize,
		once_per_month, coalesce(created_by, 0), created_at, active FROM prize_rules ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: listing prize rules: %w", err)
	}
	defer rows.Close()
	var out []*bot.PrizeRule
	for rows.Next() {
		r := &bot.PrizeRule{}
		var period, at string
		if err := rows.Scan(&r.ID, &r.UnitID, &r.GroupID, &period, &r.MinAnswers, &r.MinCorrect, &r.Winners, &r.Prize, &r.OncePerMonth,
			&r.CreatedBy, &at, &r.Active); err != nil {
			return nil, fmt.Errorf("store: listing prize rules: %w", err)
		}
		r.Period, r.CreatedAt = bot.PrizePeriod(period), parseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetPrizeRuleActive switches a rule on or off.
func (s *Prizes) SetPrizeRuleActive(ctx context.Context, id int64, active bool) error {
	return s.db.withTx(ctx, "SetPrizeRuleActive", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE prize_rules SET active = ? WHERE id = ?`, active, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ENOTFOUND, "没有这条抽奖规则。")
		}
		return nil
	})
}

// CommitDraw records d and its announcing posts, unless the period has a
// draw already.
func (s *Prizes) CommitDraw(ctx context.Context, d *bot.PrizeDraw, posts []*bot.OutboxPost) (bool, error) {
	made := false
	err := s.db.withTx(ctx, "CommitDraw", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO prize_draws (rule_id, period, commitment, secret, committed_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (rule_id, period) DO NOTHING RETURNING id`,
			d.RuleID, d.Period, d.Commitment, d.Secret, formatTime(d.CommittedAt), formatTime(d.Ends)).Scan(&d.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // committed before: the first commitment stands
		}
		if err != nil {
			return err
		}
		made = true
		for _, p := range posts {
			p.Key = fmt.Sprintf("prize:%d:commit", d.ID)
		}
		_, err = enqueue(ctx, tx, posts, s.db.now())
		return err
	})
	return made, err
}

const drawColumns = `id, rule_id, period, commitment, secret, committed_at, ends_at, drawn_at, entrants, entrants_hash`

func scanDraw(row interface{ Scan(...any) error }) (*bot.PrizeDraw, error) {
	d := &bot.PrizeDraw{}
	var committed, ends, entrants string
	var drawn sql.NullString
	if err := row.Scan(&d.ID, &d.RuleID, &d.Period, &d.Commitment, &d.Secret, &committed, &ends, &drawn, &entrants, &d.EntrantsHash); err != nil {
		return nil, err
	}
	d.CommittedAt, d.Ends = parseTime(committed), parseTime(ends)
	if drawn.Valid {
		t := parseTime(drawn.String)
		d.DrawnAt = &t
	}
	if entrants != "" {
		d.Entrants = strings.Split(entrants, ",")
	}
	return d, nil
}

func (s *Prizes) draws(ctx context.Context, where string, args ...any) ([]*bot.PrizeDraw, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+drawColumns+` FROM prize_draws `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing draws: %w", err)
	}
	var out []*bot.PrizeDraw
	for rows.Next() {
		d, err := scanDraw(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: listing draws: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range out {
		if d.Winners, err = s.winners(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Prizes) winners(ctx context.Context, drawID int64) ([]bot.PrizeWinner, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT w.member_id, coalesce(w.group_id, 0), w.tag, m.display_name, w.fast, w.handed_at, coalesce(a.username, '')
		FROM prize_winners w JOIN members m ON m.id = w.member_id LEFT JOIN accounts a ON a.id = w.handed_by
		WHERE w.draw_id = ? ORDER BY w.place, w.member_id`, drawID)
	if err != nil {
		return nil, fmt.Errorf("store: listing winners: %w", err)
	}
	defer rows.Close()
	var out []bot.PrizeWinner
	for rows.Next() {
		w := bot.PrizeWinner{DrawID: drawID}
		var handed sql.NullString
		if err := rows.Scan(&w.MemberID, &w.GroupID, &w.Tag, &w.Name, &w.Fast, &handed, &w.HandedBy); err != nil {
			return nil, fmt.Errorf("store: listing winners: %w", err)
		}
		if handed.Valid {
			t := parseTime(handed.String)
			w.HandedAt = &t
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// OpenDraws lists the draws not drawn yet.
func (s *Prizes) OpenDraws(ctx context.Context) ([]*bot.PrizeDraw, error) {
	return s.draws(ctx, `WHERE drawn_at IS NULL ORDER BY id`)
}

// Draws lists every draw, newest first.
func (s *Prizes) Draws(ctx context.Context) ([]*bot.PrizeDraw, error) {
	return s.draws(ctx, `ORDER BY id DESC`)
}

// Draw returns one draw.
func (s *Prizes) Draw(ctx context.Context, id int64) (*bot.PrizeDraw, error) {
	ds, err := s.draws(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, bot.Errorf(bot.ENOTFOUND, "没有这次抽奖。")
	}
	return ds[0], nil
}

// FinishDraw stores entrants, winners and the announcing posts, once.
func (s *Prizes) FinishDraw(ctx context.Context, d *bot.PrizeDraw, posts []*bot.OutboxPost) (bool, error) {
	done := false
	err := s.db.withTx(ctx, "FinishDraw", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE prize_draws SET drawn_at = ?, entrants = ?, entrants_hash = ? WHERE id = ? AND drawn_at IS NULL`,
			formatTime(*d.DrawnAt), strings.Join(d.Entrants, ","), d.EntrantsHash, d.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // drawn before: announced once
		}
		done = true
		for i, w := range d.Winners {
			if _, err := tx.ExecContext(ctx, `INSERT INTO prize_winners (draw_id, member_id, group_id, tag, fast, won_at, place) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				d.ID, w.MemberID, nullID(w.GroupID), w.Tag, w.Fast, formatTime(*d.DrawnAt), i+1); err != nil {
				return err
			}
		}
		for _, p := range posts {
			p.Key = fmt.Sprintf("prize:%d:result", d.ID)
		}
		_, err = enqueue(ctx, tx, posts, s.db.now())
		return err
	})
	return done, err
}

// Entrants counts answers per person in groups over [since, until), or in
// one round, with fast answers: within bot.FastAnswer of their question's
// post.
func (s *Prizes) Entrants(ctx context.Context, groups []int64, roundID int64, since, until time.Time) ([]bot.Entrant, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	q := `SELECT a.member_id, (SELECT r2.group_id FROM quiz_answers a2 JOIN quiz_rounds r2 ON r2.id = a2.round_id
				WHERE a2.member_id = a.member_id ORDER BY a2.at DESC LIMIT 1), m.pseudonym, m.display_name, count(*), sum(a.correct),
			sum(CASE WHEN p.sent_at IS NOT NULL AND ` + s.db.secondsBetween("p.sent_at", "a.at") + ` < ? THEN 1 ELSE 0 END)
		FROM quiz_answers a JOIN quiz_rounds r ON r.id = a.round_id JOIN members m ON m.id = a.member_id
		LEFT JOIN posts p ON p.group_id = r.group_id AND p.kind = 'quiz_question' AND p.ref = a.round_id || ':' || a.idx
		WHERE r.group_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(groups)), ",") + `)`
	args := []any{bot.FastAnswer.Seconds()}
	for _, g := range groups {
		args = append(args, g)
	}
	if roundID != 0 {
		q, args = q+` AND a.round_id = ?`, append(args, roundID)
	} else {
		q, args = q+` AND a.at >= ? AND a.at < ?`, append(args, formatTime(since), formatTime(until))
	}
	rows, err := s.db.r.QueryContext(ctx, q+` GROUP BY a.member_id, m.pseudonym, m.display_name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: counting entrants: %w", err)
	}
	defer rows.Close()
	var out []bot.Entrant
	for rows.Next() {
		var e bot.Entrant
		var pseudonym string
		if err := rows.Scan(&e.MemberID, &e.GroupID, &pseudonym, &e.Name, &e.Answered, &e.Correct, &e.Fast); err != nil {
			return nil, fmt.Errorf("store: counting entrants: %w", err)
		}
		e.Tag = bot.PublicTag(pseudonym)
		out = append(out, e)
	}
	return out, rows.Err()
}

// WonSince lists who won under the rule since.
func (s *Prizes) WonSince(ctx context.Context, ruleID int64, since time.Time) (map[int64]bool, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT w.member_id FROM prize_winners w JOIN prize_draws d ON d.id = w.draw_id
		WHERE d.rule_id = ? AND w.won_at >= ?`, ruleID, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("store: reading winners: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// AnswerCounts counts quiz answers per member over [since, until).
func (s *Prizes) AnswerCounts(ctx context.Context, members []int64, since, until time.Time) (map[int64]int, error) {
	out := map[int64]int{}
	if len(members) == 0 {
		return out, nil
	}
	args := []any{formatTime(since), formatTime(until)}
	for _, m := range members {
		out[m] = 0
		args = append(args, m)
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT member_id, count(*) FROM quiz_answers WHERE at >= ? AND at < ?
		AND member_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(members)), ",")+`) GROUP BY member_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: counting answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m int64
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			return nil, fmt.Errorf("store: counting answers: %w", err)
		}
		out[m] = n
	}
	return out, rows.Err()
}

// MarkHanded records that a winner's prize was handed out, and by whom.
func (s *Prizes) MarkHanded(ctx context.Context, drawID, memberID, accountID int64, at time.Time) error {
	return s.db.withTx(ctx, "MarkHanded", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE prize_winners SET handed_at = ?, handed_by = ? WHERE draw_id = ? AND member_id = ? AND handed_at IS NULL`,
			formatTime(at), nullID(accountID), drawID, memberID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ECONFLICT, "这位获奖者的奖品已经标记发放，或不是这次的获奖者。")
		}
		return nil
	})
}
