package bot

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CampaignKind is what a campaign asks of the groups it reaches.
type CampaignKind string

const (
	CampaignBulletin CampaignKind = "bulletin" // a case bulletin (警情通报): read, 收到 optional
	CampaignNotice   CampaignKind = "notice"   // a notice to acknowledge (告知书): 收到
	CampaignPledge   CampaignKind = "pledge"   // a pledge to sign (承诺书): 我承诺
	CampaignSurvey   CampaignKind = "survey"   // a survey (反诈 App 安装): an option per person
)

// Label is the kind as people read it.
func (k CampaignKind) Label() string {
	switch k {
	case CampaignBulletin:
		return "警情通报"
	case CampaignNotice:
		return "告知书"
	case CampaignPledge:
		return "承诺书"
	case CampaignSurvey:
		return "问卷"
	}
	return string(k)
}

// Valid reports a known kind.
func (k CampaignKind) Valid() bool { return k.Label() != string(k) }

// PostCampaign is the outbox kind of a campaign post; its key is
// CampaignKey(id), once per group.
const PostCampaign = "campaign"

// Limits of a campaign's content.
const (
	MaxCampaignTitle   = 60   // characters
	MaxCampaignText    = 1500 // characters: a long bulletin still fits one chat message
	MaxCampaignOptions = 6
	MaxCampaignOption  = 20 // characters
)

// Campaign is a bulletin, notice, pledge or survey sent to every group in
// its scope through the outbox.
type Campaign struct {
	ID       int64
	Kind     CampaignKind
	Title    string
	Text     string
	ImageURL string
	Options  []string // survey answers, in order; the first is "yes" for a rate
	// Units: groups bound to these units or below them are in scope.
	Units []int64
	// Groups: hand-picked groups, and groups a counsellor relayed it to.
	Groups []int64
	// Target: the share (percent) of the first option a survey aims for
	// (国家反诈中心 App installed: 60), 0 for none.
	Target float64
	// RepeatOf: the survey this one repeats (回头看), 0 for none.
	RepeatOf    int64
	Urgent      bool // sent through quiet hours
	CreatedBy   int64
	CreatedAt   time.Time
	SendAt      time.Time
	ClosesAt    time.Time // answers after it are refused
	CancelledAt *time.Time
}

// Open reports whether the campaign takes answers and reaches groups at now.
func (c *Campaign) Open(now time.Time) bool {
	return c.CancelledAt == nil && !now.Before(c.SendAt) && now.Before(c.ClosesAt)
}

// CampaignAnswer is one person's answer to a campaign: 收到, 我承诺, or a
// survey option (1-based).
type CampaignAnswer struct {
	CampaignID int64
	GroupID    int64
	MemberID   int64
	Option     int // surveys: 1-based; 0 for a receipt or a pledge
	At         time.Time
}

// CampaignGroupFigures is one group's part in a campaign.
type CampaignGroupFigures struct {
	GroupID   int64
	Post      PostStatus // "" while not planned yet
	LastError string
	Answers   int
	ByOption  []int // surveys: answers per option
	// Reads is how many read the post, where the platform tells (DingTalk).
	Reads int
}

// CampaignStore keeps campaigns and their answers.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	Campaign(ctx context.Context, id int64) (*Campaign, error)
	// Campaigns lists campaigns, newest first.
	Campaigns(ctx context.Context) ([]*Campaign, error)
	// AddCampaignGroups adds groups to a campaign's scope (a relay).
	AddCampaignGroups(ctx context.Context, id int64, groups []int64) error
	// CancelCampaign marks it cancelled and its queued posts with it; it
	// reports how many posts were still queued.
	CancelCampaign(ctx context.Context, id int64, at time.Time) (int, error)
	// Answer records a person's answer: a second receipt or pledge is a
	// no-op, a second survey answer replaces the first. It reports whether
	// the answer was new.
	Answer(ctx context.Context, a *CampaignAnswer) (bool, error)
	// CampaignFigures counts, per group the campaign was posted to,
	// delivery and answers.
	CampaignFigures(ctx context.Context, id int64) (map[int64]*CampaignGroupFigures, error)
	// Answers counts a campaign's answers in one group.
	Answers(ctx context.Context, id, groupID int64) (int, error)
}

