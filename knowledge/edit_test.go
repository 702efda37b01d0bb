package knowledge

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func hasType(v Verdict, id string) bool {
	for _, t := range v.Types {
		if t.ID == id {
			return true
		}
	}
	return false
}

// TestEditApplyAndRollback: an edit from the web changes the check at once
// and keeps a version; a bad edit names its problem and changes nothing;
// a rollback restores the verdict before the edit.
func TestEditApplyAndRollback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "knowledge")
	if wrote, err := Materialize(dir); err != nil || !wrote {
		t.Fatalf("materialize: %v, %v", wrote, err)
	}
	if wrote, _ := Materialize(dir); wrote {
		t.Fatal("materialize overwrote a folder that has files")
	}
	b, err := Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.UseDir(dir); err != nil || b.Dir() != dir {
		t.Fatalf("use dir: %v", err)
	}
	ed := &Editor{Base: b, Dir: dir, History: filepath.Join(t.TempDir(), "history"), Now: func() time.Time { return time.Unix(1e9, 0) }}
	const msg = "熊猫闪购折扣券限时领，领了再说"
	if hasType(b.Check(msg), "xujia_gouwu") {
		t.Fatal("the test phrase already counts")
	}
	e := b.Index().byID("xujia_gouwu")
	edit := EntryEdit{ID: e.ID, Phrases: append(append([]string{}, e.Phrases...), "熊猫闪购=6"), Do: e.Advice.Do, Dont: append(e.Advice.Dont, "不领来历不明的折扣券")}
	staged, _, err := ed.Stage(edit)
	if err != nil {
		t.Fatal(err)
	}
	if !hasType(staged.Check(msg), "xujia_gouwu") || hasType(b.Check(msg), "xujia_gouwu") {
		t.Fatal("staging changed the active knowledge, or the staged one does not see the phrase")
	}
	before, _ := os.ReadFile(filepath.Join(dir, "shopping.yaml"))
	bad := edit
	bad.Phrases = append(bad.Phrases, "坏权重=abc")
	if _, err := ed.Apply(bad, "town"); err == nil || !strings.Contains(err.Error(), "shopping.yaml") {
		t.Fatalf("a bad edit: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "shopping.yaml")); string(after) != string(before) {
		t.Fatal("a bad edit changed the file")
	}
	v, err := ed.Apply(edit, "town")
	if err != nil {
		t.Fatal(err)
	}
	if !hasType(b.Check(msg), "xujia_gouwu") {
		t.Fatal("the edit is not active after Apply")
	}
	if got := b.Index().byID("xujia_gouwu").Advice.Dont; got[len(got)-1] != "不领来历不明的折扣券" {
		t.Fatalf("advice not saved: %v", got)
	}
	vs, _ := ed.Versions()
	if len(vs) != 1 || vs[0].ID != v.ID || vs[0].Who != "town" {
		t.Fatalf("versions: %+v", vs)
	}
	// The tips that teach the type: one more, then restored by the rollback.
	tip := b.Content().Tips[0]
	for _, ty := range tip.Types {
		if ty == "xujia_gouwu" {
			t.Fatal("the first tip already teaches the type")
		}
	}
	var related []string
	for _, tp := range b.Content().Tips {
		for _, ty := range tp.Types {
			if ty == "xujia_gouwu" {
				related = append(related, tp.ID)
			}
		}
	}
	edit.Tips = append(related, tip.ID)
	if _, err := ed.Apply(edit, "town"); err != nil {
		t.Fatal(err)
	}
	if got := b.Content().Tip(tip.ID).Types; got[len(got)-1] != "xujia_gouwu" {
		t.Fatalf("tip %s types %v", tip.ID, got)
	}
	edit.Tips = []string{"no-such-tip"}
	if _, _, err := ed.Stage(edit); err == nil {
		t.Fatal("a made-up tip was accepted")
	}
	if _, err := ed.Rollback(v.ID, "town"); err != nil {
		t.Fatal(err)
	}
	if hasType(b.Check(msg), "xujia_gouwu") {
		t.Fatal("rollback did not restore the verdict")
	}
	for _, ty := range b.Content().Tip(tip.ID).Types {
		if ty == "xujia_gouwu" {
			t.Fatal("the rollback did not restore the tip")
		}
	}
	if vs, _ := ed.Versions(); len(vs) != 3 {
		t.Fatalf("the rollback is not a version itself: %+v", vs)
	}
	if _, err := ed.Rollback("../x", "town"); err == nil {
		t.Fatal("rollback to a made-up version")
	}
}

// TestInstallPublished: knowledge another replica published replaces the
// folder and is active at once, files it no longer has go; knowledge that
// does not load is refused and nothing changes.
func TestInstallPublished(t *testing.T) {
	src := t.TempDir()
	if _, err := Materialize(src); err != nil {
		t.Fatal(err)
	}
	// What the other replica published: the folder after an edit.
	other, err := Open(src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := other.Index().byID("xujia_gouwu")
	_, published, err := (&Editor{Base: other, Dir: src}).Stage(EntryEdit{ID: e.ID, Phrases: append(append([]string{}, e.Phrases...), "熊猫闪购=6"),
		Do: e.Advice.Do, Dont: e.Advice.Dont})
	if err != nil {
		t.Fatal(err)
	}
	in := map[string][]byte{}
	for name, f := range published {
		in[name] = f.Data
	}
	const msg = "熊猫闪购折扣券限时领，领了再说"

	b, err := Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stale.yaml"), []byte("entries: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ed := &Editor{Base: b, Dir: dir, History: filepath.Join(t.TempDir(), "history"), Now: time.Now}
	broken := map[string][]byte{"shopping.yaml": []byte("entries: [\n")}
	if err := ed.Install(broken); err == nil || hasType(b.Check(msg), "xujia_gouwu") || b.Dir() != "" {
		t.Fatalf("broken knowledge: %v; want refused with nothing changed", err)
	}
	if err := ed.Install(map[string][]byte{"../x.yaml": nil}); err == nil {
		t.Fatal("a name outside the folder was accepted")
	}
	if err := ed.Install(in); err != nil {
		t.Fatal(err)
	}
	if !hasType(b.Check(msg), "xujia_gouwu") || b.Dir() != dir {
		t.Fatal("installed knowledge is not active")
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.yaml")); !os.IsNotExist(err) {
		t.Fatalf("a file the published knowledge lacks is still there: %v", err)
	}
}
