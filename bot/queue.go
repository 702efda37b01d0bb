package bot

import (
	"context"
	"log/slog"
	"sync"
)

// Queue hands messages a channel has already accepted into the inbox to a
// few workers that dispatch them. It is for platforms that must be answered
// before the work is done (DingTalk's ACK, WeCom's HTTP 200): accept
// durably, answer, then Put.
type Queue struct {
	ctx  context.Context
	jobs chan *Message
	wg   sync.WaitGroup
}

// NewQueue starts workers dispatching to h through ch until ctx is done.
// Messages still queued then stay in the inbox for Router.Replay at the
// next start.
func NewQueue(ctx context.Context, workers int, h Handler, ch Channel, logger *slog.Logger) *Queue {
	q := &Queue{ctx: ctx, jobs: make(chan *Message, 1024)}
	for i := 0; i < workers; i++ {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-q.jobs:
					if err := h.Dispatch(WithAccepted(context.Background()), ch, m); err != nil && ErrorCode(err) != EDUPLICATE {
						logger.Error("handling message", "channel", ch.Name(), "msg", m.PlatformMsgID, "err", err)
					}
				}
			}
		}()
	}
	return q
}

// Put queues an accepted message. It reports false when the queue is
// shutting down; the message is then handled at the next start.
func (q *Queue) Put(m *Message) bool {
	select {
	case q.jobs <- m:
		return true
	case <-q.ctx.Done():
		return false
	}
}

// Wait returns once the workers have stopped.
func (q *Queue) Wait() { q.wg.Wait() }
