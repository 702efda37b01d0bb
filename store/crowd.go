package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"fanzha/bot"
)

// Crowd implements bot.CrowdStore and bot.ReviewStore.
type Crowd struct{ db *DB }

// Crowd returns the report, feedback and blocklist store of db.
func (db *DB) Crowd() *Crowd { return &Crowd{db} }

var (
	_ bot.CrowdStore  = (*Crowd)(nil)
	_ bot.ReviewStore = (*Crowd)(nil)
)

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// Report records the reports, one per person per item, and returns the
// number of different reporters of each item.
func (s *Crowd) Report(ctx context.Context, groupID, memberID int64, items []bot.Item, text string, at time.Time) ([]int, error) {
	counts := make([]int, len(items))
	err := s.db.withTx(ctx, "Report", func(tx *sql.Tx) error {
		var t any
		if text != "" {
			t = text
		}
		for i, it := range items {
			// A second report by the same person counts once; a report after
			// a dismissal opens the item again.
			if _, err := tx.ExecContext(ctx, `INSERT INTO reports (item_kind, item_value, group_id, member_id, text, created_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (item_kind, item_value, member_id) DO UPDATE SET text = coalesce(excluded.text, reports.text)`,
				string(it.Kind), it.Value, nullID(groupID), memberID, t, formatTime(at)); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE item_kind = ? AND item_value = ?`, string(it.Kind), it.Value).Scan(&counts[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return counts, err
}

// Lookup tells what is known of items.
func (s *Crowd) Lookup(ctx context.Context, items []bot.Item, now time.Time) ([]bot.ItemStatus, error) {
	out := make([]bot.ItemStatus, 0, len(items))
	for _, it := range items {
		st := bot.ItemStatus{Item: it}
		var last sql.NullString
		if err := s.db.r.QueryRowContext(ctx, `SELECT count(*), max(created_at) FROM reports WHERE item_kind = ? AND item_value = ?`,
			string(it.Kind), it.Value).Scan(&st.Reports, &last); err != nil {
			return nil, fmt.Errorf("store: looking up reports: %w", err)
		}
		if last.Valid {
			st.LastReport = parseTime(last.String)
		}
		err := s.db.r.QueryRowContext(ctx, `SELECT scam_type, note FROM blocklist WHERE item_kind = ? AND item_value = ? AND unlisted_at IS NULL
			AND (expires_at IS NULL OR expires_at > ?)`, string(it.Kind), it.Value, formatTime(now)).Scan(&st.ScamType, &st.Note)
		switch {
		case err == nil:
			st.Listed = true
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("store: looking up the blocklist: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

// AddFeedback records f and sets its ID.
func (s *Crowd) AddFeedback(ctx context.Context, f *bot.Feedback) error {
	return s.db.withTx(ctx, "AddFeedback", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO feedback (group_id, member_id, kind, on_event, rule, level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nullID(f.GroupID), f.MemberID, string(f.Kind), string(f.On), f.Rule, string(f.Level), formatTime(f.At)).Scan(&f.ID)
	})
}

// Mute silences rule's unrequested warning in the group until.
func (s *Crowd) Mute(ctx context.Context, groupID int64, rule string, until time.Time) error {
	return s.db.withTx(ctx, "Mute", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mutes (group_id, rule, until) VALUES (?, ?, ?)
			ON CONFLICT (group_id, rule) DO UPDATE SET until = excluded.until`, groupID, rule, formatTime(until))
		return err
	})
}

