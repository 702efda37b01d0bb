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

// Campaigns implements bot.CampaignStore.
type Campaigns struct{ db *DB }

// Campaigns returns the campaign store of db.
func (db *DB) Campaigns() *Campaigns { return &Campaigns{db} }

var _ bot.CampaignStore = (*Campaigns)(nil)

// CancelledReason is the last_error of a campaign post that was still
// queued when its campaign was cancelled.
const CancelledReason = "活动已撤回，未发送"

// CreateCampaign stores c with its scope and sets c.ID.
func (s *Campaigns) CreateCampaign(ctx context.Context, c *bot.Campaign) error {
	return s.db.withTx(ctx, "CreateCampaign", func(tx *sql.Tx) error {
		var createdBy, repeatOf any
		if c.CreatedBy != 0 {
			createdBy = c.CreatedBy
		}
		if c.RepeatOf != 0 {
			repeatOf = c.RepeatOf
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO campaigns (kind, title, body, image_url, options, target, repeat_of, urgent, created_by, created_at, send_at, closes_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			string(c.Kind), c.Title, c.Text, c.ImageURL, strings.Join(c.Options, "\n"), c.Target, repeatOf, c.Urgent, createdBy,
			formatTime(c.CreatedAt), formatTime(c.SendAt), formatTime(c.ClosesAt)).Scan(&c.ID)
		if err != nil {
			return err
		}
		for _, u := range c.Units {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_units (campaign_id, unit_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, c.ID, u); err != nil {
				return err
			}
		}
		return addGroups(ctx, tx, c.ID, c.Groups)
	})
}

func addGroups(ctx context.Context, tx *sql.Tx, id int64, groups []int64) error {
	for _, g := range groups {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_groups (campaign_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, g); err != nil {
			return err
		}
	}
	return nil
}

// AddCampaignGroups adds groups to the campaign's scope.
func (s *Campaigns) AddCampaignGroups(ctx context.Context, id int64, groups []int64) error {
	return s.db.withTx(ctx, "AddCampaignGroups", func(tx *sql.Tx) error { return addGroups(ctx, tx, id, groups) })
}

const campaignColumns = `id, kind, title, body, image_url, options, target, coalesce(repeat_of, 0), urgent, coalesce(created_by, 0), created_at, send_at, closes_at, cancelled_at`

func scanCampaign(row interface{ Scan(...any) error }) (*bot.Campaign, error) {
	c := &bot.Campaign{}
	var kind, options, created, send, closes string
	var cancelled sql.NullString
	if err := row.Scan(&c.ID, &kind, &c.Title, &c.Text, &c.ImageURL, &options, &c.Target, &c.RepeatOf, &c.Urgent, &c.CreatedBy, &created, &send, &closes, &cancelled); err != nil {
		return nil, err
	}
	c.Kind = bot.CampaignKind(kind)
	if options != "" {
		c.Options = strings.Split(options, "\n")
	}
	c.CreatedAt, c.SendAt, c.ClosesAt = parseTime(created), parseTime(send), parseTime(closes)
	if cancelled.Valid {
		t := parseTime(cancelled.String)
		c.CancelledAt = &t
	}
	return c, nil
}

// Campaign returns campaign id with its scope, or a not-found error.
func (s *Campaigns) Campaign(ctx context.Context, id int64) (*bot.Campaign, error) {
	c, err := scanCampaign(s.db.r.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "没有这个活动。")
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading campaign: %w", err)
	}
	if err := s.scope(ctx, []*bot.Campaign{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// Campaigns lists every campaign with its scope, newest first.
func (s *Campaigns) Campaigns(ctx context.Context) ([]*bot.Campaign, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: listing campaigns: %w", err)
	}
	defer rows.Close()
	var out []*bot.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing campaigns: %w", err)
	}
	return out, s.scope(ctx, out)
}

// scope fills in the units and groups of cs.
func (s *Campaigns) scope(ctx context.Context, cs []*bot.Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	byID := map[int64]*bot.Campaign{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	for _, q := range []struct {
		sql string
		add func(c *bot.Campaign, id int64)
	}{
		{`SELECT campaign_id, unit_id FROM campaign_units ORDER BY unit_id`, func(c *bot.Campaign, id int64) { c.Units = append(c.Units, id) }},
		{`SELECT campaign_id, group_id FROM campaign_groups ORDER BY group_id`, func(c *bot.Campaign, id int64) { c.Groups = append(c.Groups, id) }},
	} {
		rows, err := s.db.r.QueryContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("store: reading campaign scope: %w", err)
		}
		for rows.Next() {
			var cid, id int64
			if err := rows.Scan(&cid, &id); err != nil {
				rows.Close()
				return fmt.Errorf("store: reading campaign scope: %w", err)
			}
			if c := byID[cid]; c != nil {
				q.add(c, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: reading campaign scope: %w", err)
		}
	}
	return nil
}

// CancelCampaign marks the campaign cancelled and fails its queued posts.
func (s *Campaigns) CancelCampaign(ctx context.Context, id int64, at time.Time) (int, error) {
	n := 0
	err := s.db.withTx(ctx, "CancelCampaign", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL`, formatTime(at), id)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return bot.Errorf(bot.ECONFLICT, "这个活动不存在或已经撤回。")
		}
		res, err = tx.ExecContext(ctx, `UPDATE posts SET status = 'failed', last_error = ? WHERE key = ? AND status = 'pending'`,
			CancelledReason, bot.CampaignKey(id))
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}

// Answer records a's answer, once per person per campaign; a survey answer
// replaces an earlier one.
func (s *Campaigns) Answer(ctx context.Context, a *bot.CampaignAnswer) (bool, error) {
	isNew := false
	err := s.db.withTx(ctx, "Answer", func(tx *sql.Tx) error {
		var old int
		err := tx.QueryRowContext(ctx, `SELECT option FROM campaign_answers WHERE campaign_id = ? AND member_id = ?`, a.CampaignID, a.MemberID).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			isNew = true
			_, err = tx.ExecContext(ctx, `INSERT INTO campaign_answers (campaign_id, member_id, group_id, option, at) VALUES (?, ?, ?, ?, ?)`,
				a.CampaignID, a.MemberID, a.GroupID, a.Option, formatTime(a.At))
			return err
		case err != nil:
			return err
		case old != a.Option:
			_, err = tx.ExecContext(ctx, `UPDATE campaign_answers SET option = ?, group_id = ?, at = ? WHERE campaign_id = ? AND member_id = ?`,
				a.Option, a.GroupID, formatTime(a.At), a.CampaignID, a.MemberID)
			return err
		}
		return nil
	})
	return isNew, err
}

// Answers counts the campaign's answers in one group.
func (s *Campaigns) Answers(ctx context.Context, id, groupID int64) (int, error) {
	var n int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM campaign_answers WHERE campaign_id = ? AND group_id = ?`, id, groupID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting answers: %w", err)
	}
	return n, nil
}

// CampaignFigures counts delivery and answers per group the campaign was
// posted to or answered in.
func (s *Campaigns) CampaignFigures(ctx context.Context, id int64) (map[int64]*bot.CampaignGroupFigures, error) {
	out := map[int64]*bot.CampaignGroupFigures{}
	get := func(g int64) *bot.CampaignGroupFigures {
		if out[g] == nil {
			out[g] = &bot.CampaignGroupFigures{GroupID: g}
		}
		return out[g]
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT group_id, status, last_error FROM posts WHERE key = ?`, bot.CampaignKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: campaign figures: %w", err)
	}
	for rows.Next() {
		var g int64
		var status, lastErr string
		if err := rows.Scan(&g, &status, &lastErr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: campaign figures: %w", err)
		}
		f := get(g)
		f.Post, f.LastError = bot.PostStatus(status), lastErr
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: campaign figures: %w", err)
	}
	if err := s.countReads(ctx, id, get); err != nil {
		return nil, err
	}
	rows, err = s.db.r.QueryContext(ctx, `SELECT group_id, option, count(*) FROM campaign_answers WHERE campaign_id = ? GROUP BY group_id, option`, id)
	if err != nil {
		return nil, fmt.Errorf("store: campaign figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g int64
		var option, n int
		if err := rows.Scan(&g, &option, &n); err != nil {
			return nil, fmt.Errorf("store: campaign figures: %w", err)
		}
		f := get(g)
		f.Answers += n
		if option > 0 {
			for len(f.ByOption) < option {
				f.ByOption = append(f.ByOption, 0)
			}
			f.ByOption[option-1] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: campaign figures: %w", err)
	}
	return out, nil
}

// countReads fills in how many read the campaign's post in each group,
// where the platform tells.
func (s *Campaigns) countReads(ctx context.Context, id int64, get func(int64) *bot.CampaignGroupFigures) error {
	rows, err := s.db.r.QueryContext(ctx, `SELECT p.group_id, count(*) FROM post_reads r JOIN posts p ON p.id = r.post_id
		WHERE p.key = ? GROUP BY p.group_id`, bot.CampaignKey(id))
	if err != nil {
		return fmt.Errorf("store: campaign reads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g int64
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			return err
		}
		get(g).Reads = n
	}
	return rows.Err()
}
