// Package campaign sends campaign notices — case bulletins, notices to
// acknowledge, pledges and surveys — to every bound group in their scope
// through the outbox, and records the answers people give in chat: 收到,
// 我承诺, or a survey option.
package campaign

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/schedule"
)

// Planner puts every open campaign's post into the outbox of every bound
// group in its scope, once per group: groups bound later get it while the
// campaign is open.
type Planner struct {
	Campaigns bot.CampaignStore
	Groups    bot.GroupStore
	Units     bot.StatsStore // for the unit tree
	Outbox    bot.Outbox
	Quiet     schedule.Quiet
	Loc       *time.Location
}

// Tick plans the posts of every open campaign, and reports how many posts
// were new.
func (p *Planner) Tick(ctx context.Context, now time.Time) (int, error) {
	cs, err := p.Campaigns.Campaigns(ctx)
	if err != nil {
		return 0, err
	}
	var open []*bot.Campaign
	for _, c := range cs {
		if c.Open(now) {
			open = append(open, c)
		}
	}
	if len(open) == 0 {
		return 0, nil
	}
	bound := true
	groups, err := p.Groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return 0, err
	}
	units, err := p.Units.OrgUnits(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range open {
		n, err := p.plan(ctx, c, bot.CampaignScope(c, groups, units), now)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (p *Planner) plan(ctx context.Context, c *bot.Campaign, groups []*bot.Group, now time.Time) (int, error) {
	key := bot.CampaignKey(c.ID)
	have, err := p.Outbox.FindPosts(ctx, bot.PostFilter{Kind: bot.PostCampaign, Key: key})
	if err != nil {
		return 0, err
	}
	planned := map[int64]bool{}
	for _, post := range have {
		planned[post.GroupID] = true
	}
	due := later(c.SendAt, now)
	if !c.Urgent {
		due = p.Quiet.Next(due.In(p.Loc))
	}
	text := bot.ComposeCampaign(c)
	var posts []*bot.OutboxPost
	for _, g := range groups {
		if !planned[g.ID] {
			posts = append(posts, &bot.OutboxPost{GroupID: g.ID, Kind: bot.PostCampaign, Ref: strconv.FormatInt(c.ID, 10), Key: key, Text: text,
				Choices: bot.CampaignChoices(c), DueAt: due})
		}
	}
	if len(posts) == 0 {
		return 0, nil
	}
	return p.Outbox.EnqueuePosts(ctx, posts)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Answers records 收到, 我承诺 and survey answers in chat.
type Answers struct {
	Campaigns bot.CampaignStore
	Outbox    bot.Outbox
	Now       func() time.Time

	mu      sync.Mutex
	acked   map[[2]int64]time.Time // (group, campaign) → when the last acknowledgement was said
	options map[string]bool        // the options of open surveys, as of optionsAt
	optAt   time.Time
}

// optionsFresh: how long the set of open surveys' options is reused before
// it is read again.
const optionsFresh = 30 * time.Second

// isOption reports text that answers a survey: an option's number or text
// of a survey open now. It runs on every short group message, so it reads
// the open surveys at most every optionsFresh.
func (a *Answers) isOption(ctx context.Context, text string) bool {
	if n, err := strconv.Atoi(text); err == nil {
		return n >= 1 && n <= bot.MaxCampaignOptions
	}
	now := a.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.options == nil || now.Sub(a.optAt) >= optionsFresh || now.Before(a.optAt) {
		cs, err := a.Campaigns.Campaigns(ctx)
		if err != nil {
			return false
		}
		a.options, a.optAt = map[string]bool{}, now
		for _, c := range cs {
			if c.Kind == bot.CampaignSurvey && c.Open(now) {
				for _, o := range c.Options {
					a.options[o] = true
				}
			}
		}
	}
	return a.options[text]
}

// AckEvery: in a busy group, one acknowledgement a minute per campaign;
// the answers in between are recorded without a reply, so fifty 收到 do
// not bring fifty bot messages.
const AckEvery = time.Minute

// Register adds the answers. Survey answers match a bare option number or
// an option's text, and only where a survey is open.
func Register(r *bot.Router, a *Answers) {
	r.Handle(a.receipt, "收到", "已收到", "已阅")
	r.Handle(a.pledge, "我承诺", "承诺")
	r.HandleMatch("campaign-survey", func(c *bot.Context) bool {
		t := strings.TrimSpace(c.Message().Text)
		return c.Group != nil && t != "" && utf8.RuneCountInString(t) <= bot.MaxCampaignOption && a.isOption(c.Context(), t)
	}, a.survey)
	r.Describe(bot.Usage{Say: "收到 / 我承诺 / 1", Does: "回复群里的告知书、承诺书或问卷"})
}

// latest is the newest campaign posted in the group whose kind is one of
// kinds, open or not.
func (a *Answers) latest(c *bot.Context, kinds ...bot.CampaignKind) (*bot.Campaign, error) {
	posts, err := a.Outbox.FindPosts(c.Context(), bot.PostFilter{GroupID: c.Group.ID, Kind: bot.PostCampaign, Status: bot.PostSent})
	if err != nil {
		return nil, err
	}
	for i := len(posts) - 1; i >= 0; i-- {
		id, err := strconv.ParseInt(posts[i].Ref, 10, 64)
		if err != nil {
			continue
		}
		camp, err := a.Campaigns.Campaign(c.Context(), id)
		if err != nil {
			if bot.ErrorCode(err) == bot.ENOTFOUND {
				continue
			}
			return nil, err
		}
		for _, k := range kinds {
			if camp.Kind == k {
				return camp, nil
			}
		}
	}
	return nil, nil
}

func (a *Answers) receipt(c *bot.Context) error {
	if c.Group == nil {
		return nil
	}
	camp, err := a.latest(c, bot.CampaignNotice, bot.CampaignBulletin)
	if err != nil || camp == nil || !camp.Open(a.Now()) {
		return err // 收到 is said to many things: quiet unless a notice is open
	}
	return a.record(c, camp, 0)
}

func (a *Answers) pledge(c *bot.Context) error {
	if c.Group == nil {
		return bot.Errorf(bot.ECONFLICT, "请在收到承诺书的群里回复“我承诺”。")
	}
	camp, err := a.latest(c, bot.CampaignPledge)
	if err != nil {
		return err
	}
	if camp == nil {
		return bot.Errorf(bot.ECONFLICT, "本群目前没有需要签署的承诺书。")
	}
	if !camp.Open(a.Now()) {
		return bot.Errorf(bot.ECONFLICT, "《%s》已经截止，不再记录。谢谢您的支持！", camp.Title)
	}
	return a.record(c, camp, 0)
}

func (a *Answers) survey(c *bot.Context) error {
	camp, err := a.latest(c, bot.CampaignSurvey)
	if err != nil || camp == nil {
		return err
	}
	t := strings.TrimSpace(c.Message().Text)
	option := 0
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(camp.Options) {
		option = n
	}
	for i, o := range camp.Options {
		if t == o {
			option = i + 1
		}
	}
	if option == 0 {
		return nil // not an answer: let the message be
	}
	if !camp.Open(a.Now()) {
		return bot.Errorf(bot.ECONFLICT, "问卷《%s》已经截止，不再记录。", camp.Title)
	}
	return a.record(c, camp, option)
}

// record stores the answer and acknowledges it, at most once a minute per
// group.
func (a *Answers) record(c *bot.Context, camp *bot.Campaign, option int) error {
	now := a.Now()
	if _, err := a.Campaigns.Answer(c.Context(), &bot.CampaignAnswer{CampaignID: camp.ID, GroupID: c.Group.ID, MemberID: c.Member.ID, Option: option, At: now}); err != nil {
		return err
	}
	c.Tally(bot.EventCampaignAnswer, string(camp.Kind))
	a.mu.Lock()
	key := [2]int64{c.Group.ID, camp.ID}
	last, ok := a.acked[key]
	quiet := ok && now.Sub(last) < AckEvery && now.After(last)
	if !quiet {
		if a.acked == nil {
			a.acked = map[[2]int64]time.Time{}
		}
		for k, at := range a.acked { // forget old ones: the map stays small
			if now.Sub(at) >= AckEvery {
				delete(a.acked, k)
			}
		}
		a.acked[key] = now
	}
	a.mu.Unlock()
	if quiet {
		return nil
	}
	n, err := a.Campaigns.Answers(c.Context(), camp.ID, c.Group.ID)
	if err != nil {
		return err
	}
	verb := map[bot.CampaignKind]string{bot.CampaignNotice: "查收", bot.CampaignBulletin: "查收", bot.CampaignPledge: "承诺", bot.CampaignSurvey: "回答"}[camp.Kind]
	return c.Reply(fmt.Sprintf("已记录，谢谢！本群已有 %d 人%s《%s》。", n, verb, camp.Title))
}
