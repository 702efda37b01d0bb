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

// Groups implements bot.GroupStore.
type Groups struct{ db *DB }

// Groups returns the group store of db.
func (db *DB) Groups() *Groups { return &Groups{db} }

var _ bot.GroupStore = (*Groups)(nil)

const groupColumns = `g.id, g.channel, g.platform_id, g.name, g.kind, g.bound_by, g.bound_at, g.size, g.created_at,
	g.warn_scams, g.share_samples, g.schedule, g.removed_at, g.webhook_key, g.quiz_schedule, o.id, o.parent_id, o.kind, o.name, o.population`

const groupFrom = ` FROM groups g LEFT JOIN org_units o ON o.id = g.org_unit_id`

type scanner interface{ Scan(dest ...any) error }

func scanGroup(row scanner) (*bot.Group, error) {
	var (
		g                          bot.Group
		boundBy, oid, oparent, pop sql.NullInt64
		warn                       sql.NullBool
		boundAt, okind, oname      sql.NullString
		removed                    sql.NullString
		created                    string
	)
	if err := row.Scan(&g.ID, &g.Channel, &g.PlatformID, &g.Name, &g.Kind, &boundBy, &boundAt, &g.Size, &created,
		&warn, &g.ShareSamples, &g.Schedule, &removed, &g.WebhookKey, &g.QuizSchedule, &oid, &oparent, &okind, &oname, &pop); err != nil {
		return nil, err
	}
	g.BoundBy = boundBy.Int64
	if warn.Valid {
		g.WarnScams = &warn.Bool
	}
	if removed.Valid {
		t := parseTime(removed.String)
		g.RemovedAt = &t
	}
	g.CreatedAt = parseTime(created)
	if boundAt.Valid {
		t := parseTime(boundAt.String)
		g.BoundAt = &t
	}
	if oid.Valid {
		g.OrgUnit = &bot.OrgUnit{ID: oid.Int64, ParentID: oparent.Int64, Kind: bot.OrgKind(okind.String),
			Name: oname.String, Population: int(pop.Int64)}
	}
	return &g, nil
}

// EnsureGroup returns the group, creating it at first sight and keeping its
// name current.
func (s *Groups) EnsureGroup(ctx context.Context, channel, platformID, name string) (*bot.Group, error) {
	if channel == "" || platformID == "" {
		return nil, bot.Errorf(bot.EINVALID, "群编号不能为空。")
	}
	// Nearly every message comes from a group already known under its
	// name: the cache or a read answers it, with no write to commit.
	key := channel + "\x00" + platformID
	gen := s.db.groupGen.Load() // before the read: a change after it makes the entry stale
	now := time.Now()
	if c, ok := s.db.groupCache.Load(key); ok {
		if c := c.(cachedGroup); c.gen == gen && now.Sub(c.at) < groupCacheTTL && (name == "" || name == c.g.Name) {
			return copyGroup(c.g), nil
		}
	}
	if g, err := s.find(ctx, s.db.r, `WHERE g.channel = ? AND g.platform_id = ?`, channel, platformID); err == nil &&
		g.RemovedAt == nil && (name == "" || name == g.Name) {
		s.db.groupCache.Store(key, cachedGroup{gen: gen, at: now, g: copyGroup(g)})
		return g, nil
	}
	defer s.db.groupsChanged()
	err := s.db.withTx(ctx, "EnsureGroup", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (channel, platform_id, name, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (channel, platform_id) DO UPDATE SET
				name = CASE WHEN excluded.name != '' THEN excluded.name ELSE groups.name END, removed_at = NULL
			WHERE (excluded.name != '' AND excluded.name != groups.name) OR groups.removed_at IS NOT NULL`,
			channel, platformID, name, s.db.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: ensuring group: %w", err)
	}
	return s.find(ctx, s.db.r, `WHERE g.channel = ? AND g.platform_id = ?`, channel, platformID)
}

func (s *Groups) find(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, where string, args ...any) (*bot.Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupColumns+groupFrom+` `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "没有找到这个群。")
	}
	return g, err
}

// FindGroups returns the groups matching f, ordered by ID.
func (s *Groups) FindGroups(ctx context.Context, f bot.GroupFilter) ([]*bot.Group, error) {
	var where []string
	var args []any
	if f.ID != 0 {
		where, args = append(where, "g.id = ?"), append(args, f.ID)
	}
	if f.Channel != "" {
		where, args = append(where, "g.channel = ?"), append(args, f.Channel)
	}
	if f.PlatformID != "" {
		where, args = append(where, "g.platform_id = ?"), append(args, f.PlatformID)
	}
	if f.Active {
		where = append(where, "g.removed_at IS NULL")
	}
	if f.Bound != nil {
		if *f.Bound {
			where = append(where, "g.org_unit_id IS NOT NULL")
		} else {
			where = append(where, "g.org_unit_id IS NULL")
		}
	}
	q := `SELECT ` + groupColumns + groupFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.r.QueryContext(ctx, q+" ORDER BY g.id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: finding groups: %w", err)
	}
	defer rows.Close()
	var out []*bot.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// groupKindFor is the kind of group that reports to a unit of kind k.
func groupKindFor(k bot.OrgKind) bot.GroupKind {
	switch k {
	case bot.OrgVillage, bot.OrgCommunity:
		return bot.GroupCommunity
	case bot.OrgSchool, bot.OrgClass:
		return bot.GroupClass
	}
	return bot.GroupOther
}

// BindGroup attaches the group to the unit at path, creating the units that
// do not exist yet, all in one transaction.
func (s *Groups) BindGroup(ctx context.Context, groupID int64, path []bot.OrgUnit, by int64) (*bot.Group, error) {
	if len(path) == 0 {
		return nil, bot.Errorf(bot.EINVALID, "请告诉我要绑定的村、社区、学校或班级名称。")
	}
	defer s.db.groupsChanged()
	err := s.db.withTx(ctx, "BindGroup", func(tx *sql.Tx) error {
		var parent sql.NullInt64
		for _, u := range path {
			id, err := ensureOrgUnit(ctx, tx, parent, u, s.db.now())
			if err != nil {
				return err
			}
			parent = sql.NullInt64{Int64: id, Valid: true}
		}
		var byArg any
		if by != 0 {
			byArg = by
		}
		res, err := tx.ExecContext(ctx, `UPDATE groups SET org_unit_id = ?, kind = ?, bound_by = ?, bound_at = ? WHERE id = ?`,
			parent.Int64, groupKindFor(path[len(path)-1].Kind), byArg, s.db.now(), groupID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bot.Errorf(bot.ENOTFOUND, "没有找到这个群。")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: binding group: %w", err)
	}
	return s.find(ctx, s.db.r, `WHERE g.id = ?`, groupID)
}

func ensureOrgUnit(ctx context.Context, tx *sql.Tx, parent sql.NullInt64, u bot.OrgUnit, now string) (int64, error) {
	var id int64
	var err error
	if parent.Valid {
		err = tx.QueryRowContext(ctx, `SELECT id FROM org_units WHERE parent_id = ? AND name = ?`, parent.Int64, u.Name).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT id FROM org_units WHERE parent_id IS NULL AND name = ?`, u.Name).Scan(&id)
	}
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO org_units (parent_id, kind, name, population, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		parent, u.Kind, u.Name, u.Population, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("creating org unit %q: %w", u.Name, err)
	}
	return id, nil
}

