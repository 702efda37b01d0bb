package knowledge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"
)

// Editing the knowledge base from the web: an edit of one type's phrases
// and advice is checked by the same loader as the files, written to the
// knowledge folder file by file (each a temporary file renamed into
// place), and recorded as a version; any version can be restored.

// EntryEdit is what the web form changes of a scam type or rule.
type EntryEdit struct {
	ID      string
	Phrases []string // "phrase" or "phrase=weight"
	Do      []string
	Dont    []string
	// Tips, if not nil, are the ids of the tips that teach this type: the
	// type is added to their types and taken off every other tip's.
	Tips []string
}

// Version is one state of the knowledge folder in its history.
type Version struct {
	ID   string    `json:"id"` // sortable: "000012"
	At   time.Time `json:"at"`
	Who  string    `json:"who"`
	What string    `json:"what"`
}

// Editor edits the knowledge folder Dir of Base and keeps the versions in
// History.
type Editor struct {
	Base    *Base
	Dir     string
	History string
	Now     func() time.Time
	// Changed, if set, is given the folder's files after every applied
	// edit and rollback: replicas publish them to the others.
	Changed func(files map[string][]byte) error
}

// changed hands the folder as it now is to Changed.
func (e *Editor) changed() error {
	if e.Changed == nil {
		return nil
	}
	cur, err := files(os.DirFS(e.Dir))
	if err != nil {
		return err
	}
	out := make(map[string][]byte, len(cur))
	for name, f := range cur {
		out[name] = f.Data
	}
	return e.Changed(out)
}

// Install makes files the folder's whole content and switches to it, as
// an edit made elsewhere (another replica) arrives. Knowledge that does
// not load is refused and nothing changes; installing is not an edit, so
// nothing is recorded in the history or handed to Changed.
func (e *Editor) Install(in map[string][]byte) error {
	next := fstest.MapFS{}
	for name, b := range in {
		if clean := path.Clean(name); clean != name || strings.HasPrefix(name, "..") || path.IsAbs(name) {
			return fmt.Errorf("knowledge file name %q is not a plain relative path", name)
		}
		next[name] = &fstest.MapFile{Data: b}
	}
	if err := loads(next); err != nil {
		return fmt.Errorf("published knowledge does not load, not installed: %w", err)
	}
	if err := e.writeFolder(next); err != nil {
		return err
	}
	if e.Base.Dir() != e.Dir {
		return e.Base.UseDir(e.Dir)
	}
	return e.Base.Reload()
}

// Materialize writes the embedded knowledge files into dir unless it holds
// some already, so that an install that never configured a knowledge
// folder can be edited. It reports whether it wrote them.
func Materialize(dir string) (bool, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return false, nil
	}
	err := fs.WalkDir(Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Embedded(), p)
		if err != nil {
			return err
		}
		return writeAtomic(filepath.Join(dir, filepath.FromSlash(p)), b)
	})
	return err == nil, err
}

// writeAtomic writes b to name through a temporary file renamed into place:
// a crash leaves the old file or the new one, never half of one.
func writeAtomic(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".edit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// files reads every knowledge file of a folder: the YAML files and the
// calibration weights.
func files(fsys fs.FS) (fstest.MapFS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") && p != calibrationFile {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b}
		return nil
	})
	return out, err
}

// Stage applies edit to a copy of the folder's files and loads it exactly
// as a reload would: the staged knowledge, or the loader's error naming the
// file, line and field. Nothing is written.
func (e *Editor) Stage(edit EntryEdit) (*Index, fstest.MapFS, error) {
	all, err := files(os.DirFS(e.Dir))
	if err != nil {
		return nil, nil, err
	}
	entry := e.Base.Index().byID(edit.ID)
	if entry == nil || entry.Kind == "part" || entry.Kind == "context" {
		return nil, nil, fmt.Errorf("没有可以编辑的类型 %q", edit.ID)
	}
	name := entry.file
	f := all[name]
	if f == nil {
		return nil, nil, fmt.Errorf("类型 %s 所在的文件 %s 不在知识库文件夹里", edit.ID, name)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := setEntry(&doc, edit); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, nil, err
	}
	all[name] = &fstest.MapFile{Data: out}
	if edit.Tips != nil {
		if err := relateTips(all, edit.ID, edit.Tips); err != nil {
			return nil, nil, err
		}
	}
	ix, err := Load(all)
	if err == nil {
		_, err = loadContent(all, ix)
	}
	if err != nil {
		return nil, nil, err
	}
	return ix, all, nil
}

// relateTips makes the tips with ids, and only those, teach type id, in
// every tips file of all.
func relateTips(all fstest.MapFS, id string, ids []string) error {
	want := map[string]bool{}
	for _, t := range ids {
		want[t] = true
	}
	found := 0
	for name, f := range all {
		if !strings.HasPrefix(name, "tips/") {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(f.Data, &doc); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
			continue
		}
		changed := false
		for _, m := range doc.Content[0].Content {
			tid := value(m, "id")
			if m.Kind != yaml.MappingNode || tid == nil {
				continue
			}
			types := value(m, "types")
			var have []string
			if types != nil {
				for _, t := range types.Content {
					if t.Value != id {
						have = append(have, t.Value)
					}
				}
			}
			if want[tid.Value] {
				found++
				have = append(have, id)
			}
			if types == nil && !want[tid.Value] {
				continue
			}
			if types == nil || len(types.Content) != len(have) || want[tid.Value] != contains(types.Content, id) {
				set(m, "types", flowList(have))
				changed = true
			}
		}
		if changed {
			out, err := yaml.Marshal(&doc)
			if err != nil {
				return err
			}
			all[name] = &fstest.MapFile{Data: out}
		}
	}
	if found != len(want) {
		return fmt.Errorf("tips: 有 %d 条提示编号不存在", len(want)-found)
	}
	return nil
}

