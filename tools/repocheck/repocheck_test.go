// Package repocheck holds checks on the repository itself.
package repocheck

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// magic marks files that must not be committed: compiled programs and
// generated databases (they are built or made on the machine that runs
// them; .gitignore keeps the usual ones out).
var magic = []struct {
	what   string
	prefix []byte
}{
	{"an ELF executable", []byte("\x7fELF")},
	{"a Mach-O executable", []byte{0xcf, 0xfa, 0xed, 0xfe}},
	{"a Mach-O executable", []byte{0xfe, 0xed, 0xfa, 0xcf}},
	{"a Windows executable", []byte("MZ")},
	{"a SQLite database", []byte("SQLite format 3\x00")},
}

// TestNoBinariesCommitted fails on any tracked file that is a compiled
// program or a database, or named like a test binary.
func TestNoBinariesCommitted(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout: ", err)
	}
	dir := strings.TrimSpace(string(root))
	out, err := exec.Command("git", "-C", dir, "ls-files", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("git ls-files listed %d files; is this the repository?", len(files))
	}
	head := make([]byte, 16)
	for _, name := range files {
		if strings.HasSuffix(name, ".test") || strings.HasSuffix(name, ".exe") {
			t.Errorf("%s: a compiled binary is committed", name)
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue // deleted in the work tree
		}
		n, _ := io.ReadFull(f, head)
		f.Close()
		for _, m := range magic {
			if bytes.HasPrefix(head[:n], m.prefix) {
				t.Errorf("%s is %s: build or generate it, do not commit it", name, m.what)
			}
		}
	}
}
