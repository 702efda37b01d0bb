package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PostStatus is where a post is in the outbox.
type PostStatus string

const (
	PostPending PostStatus = "pending" // waiting for its time or a retry
	PostSending PostStatus = "sending" // handed to the channel; not yet confirmed
	PostSent    PostStatus = "sent"
	PostFailed  PostStatus = "failed" // gave up; shown to admins
	// PostUnconfirmed: the process died between handing the post to a
	// channel that cannot deduplicate and recording the result. It may or
	// may not have arrived; it is not sent again, and admins see it.
	PostUnconfirmed PostStatus = "unconfirmed"
)

// Kinds of post. The features own what they post; the names live here so
// that the store, reports and admin pages speak of them without importing
// the features.
const (
	PostTip          = "tip"       // a scheduled tip; counts for the twice-a-week rule
	PostTipExtra     = "tip_extra" // asked for with 来一条提示
	PostQuizQuestion = "quiz_question"
	PostQuizResult   = "quiz_result"
	PostQuizRanking  = "quiz_ranking"
	PostPrize        = "prize"  // a draw's commitment or its result
	PostReport       = "report" // a unit's scheduled report to its 管理群
)

// TipSentIn reports whether p is anti-fraud content delivered in [from,
// to): a scheduled or an asked-for tip, sent in that span. It is the one
// definition of "tips this week" for the twice-a-week rule, in chat, on
// the admin pages and in reports (the store counts the same in SQL).
func (p *OutboxPost) TipSentIn(from, to time.Time) bool {
	return (p.Kind == PostTip || p.Kind == PostTipExtra) && p.Status == PostSent &&
		p.SentAt != nil && !p.SentAt.Before(from) && p.SentAt.Before(to)
}

// LateSend bounds how long before its week a post sent in the week may
// have been due (a post held by quiet hours or an outage).
const LateSend = 24 * time.Hour

// PostKindLabel is a kind of post as admins read it.
func PostKindLabel(kind string) string {
	switch kind {
	case PostTip:
		return "每周提示"
	case PostTipExtra:
		return "加发提示"
	case PostQuizQuestion:
		return "答题题目"
	case PostQuizResult:
		return "答题结果"
	case PostQuizRanking:
		return "答题排名"
	case PostPrize:
		return "抽奖"
	case PostReport:
		return "定时报告"
	case PostCampaign:
		return "宣传活动"
	}
	return kind
}

// Label is the status as admins read it.
func (s PostStatus) Label() string {
	switch s {
	case PostPending:
		return "待发送"
	case PostSending:
		return "发送中"
	case PostSent:
		return "已发送"
	case PostFailed:
		return "发送失败"
	case PostUnconfirmed:
		return "未确认送达"
	}
	return string(s)
}

// OutboxPost is a post the bot owes a group: recorded before it is sent,
// marked after.
type OutboxPost struct {
	ID         int64
	GroupID    int64
	Channel    string // of the group, filled in by the store
	PlatformID string // of the group, filled in by the store
	Kind       string // "tip", "tip_extra", "quiz_question", "quiz_result", "quiz_ranking"
	Ref        string // what was posted: a tip ID, "round:index"
	// Key is unique per group. Enqueueing the same key twice is a no-op, so
	// planning is idempotent; channels that can deduplicate use it too.
	Key       string
	Text      string
	DueAt     time.Time
	Status    PostStatus
	Attempts  int
	LastError string
	SentAt    *time.Time
	// Choices are the answers the post asks for (Post.Choices).
	Choices []string
	// Receipt is the platform's handle of the sent post (DingTalk's
	// processQueryKey), where the channel gives one: who read it and
	// recalling it go through it.
	Receipt string
}

// PostFilter selects posts. Zero fields match everything.
type PostFilter struct {
	GroupID  int64
	Kind     string
	Key      string
	Status   PostStatus
	DueSince time.Time
	DueUntil time.Time
	// ClaimedBefore: posts whose claim (lease) ends before it.
	ClaimedBefore time.Time
}

// Outbox stores posts until they are sent.
type Outbox interface {
	// EnqueuePosts records posts whose (group, key) is new, in one
	// transaction, and reports how many were new.
	EnqueuePosts(ctx context.Context, posts []*OutboxPost) (int, error)
	// DuePosts returns pending posts due at now, oldest first.
	DuePosts(ctx context.Context, now time.Time, limit int) ([]*OutboxPost, error)
	// FindPosts returns posts matching f, by due time.
	FindPosts(ctx context.Context, f PostFilter) ([]*OutboxPost, error)
	// MarkPosts moves posts to status; for PostSending it counts an attempt.
	MarkPosts(ctx context.Context, ids []int64, status PostStatus, at time.Time, errText string) error
	// ClaimPost moves a post still pending to PostSending, counting an
	// attempt, for this process until until (its lease). It reports false
	// when the post is no longer pending: another replica claimed it.
	ClaimPost(ctx context.Context, id int64, until time.Time) (bool, error)
	// RetryPost puts a post back to pending, to be tried at next.
	RetryPost(ctx context.Context, id int64, errText string, next time.Time) error
	// SetReceipt records the platform's handle of a sent post.
	SetReceipt(ctx context.Context, id int64, receipt string) error
}

