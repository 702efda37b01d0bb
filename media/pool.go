package media

import (
	"context"
	"runtime"
	"sync"

	"fanzha/bot"
)

// Pool reads pictures in a few workers, off the goroutines that handle
// messages, with a bounded queue: a burst of pictures waits its turn or is
// turned away at once, and text messages are never held up behind them.
type Pool struct {
	reader *Reader
	jobs   chan *job
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

type job struct {
	ctx  context.Context
	data []byte
	done chan outcome
}

type outcome struct {
	res *Result
	err error
}

// ErrBusy is returned when the queue is full.
var ErrBusy = bot.Errorf(bot.ECONFLICT, "现在要看的图片太多了，请过一两分钟再发一次。")

// NewPool starts workers reading with r; workers ≤ 0 means one per core
// but one, so that the bot keeps a core for everything else. queue bounds
// the pictures waiting.
func NewPool(r *Reader, workers, queue int) *Pool {
	if workers <= 0 {
		workers = max(1, runtime.NumCPU()-1)
	}
	p := &Pool{reader: r, jobs: make(chan *job, max(queue, 0)), stop: make(chan struct{})}
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Reader is the pool's reader.
func (p *Pool) Reader() *Reader { return p.reader }

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stop:
			return
		case j := <-p.jobs:
			if err := j.ctx.Err(); err != nil {
				j.done <- outcome{err: err} // the asker gave up while it waited
				continue
			}
			res, err := p.reader.Read(j.ctx, j.data)
			j.done <- outcome{res, err}
		}
	}
}

// Read queues data and waits for its result or for ctx. A full queue is
// ErrBusy, at once.
func (p *Pool) Read(ctx context.Context, data []byte) (*Result, error) {
	j := &job{ctx: ctx, data: data, done: make(chan outcome, 1)}
	select {
	case p.jobs <- j:
	case <-p.stop:
		return nil, bot.Errorf(bot.EINTERNAL, "media: pool closed")
	default:
		return nil, ErrBusy
	}
	select {
	case o := <-j.done:
		return o.res, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the workers once they finish the picture in hand.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}
