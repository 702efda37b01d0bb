package knowledge

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed data/*.yaml data/tips/*.yaml data/quiz/*.yaml data/patterns/*.yaml data/calibration/*.tsv
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
	con    atomic.Pointer[Content]
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

// Dir is the knowledge folder, "" while the embedded copy is active.
func (b *Base) Dir() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dir
}

// UseDir switches to the knowledge in dir, if it loads; otherwise the
// active knowledge and its source stay.
func (b *Base) UseDir(dir string) error {
	b.mu.Lock()
	oldDir, oldFS := b.dir, b.fsys
	b.dir, b.fsys = dir, os.DirFS(dir)
	b.mu.Unlock()
	if err := b.Reload(); err != nil {
		b.mu.Lock()
		b.dir, b.fsys = oldDir, oldFS
		b.mu.Unlock()
		return err
	}
	return nil
}

// Content returns the active tips and quiz questions.
func (b *Base) Content() *Content { return b.con.Load() }

// Index returns the active knowledge.
func (b *Base) Index() *Index { return b.cur.Load() }

// Check judges text against the active knowledge.
func (b *Base) Check(text string) Verdict { return b.Index().Check(text) }

// TypeName is the name of a scam type, rule or pattern by id, "" if none.
func (b *Base) TypeName(id string) string { return b.Index().TypeName(id) }

// Reload loads the files again. On error the active knowledge is unchanged.
func (b *Base) Reload() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Remember what was tried, good or broken, so the watcher reloads only
	// after the next edit and reports a broken file once.
	b.stamp = b.dirStamp()
	ix, err := Load(b.fsys)
	var con *Content
	if err == nil {
		con, err = loadContent(b.fsys, ix)
	}
	if err != nil {
		if b.cur.Load() != nil {
			b.logger.Error("knowledge reload refused; keeping the previous version", "err", err)
		}
		return err
	}
	b.cur.Store(ix)
	b.con.Store(con)
	b.logger.Info("knowledge loaded", "entries", len(ix.Entries), "tips", len(con.Tips), "questions", len(con.Questions), "dir", b.dir,
		"calibration", ix.Calibrated())
	return nil
}

// dirStamp summarises the files' names, sizes and times, to notice edits.
func (b *Base) dirStamp() string {
	if b.dir == "" {
		return ""
	}
	var s strings.Builder
	_ = filepath.WalkDir(b.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file that vanished mid-walk shows as a change next time
		}
		if info, err := e.Info(); err == nil && !e.IsDir() {
			fmt.Fprintf(&s, "%s %d %d\n", path, info.ModTime().UnixNano(), info.Size())
		}
		return nil
	})
	return s.String()
}

// ReloadIfChanged reloads if the directory's files changed since the last
// attempt, and reports whether new knowledge is active.
func (b *Base) ReloadIfChanged() (bool, error) {
	if b.dir == "" {
		return false, nil
	}
	b.mu.Lock()
	changed := b.dirStamp() != b.stamp
	b.mu.Unlock()
	if !changed {
		return false, nil
	}
	err := b.Reload()
	return err == nil, err
}

// Watch calls ReloadIfChanged every interval until done is closed.
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
			_, _ = b.ReloadIfChanged() // Reload logs what went wrong
		}
	}
}