// UnbindGroup detaches the group from its org unit. Its history stays.
func (s *Groups) UnbindGroup(ctx context.Context, groupID int64) error {
	defer s.db.groupsChanged()
	return s.db.withTx(ctx, "UnbindGroup", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE groups SET org_unit_id = NULL, kind = 'other', bound_by = NULL, bound_at = NULL WHERE id = ?`, groupID)
		return err
	})
}

// UpdateGroup changes the group's settings.
func (s *Groups) UpdateGroup(ctx context.Context, groupID int64, u bot.GroupUpdate) (*bot.Group, error) {
	var sets []string
	var args []any
	if u.WarnScams != nil {
		sets, args = append(sets, "warn_scams = ?"), append(args, *u.WarnScams)
	}
	if u.ShareSamples != nil {
		sets, args = append(sets, "share_samples = ?"), append(args, *u.ShareSamples)
	}
	if u.QuizSchedule != nil {
		sets, args = append(sets, "quiz_schedule = ?"), append(args, *u.QuizSchedule)
	}
	if u.WebhookKey != nil {
		sets, args = append(sets, "webhook_key = ?"), append(args, *u.WebhookKey)
	}
	if u.Schedule != nil {
		sets, args = append(sets, "schedule = ?"), append(args, *u.Schedule)
	}
	if u.Removed != nil {
		if *u.Removed {
			sets, args = append(sets, "removed_at = ?"), append(args, s.db.now())
		} else {
			sets = append(sets, "removed_at = NULL")
		}
	}
	if u.Size != nil {
		if *u.Size < 0 || *u.Size > bot.MaxGroupSize {
			return nil, bot.Errorf(bot.EINVALID, "群人数应在 0 到 %d 之间。", bot.MaxGroupSize)
		}
		sets, args = append(sets, "size = ?"), append(args, *u.Size)
	}
	if len(sets) > 0 {
		defer s.db.groupsChanged()
		err := s.db.withTx(ctx, "UpdateGroup", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE groups SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, groupID)...)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("store: updating group: %w", err)
		}
	}
	return s.find(ctx, s.db.r, `WHERE g.id = ?`, groupID)
}

// cachedGroup is a group as EnsureGroup last read it, valid while no
// group or org unit has been written since by this process (DB.groupGen)
// and for at most groupCacheTTL: another replica on the same database may
// have written it.
type cachedGroup struct {
	gen uint64
	at  time.Time
	g   *bot.Group
}

// groupCacheTTL bounds how long a change made by another process on the
// same database can go unseen.
const groupCacheTTL = 2 * time.Second

// groupsChanged makes every cached group stale. Every write to groups or
// org_units calls it once the write is over, committed or not.
func (db *DB) groupsChanged() { db.groupGen.Add(1) }

// copyGroup copies g with its pointed-to parts, so that no caller can
// change the cached copy.
func copyGroup(g *bot.Group) *bot.Group {
	c := *g
	c.OrgUnit, c.BoundAt, c.WarnScams, c.RemovedAt = clonePtr(g.OrgUnit), clonePtr(g.BoundAt), clonePtr(g.WarnScams), clonePtr(g.RemovedAt)
	return &c
}

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