// ReceiptPoster is a channel that gives a handle for each post it sends,
// to learn later who read it and to take it back (ReadTracker).
type ReceiptPoster interface {
	PostForReceipt(ctx context.Context, groupID string, p Post) (receipt string, err error)
}

// ReadTracker is a channel that tells who read the bot's posts in a group
// and can recall them (DingTalk, within 24 hours).
type ReadTracker interface {
	// Readers returns the platform IDs of those who have read the post.
	Readers(ctx context.Context, groupID, receipt string) ([]string, error)
	// Recall takes the posts back.
	Recall(ctx context.Context, groupID string, receipts []string) error
}

// KeyedPoster is a channel that deduplicates posts by key, so resending a
// post whose fate is unknown cannot double it. The playground is one.
type KeyedPoster interface {
	PostKeyed(ctx context.Context, groupID string, p Post, key string) error
}

// PostLimiter keeps posts within platform limits: per group (the robot
// limit of 20 a minute) and over all groups. It works on the time it is
// given, not the wall clock, so schedules are tested with a fake clock.
type PostLimiter struct {
	perMinute int     // the limits as configured, for all replicas
	perSecond float64 // together
	share     int     // replicas sharing them (1: this process alone)

	perGroup rate.Limit
	burst    int
	global   *rate.Limiter

	mu     sync.Mutex
	groups map[string]*rate.Limiter
}