// Muted reports whether rule is muted in the group at now.
func (s *Crowd) Muted(ctx context.Context, groupID int64, rule string, now time.Time) (bool, error) {
	var n int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM mutes WHERE group_id = ? AND rule = ? AND until > ?`,
		groupID, rule, formatTime(now)).Scan(&n); err != nil {
		return false, fmt.Errorf("store: reading mutes: %w", err)
	}
	return n > 0, nil
}

// ReportedItems lists open reports per item and group, most reported first.
func (s *Crowd) ReportedItems(ctx context.Context, limit int) ([]bot.ReportedItem, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT r.item_kind, r.item_value, coalesce(r.group_id, 0), count(*), max(r.created_at),
			(SELECT text FROM reports x WHERE x.item_kind = r.item_kind AND x.item_value = r.item_value AND x.text IS NOT NULL ORDER BY x.created_at DESC LIMIT 1)
		FROM reports r WHERE r.closed_at IS NULL GROUP BY r.item_kind, r.item_value, r.group_id
		ORDER BY (SELECT count(*) FROM reports y WHERE y.item_kind = r.item_kind AND y.item_value = r.item_value AND y.closed_at IS NULL) DESC, max(r.created_at) DESC
		LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing reports: %w", err)
	}
	defer rows.Close()
	var out []bot.ReportedItem
	for rows.Next() {
		var it bot.ReportedItem
		var kind, last string
		var text sql.NullString
		if err := rows.Scan(&kind, &it.Value, &it.GroupID, &it.Reports, &last, &text); err != nil {
			return nil, fmt.Errorf("store: listing reports: %w", err)
		}
		it.Kind, it.LastReport, it.Text = bot.ItemKind(kind), parseTime(last), text.String
		out = append(out, it)
	}
	return out, rows.Err()
}

// OpenFeedback lists feedback not yet reviewed, newest first.
func (s *Crowd) OpenFeedback(ctx context.Context, limit int) ([]bot.Feedback, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, coalesce(group_id, 0), member_id, kind, on_event, rule, level, created_at
		FROM feedback WHERE closed_at IS NULL AND kind IN ('false_alarm', 'miss', 'useless') ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing feedback: %w", err)
	}
	defer rows.Close()
	var out []bot.Feedback
	for rows.Next() {
		var f bot.Feedback
		var kind, on, level, at string
		if err := rows.Scan(&f.ID, &f.GroupID, &f.MemberID, &kind, &on, &f.Rule, &level, &at); err != nil {
			return nil, fmt.Errorf("store: listing feedback: %w", err)
		}
		f.Kind, f.On, f.Level, f.At, f.Status = bot.FeedbackKind(kind), bot.EventKind(on), bot.CheckLevel(level), parseTime(at), "open"
		out = append(out, f)
	}
	return out, rows.Err()
}

func logReview(ctx context.Context, tx *sql.Tx, accountID int64, action string, it bot.Item, note string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO review_log (account_id, action, item_kind, item_value, note, at) VALUES (?, ?, ?, ?, ?, ?)`,
		nullID(accountID), action, string(it.Kind), it.Value, note, formatTime(at))
	return err
}

func list(ctx context.Context, tx *sql.Tx, it bot.ListedItem, accountID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO blocklist (item_kind, item_value, scam_type, note, source, listed_by, listed_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (item_kind, item_value) DO UPDATE SET scam_type = excluded.scam_type, note = excluded.note, source = excluded.source,
			listed_by = excluded.listed_by, listed_at = excluded.listed_at, expires_at = excluded.expires_at, unlisted_at = NULL`,
		string(it.Kind), it.Value, it.ScamType, it.Note, it.Source, nullID(accountID), formatTime(it.ListedAt), nullTime(it.ExpiresAt))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE reports SET closed_at = ? WHERE item_kind = ? AND item_value = ? AND closed_at IS NULL`,
		formatTime(it.ListedAt), string(it.Kind), it.Value)
	return err
}

// Confirm lists the item and closes its reports.
func (s *Crowd) Confirm(ctx context.Context, it bot.ListedItem, accountID int64) error {
	it.Source = "review"
	return s.db.withTx(ctx, "Confirm", func(tx *sql.Tx) error {
		if err := list(ctx, tx, it, accountID); err != nil {
			return err
		}
		return logReview(ctx, tx, accountID, "confirm", it.Item, it.ScamType+" "+it.Note, it.ListedAt)
	})
}

// Dismiss closes the item's open reports without listing it.
func (s *Crowd) Dismiss(ctx context.Context, it bot.Item, accountID int64, at time.Time) error {
	return s.db.withTx(ctx, "Dismiss", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET closed_at = ? WHERE item_kind = ? AND item_value = ? AND closed_at IS NULL`,
			formatTime(at), string(it.Kind), it.Value)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ECONFLICT, "这一项没有待处理的举报。")
		}
		return logReview(ctx, tx, accountID, "dismiss", it, "", at)
	})
}

// Unlist takes the item off the blocklist.
func (s *Crowd) Unlist(ctx context.Context, it bot.Item, accountID int64, at time.Time) error {
	return s.db.withTx(ctx, "Unlist", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE blocklist SET unlisted_at = ? WHERE item_kind = ? AND item_value = ? AND unlisted_at IS NULL`,
			formatTime(at), string(it.Kind), it.Value)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ECONFLICT, "这一项不在名单上。")
		}
		return logReview(ctx, tx, accountID, "unlist", it, "", at)
	})
}

