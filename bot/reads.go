package bot

import (
	"context"
	"log/slog"
	"time"
)

// ReadStore keeps who read the bot's posts.
type ReadStore interface {
	// PostsToRead returns the sent campaign posts with a receipt sent at
	// or after since.
	PostsToRead(ctx context.Context, since time.Time) ([]*OutboxPost, error)
	// AddReads records readers (platform IDs, pseudonymised by the store)
	// of post id; it reports how many were new.
	AddReads(ctx context.Context, id int64, channel string, readers []string) (int, error)
}

// Reads are asked for while a post is this young; recall is possible for
// recallWindow after sending.
const (
	ReadWindow   = 72 * time.Hour
	recallWindow = 24 * time.Hour
)

// ReadCollector asks the platforms that tell (ReadTracker) who read the
// campaign posts of the last ReadWindow, so a notice's 查收 counts real
// reads, not only those who answered 收到.
type ReadCollector struct {
	Store    ReadStore
	Outbox   Outbox
	Channels map[string]Channel
	Logger   *slog.Logger
}

// Tick collects readers and reports how many new reads it found.
func (r *ReadCollector) Tick(ctx context.Context, now time.Time) (int, error) {
	posts, err := r.Store.PostsToRead(ctx, now.Add(-ReadWindow))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, p := range posts {
		t, ok := r.Channels[p.Channel].(ReadTracker)
		if !ok {
			continue
		}
		readers, err := t.Readers(ctx, p.PlatformID, p.Receipt)
		if err != nil {
			r.Logger.Warn("asking who read a post", "post", p.ID, "err", err)
			continue // the next tick asks again
		}
		n, err := r.Store.AddReads(ctx, p.ID, p.Channel, readers)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Recall takes back a campaign's posts that the platforms still allow to
// be recalled (sent with a receipt within the last 24 hours); it reports
// how many groups it reached.
func (r *ReadCollector) Recall(ctx context.Context, campaignID int64, now time.Time) (int, error) {
	posts, err := r.Outbox.FindPosts(ctx, PostFilter{Key: CampaignKey(campaignID), Status: PostSent})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range posts {
		t, ok := r.Channels[p.Channel].(ReadTracker)
		if !ok || p.Receipt == "" || p.SentAt == nil || now.Sub(*p.SentAt) > recallWindow {
			continue
		}
		if err := t.Recall(ctx, p.PlatformID, []string{p.Receipt}); err != nil {
			r.Logger.Warn("recalling a cancelled campaign's post", "post", p.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}
