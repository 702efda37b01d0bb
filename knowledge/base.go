package knowledge

import (
	"embed"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed data/*.yaml
var embedded embed.FS

// Embedded returns the knowledge files built into the binary.
func Embedded() fs.FS {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Base holds the active knowledge and swaps in a new version on Reload. A
// version that fails to load is refused and the previous one stays active.
type Base struct {
	fsys   fs.FS
	dir    string // "" when embedded
	logger *slog.Logger
	cur    atomic.Pointer[Index]
	mu     sync.Mutex // serialises reloads
	stamp  string
}

// Open loads the knowledge in dir, or the embedded copy if dir is "".
func Open(dir string, logger *slog.Logger) (*Base, error) {
	b := &Base{dir: dir, logger: logger, fsys: Embedded()}
	if dir != "" {
		b.fsys = os.DirFS(dir)
	}
	if err := b.Reload(); err != nil {
		return nil, err
	}
	return b, nil
}

// Index returns the active knowledge.
func (b *Base) Index() *Index { return b.cur.Load() }

// Check judges text against the active knowledge.
func (b *Base) Check(text string) Verdict { return b.Index().Check(text) }

// Reload loads the files again. On error the active knowledge is unchanged.
func (b *Base) Reload() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ix, err := Load(b.fsys)
	if err != nil {
		if b.cur.Load() != nil {
			b.logger.Error("knowledge reload refused; keeping the previous version", "err", err)
		}
		return err
	}
	b.cur.Store(ix)
	b.stamp = b.dirStamp()
	b.logger.Info("knowledge loaded", "entries", len(ix.Entries), "dir", b.dir)
	return nil
}

// dirStamp summarises the files' names, sizes and times, to notice edits.
func (b *Base) dirStamp() string {
	if b.dir == "" {
		return ""
	}
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return ""
	}
	var s []byte
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			s = append(s, e.Name()...)
			s = append(s, info.ModTime().String()...)
			s = append(s, byte(info.Size()), byte(info.Size()>>8))
		}
	}
	return string(s)
}

// Watch reloads whenever the files in the directory change, checking every
// interval until done is closed. Embedded knowledge never changes.
func (b *Base) Watch(done <-chan struct{}, interval time.Duration) {
	if b.dir == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			b.mu.Lock()
			changed := b.dirStamp() != b.stamp
			b.mu.Unlock()
			if changed {
				if err := b.Reload(); err != nil {
					b.mu.Lock()
					b.stamp = b.dirStamp() // report a broken file once, not every tick
					b.mu.Unlock()
				}
			}
		}
	}
}
