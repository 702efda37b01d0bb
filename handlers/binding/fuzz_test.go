package binding

import (
	"testing"
	"unicode/utf8"
)

// FuzzParsePath: any binding text gives a path of named units, outermost
// first, or an error; never a panic.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"城关镇 幸福社区", "实验小学 三年级2班", "a/b>c，d", "镇", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		path, err := ParsePath(s)
		if err != nil {
			return
		}
		if len(path) == 0 {
			t.Fatalf("ParsePath(%q): no error and no units", s)
		}
		for _, u := range path {
			if u.Name == "" || utf8.RuneCountInString(u.Name) > maxNameRunes || rank[u.Kind] < 0 {
				t.Fatalf("ParsePath(%q): unit %+v", s, u)
			}
		}
	})
}