// CloseFeedback marks feedback reviewed.
func (s *Crowd) CloseFeedback(ctx context.Context, id, accountID int64, at time.Time) error {
	return s.db.withTx(ctx, "CloseFeedback", func(tx *sql.Tx) error {
		var rule string
		if err := tx.QueryRowContext(ctx, `UPDATE feedback SET closed_at = ? WHERE id = ? AND closed_at IS NULL RETURNING rule`, formatTime(at), id).Scan(&rule); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return bot.Errorf(bot.ECONFLICT, "这条反馈已经处理过了。")
			}
			return err
		}
		return logReview(ctx, tx, accountID, "feedback", bot.Item{}, fmt.Sprintf("#%d %s", id, rule), at)
	})
}

// Blocklist lists the items listed at now.
func (s *Crowd) Blocklist(ctx context.Context, now time.Time) ([]bot.ListedItem, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT b.item_kind, b.item_value, b.scam_type, b.note, b.source, coalesce(a.username, ''), b.listed_at, b.expires_at
		FROM blocklist b LEFT JOIN accounts a ON a.id = b.listed_by
		WHERE b.unlisted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > ?) ORDER BY b.listed_at DESC`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("store: listing the blocklist: %w", err)
	}
	defer rows.Close()
	var out []bot.ListedItem
	for rows.Next() {
		var it bot.ListedItem
		var kind, at string
		var exp sql.NullString
		if err := rows.Scan(&kind, &it.Value, &it.ScamType, &it.Note, &it.Source, &it.ListedBy, &at, &exp); err != nil {
			return nil, fmt.Errorf("store: listing the blocklist: %w", err)
		}
		it.Kind, it.ListedAt = bot.ItemKind(kind), parseTime(at)
		if exp.Valid {
			t := parseTime(exp.String)
			it.ExpiresAt = &t
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ImportBlocklist lists every row in one transaction.
func (s *Crowd) ImportBlocklist(ctx context.Context, rows []bot.ListedItem, accountID int64) (int, error) {
	err := s.db.withTx(ctx, "ImportBlocklist", func(tx *sql.Tx) error {
		for _, it := range rows {
			it.Source = "import"
			if err := list(ctx, tx, it, accountID); err != nil {
				return err
			}
		}
		if len(rows) > 0 {
			return logReview(ctx, tx, accountID, "import", bot.Item{}, fmt.Sprintf("%d 项", len(rows)), rows[0].ListedAt)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// Unanswered lists the shared samples whose check found nothing since.
func (s *Crowd) Unanswered(ctx context.Context, since time.Time, limit int) ([]bot.Sample, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT group_id, level, text, created_at FROM kb_samples WHERE level = 'none' AND created_at >= ?
		ORDER BY created_at DESC LIMIT ?`, formatTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing samples: %w", err)
	}
	defer rows.Close()
	var out []bot.Sample
	for rows.Next() {
		var sm bot.Sample
		var level, at string
		if err := rows.Scan(&sm.GroupID, &level, &sm.Text, &at); err != nil {
			return nil, fmt.Errorf("store: listing samples: %w", err)
		}
		sm.Level, sm.At = bot.CheckLevel(level), parseTime(at)
		out = append(out, sm)
	}
	return out, rows.Err()
}

// ReviewLog lists the latest decisions.
func (s *Crowd) ReviewLog(ctx context.Context, limit int) ([]bot.ReviewEntry, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT coalesce(a.username, ''), l.action, l.item_kind, l.item_value, l.note, l.at
		FROM review_log l LEFT JOIN accounts a ON a.id = l.account_id ORDER BY l.at DESC, l.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading the review log: %w", err)
	}
	defer rows.Close()
	var out []bot.ReviewEntry
	for rows.Next() {
		var e bot.ReviewEntry
		var kind, at string
		if err := rows.Scan(&e.Account, &e.Action, &kind, &e.Item.Value, &e.Note, &at); err != nil {
			return nil, fmt.Errorf("store: reading the review log: %w", err)
		}
		e.Item.Kind, e.At = bot.ItemKind(kind), parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