func contains(ns []*yaml.Node, v string) bool {
	for _, n := range ns {
		if n.Value == v {
			return true
		}
	}
	return false
}

// setEntry replaces the phrases and advice of the entry with edit's id in
// a YAML document holding a list of entries.
func setEntry(doc *yaml.Node, edit EntryEdit) error {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return errors.New("不是条目列表")
	}
	for _, m := range doc.Content[0].Content {
		if m.Kind != yaml.MappingNode || value(m, "id") == nil || value(m, "id").Value != edit.ID {
			continue
		}
		set(m, "phrases", flowList(edit.Phrases))
		advice := &yaml.Node{Kind: yaml.MappingNode}
		set(advice, "do", flowList(edit.Do))
		set(advice, "dont", flowList(edit.Dont))
		set(m, "advice", advice)
		return nil
	}
	return fmt.Errorf("没有找到条目 %s", edit.ID)
}

func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s})
	}
	return n
}

// Apply stages edit, records the folder as it was as a version, writes
// the changed files and reloads. On any error before the write nothing
// changes.
func (e *Editor) Apply(edit EntryEdit, who string) (Version, error) {
	_, staged, err := e.Stage(edit)
	if err != nil {
		return Version{}, err
	}
	v, err := e.replace(staged, who, "修改 "+edit.ID)
	if err != nil {
		return v, err
	}
	return v, e.changed()
}

// replace records the current files as a version, then writes files over
// the folder and reloads.
func (e *Editor) replace(files fstest.MapFS, who, what string) (Version, error) {
	v, err := e.snapshot(who, what)
	if err != nil {
		return Version{}, err
	}
	if err := e.writeFolder(files); err != nil {
		return v, err
	}
	return v, e.Base.Reload()
}

// writeFolder makes files the folder's whole content: files that differ
// are written, files not among them removed.
func (e *Editor) writeFolder(next fstest.MapFS) error {
	cur, err := files(os.DirFS(e.Dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for name, f := range next {
		if c := cur[name]; c != nil && string(c.Data) == string(f.Data) {
			continue
		}
		if err := writeAtomic(filepath.Join(e.Dir, filepath.FromSlash(name)), f.Data); err != nil {
			return err
		}
	}
	for name := range cur {
		if next[name] == nil {
			if err := os.Remove(filepath.Join(e.Dir, filepath.FromSlash(path.Clean(name)))); err != nil {
				return err
			}
		}
	}
	return nil
}

// loads reports why files would not load as knowledge, or nil.
func loads(files fstest.MapFS) error {
	ix, err := Load(files)
	if err == nil {
		_, err = loadContent(files, ix)
	}
	return err
}

// snapshot copies the folder's files into a new version of the history.
func (e *Editor) snapshot(who, what string) (Version, error) {
	vs, err := e.Versions()
	if err != nil {
		return Version{}, err
	}
	n := 1
	if len(vs) > 0 {
		last, _ := strconv.Atoi(vs[0].ID)
		n = last + 1
	}
	v := Version{ID: fmt.Sprintf("%06d", n), At: e.Now(), Who: who, What: what}
	cur, err := files(os.DirFS(e.Dir))
	if err != nil {
		return v, err
	}
	dir := filepath.Join(e.History, v.ID)
	for name, f := range cur {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(name)), f.Data); err != nil {
			return v, err
		}
	}
	meta, _ := json.Marshal(v)
	return v, writeAtomic(filepath.Join(dir, "version.json"), meta)
}

// Versions lists the history, newest first. Each version is the folder as
// it was before the change it names.
func (e *Editor) Versions() ([]Version, error) {
	entries, err := os.ReadDir(e.History)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, d := range entries {
		b, err := os.ReadFile(filepath.Join(e.History, d.Name(), "version.json"))
		if err != nil {
			continue // an unfinished snapshot: not a version
		}
		var v Version
		if json.Unmarshal(b, &v) == nil && v.ID == d.Name() {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// Rollback restores version id: it is loaded first, and refused if it no
// longer loads; the folder as it is now becomes a version itself.
func (e *Editor) Rollback(id, who string) (Version, error) {
	if strings.ContainsAny(id, `/\.`) || id == "" {
		return Version{}, fmt.Errorf("没有版本 %q", id)
	}
	dir := filepath.Join(e.History, id)
	if _, err := os.Stat(filepath.Join(dir, "version.json")); err != nil {
		return Version{}, fmt.Errorf("没有版本 %q", id)
	}
	old, err := files(os.DirFS(dir))
	if err != nil {
		return Version{}, err
	}
	if err := loads(old); err != nil {
		return Version{}, fmt.Errorf("版本 %s 无法加载，未恢复：%w", id, err)
	}
	// Files added since that version go with the rollback (writeFolder).
	v, err := e.replace(old, who, "恢复到版本 "+id)
	if err != nil {
		return v, err
	}
	return v, e.changed()
}
