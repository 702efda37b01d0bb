package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"fanzha/bot"
)

// Quiz implements bot.QuizStore.
type Quiz struct{ db *DB }

// Quiz returns the quiz store of db.
func (db *DB) Quiz() *Quiz { return &Quiz{db} }

var _ bot.QuizStore = (*Quiz)(nil)

// StartRound creates the round and enqueues its first post in one
// transaction.
func (s *Quiz) StartRound(ctx context.Context, r *bot.QuizRound, first *bot.OutboxPost) error {
	qs, err := json.Marshal(r.Questions)
	if err != nil {
		return err
	}
	err = s.db.withTx(ctx, "StartRound", func(tx *sql.Tx) error {
		var slot any
		if r.Slot != "" {
			slot = r.Slot
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO quiz_rounds (group_id, started_by, questions, window_secs, current, opened_at, status, started_at, slot)
			VALUES (?, ?, ?, ?, 0, ?, 'active', ?, ?) RETURNING id`,
			r.GroupID, nullID(r.StartedBy), string(qs), int(r.Window/time.Second), formatTime(r.OpenedAt), formatTime(r.StartedAt), slot).Scan(&r.ID)
		if err != nil {
			if isUnique(err, "quiz_rounds.slot") {
				return bot.Errorf(bot.EDUPLICATE, "这个时段的答题已经开始过了。")
			}
			if isUnique(err, "") {
				return bot.Errorf(bot.ECONFLICT, "本群正在答题，请等这一轮结束再开始新的一轮。")
			}
			return err
		}
		first.Key = fmt.Sprintf("quiz:%d:0:question", r.ID)
		first.Ref = fmt.Sprintf("%d:0", r.ID)
		_, err = enqueue(ctx, tx, []*bot.OutboxPost{first}, s.db.now())
		return err
	})
	if code := bot.ErrorCode(err); code == bot.ECONFLICT || code == bot.EDUPLICATE {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: starting quiz: %w", err)
	}
	r.Status = bot.RoundActive
	return nil
}

const roundColumns = `id, group_id, started_by, questions, window_secs, current, opened_at, status, started_at`

func scanRound(row scanner) (*bot.QuizRound, error) {
	var r bot.QuizRound
	var by sql.NullInt64
	var qs, opened, started string
	var secs int
	if err := row.Scan(&r.ID, &r.GroupID, &by, &qs, &secs, &r.Current, &opened, &r.Status, &started); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(qs), &r.Questions); err != nil {
		return nil, fmt.Errorf("quiz round %d: questions: %w", r.ID, err)
	}
	r.StartedBy = by.Int64
	r.Window = time.Duration(secs) * time.Second
	r.OpenedAt, r.StartedAt = parseTime(opened), parseTime(started)
	return &r, nil
}

// ActiveRound returns the group's active round, or nil.
func (s *Quiz) ActiveRound(ctx context.Context, groupID int64) (*bot.QuizRound, error) {
	r, err := scanRound(s.db.r.QueryRowContext(ctx, `SELECT `+roundColumns+` FROM quiz_rounds WHERE group_id = ? AND status = 'active'`, groupID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// ActiveRounds returns every active round.
func (s *Quiz) ActiveRounds(ctx context.Context) ([]*bot.QuizRound, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+roundColumns+` FROM quiz_rounds WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bot.QuizRound
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecentQuestions returns the question IDs of the group's last rounds.
func (s *Quiz) RecentQuestions(ctx context.Context, groupID int64, rounds int) ([]string, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT questions FROM quiz_rounds WHERE group_id = ? ORDER BY id DESC LIMIT ?`, groupID, rounds)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var qs string
		var ids []string
		if err := rows.Scan(&qs); err != nil {
			return nil, err
		}
		if json.Unmarshal([]byte(qs), &ids) == nil {
			out = append(out, ids...)
		}
	}
	return out, rows.Err()
}

// RecordAnswer stores the member's first answer to a question.
func (s *Quiz) RecordAnswer(ctx context.Context, a *bot.QuizAnswer) (bool, error) {
	var added bool
	err := s.db.withTx(ctx, "RecordAnswer", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO quiz_answers (round_id, idx, member_id, choice, correct, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, a.RoundID, a.Index, a.MemberID, a.Choice, a.Correct, formatTime(a.At))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		added = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: recording answer: %w", err)
	}
	return added, nil
}

// AdvanceRound moves the round on, with its posts, if it is still where
// the caller saw it.
func (s *Quiz) AdvanceRound(ctx context.Context, r *bot.QuizRound, next int, openedAt time.Time, status bot.RoundStatus, posts []*bot.OutboxPost) (bool, error) {
	var moved bool
	err := s.db.withTx(ctx, "AdvanceRound", func(tx *sql.Tx) error {
		var ended any
		if status != bot.RoundActive {
			ended = s.db.now()
		}
		res, err := tx.ExecContext(ctx, `UPDATE quiz_rounds SET current = ?, opened_at = ?, status = ?, ended_at = ?
			WHERE id = ? AND current = ? AND status = 'active'`, next, formatTime(openedAt), status, ended, r.ID, r.Current)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // someone else moved it already
		}
		moved = true
		_, err = enqueue(ctx, tx, posts, s.db.now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: advancing quiz round %d: %w", r.ID, err)
	}
	return moved, nil
}

func memberName(name string) string {
	if name == "" {
		return "匿名群友"
	}
	return name
}

// QuestionAnswers returns the answers to one question, first first.
func (s *Quiz) QuestionAnswers(ctx context.Context, roundID int64, index int) ([]bot.QuizAnswer, []string, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT a.member_id, a.choice, a.correct, a.at, m.display_name
		FROM quiz_answers a JOIN members m ON m.id = a.member_id WHERE a.round_id = ? AND a.idx = ? ORDER BY a.at, a.member_id`, roundID, index)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var as []bot.QuizAnswer
	var names []string
	for rows.Next() {
		a := bot.QuizAnswer{RoundID: roundID, Index: index}
		var at, name string
		if err := rows.Scan(&a.MemberID, &a.Choice, &a.Correct, &at, &name); err != nil {
			return nil, nil, err
		}
		a.At = parseTime(at)
		as, names = append(as, a), append(names, memberName(name))
	}
	return as, names, rows.Err()
}

func scanScores(rows *sql.Rows) ([]bot.QuizScore, error) {
	defer rows.Close()
	var out []bot.QuizScore
	for rows.Next() {
		var sc bot.QuizScore
		if err := rows.Scan(&sc.MemberID, &sc.Name, &sc.Correct, &sc.Answered); err != nil {
			return nil, err
		}
		sc.Name = memberName(sc.Name)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// RoundScores ranks a round's members: most correct first, then whoever
// finished answering earlier.
func (s *Quiz) RoundScores(ctx context.Context, roundID int64) ([]bot.QuizScore, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT a.member_id, m.display_name, sum(a.correct), count(*)
		FROM quiz_answers a JOIN members m ON m.id = a.member_id WHERE a.round_id = ?
		GROUP BY a.member_id, m.display_name ORDER BY sum(a.correct) DESC, max(a.at), a.member_id`, roundID)
	if err != nil {
		return nil, err
	}
	return scanScores(rows)
}

// Leaderboard ranks a group's members by correct answers in [since, until).
func (s *Quiz) Leaderboard(ctx context.Context, groupID int64, since, until time.Time) ([]bot.QuizScore, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT a.member_id, m.display_name, sum(a.correct), count(*)
		FROM quiz_answers a JOIN quiz_rounds r ON r.id = a.round_id JOIN members m ON m.id = a.member_id
		WHERE r.group_id = ? AND a.at >= ? AND a.at < ?
		GROUP BY a.member_id, m.display_name ORDER BY sum(a.correct) DESC, count(*) DESC, a.member_id LIMIT 10`,
		groupID, formatTime(since), formatTime(until))
	if err != nil {
		return nil, err
	}
	return scanScores(rows)
}