// CampaignKey is the outbox key of a campaign's post in a group.
func CampaignKey(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

// DefaultCampaignOpen is how long a campaign takes answers unless its author says.
const DefaultCampaignOpen = 30 * 24 * time.Hour

// ValidateCampaign checks a campaign an admin or a script composed, before it is
// stored: content within bounds, a known kind, options for a survey, a
// scope, and a time not in the past. It fills in defaults.
func ValidateCampaign(c *Campaign, now time.Time) error {
	c.Title = strings.TrimSpace(c.Title)
	c.Text = strings.TrimSpace(c.Text)
	c.ImageURL = strings.TrimSpace(c.ImageURL)
	switch {
	case !c.Kind.Valid():
		return Errorf(EINVALID, "活动类型只能是警情通报、告知书、承诺书或问卷。")
	case c.Title == "":
		return Errorf(EINVALID, "请填写标题。")
	case utf8.RuneCountInString(c.Title) > MaxCampaignTitle:
		return Errorf(EINVALID, "标题太长了，请控制在 %d 字以内。", MaxCampaignTitle)
	case c.Text == "":
		return Errorf(EINVALID, "请填写正文。")
	case utf8.RuneCountInString(c.Text) > MaxCampaignText:
		return Errorf(EINVALID, "正文太长了（%d 字），一条消息请控制在 %d 字以内。", utf8.RuneCountInString(c.Text), MaxCampaignText)
	case len(c.Units) == 0 && len(c.Groups) == 0:
		return Errorf(EINVALID, "请选择发送范围：单位或群。")
	case c.Target < 0 || c.Target > 100:
		return Errorf(EINVALID, "目标比例请填写 0 到 100 之间的数。")
	}
	if c.ImageURL != "" {
		if u, err := url.Parse(c.ImageURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(EINVALID, "图片链接请填写以 https:// 开头的完整网址。")
		}
	}
	var opts []string
	for _, o := range c.Options {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	c.Options = opts
	if c.Kind == CampaignSurvey {
		if len(opts) < 2 || len(opts) > MaxCampaignOptions {
			return Errorf(EINVALID, "问卷请给出 2 到 %d 个选项，每行一个。", MaxCampaignOptions)
		}
		seen := map[string]bool{}
		for _, o := range opts {
			if utf8.RuneCountInString(o) > MaxCampaignOption {
				return Errorf(EINVALID, "选项“%s”太长了，请控制在 %d 字以内。", o, MaxCampaignOption)
			}
			if seen[o] {
				return Errorf(EINVALID, "选项“%s”重复了。", o)
			}
			seen[o] = true
		}
	} else {
		c.Options, c.Target = nil, 0
	}
	if c.SendAt.IsZero() {
		c.SendAt = now
	}
	if c.SendAt.Before(now.Add(-time.Minute)) {
		return Errorf(EINVALID, "发送时间已经过去了，请选择现在或以后的时间。")
	}
	if c.ClosesAt.IsZero() {
		c.ClosesAt = c.SendAt.Add(DefaultCampaignOpen)
	}
	if !c.ClosesAt.After(c.SendAt) {
		return Errorf(EINVALID, "截止时间要晚于发送时间。")
	}
	c.CreatedAt = now
	return nil
}

// ComposeCampaign is the chat text of a campaign: its header, text, image link and
// how to answer.
func ComposeCampaign(c *Campaign) string {
	var b strings.Builder
	fmt.Fprintf(&b, "【%s】%s\n%s", c.Kind.Label(), c.Title, c.Text)
	if c.ImageURL != "" {
		b.WriteString("\n图片：" + c.ImageURL)
	}
	switch c.Kind {
	case CampaignNotice, CampaignBulletin:
		b.WriteString("\n\n请回复“收到”确认已阅。")
	case CampaignPledge:
		b.WriteString("\n\n同意以上承诺的，请回复“我承诺”。")
	case CampaignSurvey:
		b.WriteString("\n\n请回复选项的数字：")
		for i, o := range c.Options {
			fmt.Fprintf(&b, "\n%d. %s", i+1, o)
		}
	}
	return b.String()
}

// CampaignChoices are the answers a campaign's post asks for, as typed.
func CampaignChoices(c *Campaign) []string {
	switch c.Kind {
	case CampaignNotice, CampaignBulletin:
		return []string{"收到"}
	case CampaignPledge:
		return []string{"我承诺"}
	case CampaignSurvey:
		out := make([]string, len(c.Options))
		for i := range c.Options {
			out[i] = strconv.Itoa(i + 1)
		}
		return out
	}
	return nil
}

// CampaignScope returns the groups in c's scope among groups: bound below one of
// its units, or picked by hand.
func CampaignScope(c *Campaign, groups []*Group, units []OrgUnit) []*Group {
	parent := map[int64]int64{}
	for _, u := range units {
		parent[u.ID] = u.ParentID
	}
	want := map[int64]bool{}
	for _, u := range c.Units {
		want[u] = true
	}
	picked := map[int64]bool{}
	for _, g := range c.Groups {
		picked[g] = true
	}
	var out []*Group
	for _, g := range groups {
		in := picked[g.ID]
		if !in && g.OrgUnit != nil {
			for u, hops := g.OrgUnit.ID, 0; u != 0 && hops <= len(units); u, hops = parent[u], hops+1 {
				if want[u] {
					in = true
					break
				}
			}
		}
		if in {
			out = append(out, g)
		}
	}
	return out
}