// NewPostLimiter allows at most perMinute posts in any 60 seconds to one
// group, and about perSecond posts a second over all (0: no global limit).
func NewPostLimiter(perMinute int, perSecond float64) *PostLimiter {
	l := &PostLimiter{perMinute: perMinute, perSecond: perSecond, share: 1, groups: map[string]*rate.Limiter{}}
	l.perGroup, l.burst = groupRate(perMinute)
	if perSecond > 0 {
		l.global = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
	return l
}

// groupRate is the token bucket that holds a group to perMinute posts in
// any minute: it lets through burst + rate×T in any window T, so burst +
// 60 s × rate = perMinute.
func groupRate(perMinute int) (rate.Limit, int) {
	burst := max(1, perMinute/4)
	return rate.Limit(float64(perMinute-burst) / 60), burst
}

// minGroupShare is the least a replica may post to one group a minute,
// however many share the limit.
const minGroupShare = 2

// Share divides the limits among n replicas sending to the same platform,
// so that together they keep to them: each may post 1/n of the global
// rate and of each group's (at least minGroupShare a minute).
func (l *PostLimiter) Share(n int, now time.Time) {
	n = max(n, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n == l.share {
		return
	}
	l.share = n
	l.perGroup, l.burst = groupRate(max(l.perMinute/n, minGroupShare))
	for _, g := range l.groups {
		g.SetLimitAt(now, l.perGroup)
		g.SetBurstAt(now, l.burst)
	}
	if l.global != nil {
		per := l.perSecond / float64(n)
		l.global.SetLimitAt(now, rate.Limit(per))
		l.global.SetBurstAt(now, max(1, int(per)))
	}
}

// Allow reports whether one more post to group may go out at now, taking
// the tokens if so. stop is true when the global limit is used up and no
// group can post until later.
func (l *PostLimiter) Allow(group string, now time.Time) (ok, stop bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, found := l.groups[group]
	if !found {
		g = rate.NewLimiter(l.perGroup, l.burst)
		l.groups[group] = g
	}
	if g.TokensAt(now) < 1 {
		return false, false
	}
	if l.global != nil && !l.global.AllowN(now, 1) {
		return false, true
	}
	g.AllowN(now, 1)
	return true, false
}

// Sender delivers due posts from the outbox through the channels, within
// the limits. Call Recover once at start-up, then Tick regularly.
//
// Guarantee: a post is recorded before it is sent and marked after. If the
// process dies in between, a post for a channel that deduplicates by key
// (KeyedPoster) is sent again with the same key: exactly once. For other
// channels it is marked unconfirmed and not sent again: at most once, and
// visible to admins, because a double post is worse in a resident group
// than one flagged as uncertain.
type Sender struct {
	Outbox   Outbox
	Channels map[string]Channel
	Limits   *PostLimiter
	Logger   *slog.Logger
	// Hold, if set, keeps a due post back for now (quiet hours).
	Hold func(p *OutboxPost, now time.Time) bool
	// MaxAttempts before a post is given up as failed.
	MaxAttempts int
	// Crash is a test hook called at the points where a process could die.
	Crash func(point string)
	// Replicas: other processes send from the same outbox. A post being
	// sent is then another's until its claim lapses (ClaimLease), not
	// abandoned by a process that died.
	Replicas bool
}

// ClaimLease is how long a claimed post is its sender's: far longer than
// a send may take (channels time out in seconds).
const ClaimLease = 2 * time.Minute

func (s *Sender) crash(point string) {
	if s.Crash != nil {
		s.Crash(point)
	}
}

// Recover settles posts left "sending" by a process that died: every such
// post when this is the only process, those whose claim has lapsed when
// there are replicas. With replicas it runs on a schedule, not only at
// start.
func (s *Sender) Recover(ctx context.Context, now time.Time) error {
	f := PostFilter{Status: PostSending}
	if s.Replicas {
		f.ClaimedBefore = now
	}
	stuck, err := s.Outbox.FindPosts(ctx, f)
	if err != nil {
		return err
	}
	for _, p := range stuck {
		if _, ok := s.Channels[p.Channel].(KeyedPoster); ok {
			err = s.Outbox.RetryPost(ctx, p.ID, "interrupted; resending with the same key", now)
		} else {
			s.Logger.Warn("post interrupted while sending; not resent to avoid a double post", "post", p.ID, "group", p.GroupID)
			err = s.Outbox.MarkPosts(ctx, []int64{p.ID}, PostUnconfirmed, now, "interrupted while sending")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendBatch bounds the posts handled in one tick.
const sendBatch = 500

// Tick sends what is due at now and the limits allow. It returns how many
// posts went out.
func (s *Sender) Tick(ctx context.Context, now time.Time) (int, error) {
	due, err := s.Outbox.DuePosts(ctx, now, sendBatch)
	if err != nil {
		return 0, err
	}
	var batch []*OutboxPost
	for _, p := range due {
		if s.Hold != nil && s.Hold(p, now) {
			continue
		}
		if _, ok := s.Channels[p.Channel]; !ok {
			continue // channel not running; the post waits for it
		}
		ok, stop := s.Limits.Allow(p.Channel+"/"+p.PlatformID, now)
		if stop {
			break
		}
		if ok {
			batch = append(batch, p)
		}
	}
	sent := 0
	for _, p := range batch {
		if ok, err := s.Outbox.ClaimPost(ctx, p.ID, now.Add(ClaimLease)); err != nil {
			return sent, err
		} else if !ok {
			continue // another replica is sending it
		}
		s.crash("marked-sending")
		receipt, err := s.post(ctx, p)
		s.crash("sent")
		if err != nil {
			if err := s.failed(ctx, p, err, now); err != nil {
				return sent, err
			}
			continue
		}
		if err := s.Outbox.MarkPosts(ctx, []int64{p.ID}, PostSent, now, ""); err != nil {
			return sent, err
		}
		if receipt != "" {
			if err := s.Outbox.SetReceipt(ctx, p.ID, receipt); err != nil {
				return sent, err
			}
		}
		s.crash("marked-sent")
		sent++
	}
	return sent, nil
}

func (s *Sender) post(ctx context.Context, p *OutboxPost) (receipt string, err error) {
	ch := s.Channels[p.Channel]
	post := Post{Kind: p.Kind, Text: p.Text, Choices: p.Choices}
	if kp, ok := ch.(KeyedPoster); ok {
		return "", kp.PostKeyed(ctx, p.PlatformID, post, p.Key)
	}
	if rp, ok := ch.(ReceiptPoster); ok {
		return rp.PostForReceipt(ctx, p.PlatformID, post)
	}
	return "", ch.Post(ctx, p.PlatformID, post)
}

// Retrying a post that failed: DefaultMaxAttempts tries, waiting
// firstBackoff, then twice as long each time (at most 2^maxBackoffDoublings
// times as long).
const (
	DefaultMaxAttempts  = 6
	firstBackoff        = 15 * time.Second
	maxBackoffDoublings = 10
)

// failed retries with backoff, or gives up on errors that retrying cannot
// fix and after MaxAttempts.
func (s *Sender) failed(ctx context.Context, p *OutboxPost, err error, now time.Time) error {
	attempts := p.Attempts + 1
	permanent := errors.Is(err, ErrPermanent)
	switch ErrorCode(err) {
	case EINVALID, ENOTFOUND, EFORBIDDEN:
		permanent = true
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	if permanent || attempts >= maxAttempts {
		s.Logger.Error("post failed; kept in the outbox for admins", "post", p.ID, "group", p.GroupID, "attempts", attempts, "err", err)
		return s.Outbox.MarkPosts(ctx, []int64{p.ID}, PostFailed, now, err.Error())
	}
	backoff := time.Duration(1<<min(attempts, maxBackoffDoublings)) * firstBackoff
	s.Logger.Warn("post failed; will retry", "post", p.ID, "attempt", attempts, "retry_in", backoff, "err", err)
	return s.Outbox.RetryPost(ctx, p.ID, err.Error(), now.Add(backoff))
}

// ErrPermanent marks channel errors that retrying cannot fix (the bot was
// removed from the group, the group no longer exists).
var ErrPermanent = errors.New("permanent failure")
