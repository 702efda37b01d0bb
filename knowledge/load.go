package knowledge

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var idRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// LoadError is a problem in a data file, located by file and line.
type LoadError struct {
	File string
	Line int
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads every *.yaml file of fsys's root as a list of entries, checks
// them and builds the matcher. Any error names the file and line and
// nothing is returned.
func Load(fsys fs.FS) (*Index, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, &LoadError{File: ".", Msg: "no *.yaml knowledge files found"}
	}
	var entries []*Entry
	seen := map[string]*Entry{}
	for _, name := range names {
		es, err := loadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if prev, ok := seen[e.ID]; ok {
				return nil, &LoadError{File: e.file, Line: e.line, Msg: fmt.Sprintf("entry %q: id already used at %s", e.ID, prev.Location())}
			}
			seen[e.ID] = e
			entries = append(entries, e)
		}
	}
	patterns, err := loadPatterns(fsys)
	if err != nil {
		return nil, err
	}
	ix, err := newIndex(entries, patterns)
	if err != nil {
		return nil, err
	}
	if err := ix.loadCalibration(fsys); err != nil {
		return nil, err
	}
	return ix, nil
}

// readList reads a YAML file that must hold a list, and returns its items;
// what is wrong is located by file and line.
func readList(fsys fs.FS, name, of string) ([]*yaml.Node, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, &LoadError{File: name, Msg: err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &LoadError{File: name, Line: yamlErrLine(err), Msg: err.Error()}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, &LoadError{File: name, Line: 1, Msg: "file must be a YAML list of " + of}
	}
	return doc.Content[0].Content, nil
}

func loadFile(fsys fs.FS, name string) ([]*Entry, error) {
	items, err := readList(fsys, name, "entries")
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, n := range items {
		var e Entry
		if err := decodeStrict(n, &e); err != nil {
			return nil, &LoadError{File: name, Line: n.Line, Msg: err.Error()}
		}
		e.file, e.line = path.Base(name), n.Line
		if err := e.validate(); err != nil {
			return nil, &LoadError{File: name, Line: n.Line, Msg: fmt.Sprintf("entry %q: %v", e.ID, err)}
		}
		out = append(out, &e)
	}
	return out, nil
}

// decodeStrict decodes a node refusing unknown keys, so a typo in a field
// name is an error rather than a silently empty field. The keys are
// checked against v's type first, then the node is decoded as it is: a
// quarter of the knowledge's load went to encoding every entry again for a
// decoder that knows its fields.
func decodeStrict(n *yaml.Node, v any) error {
	if err := knownKeys(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(lineRe.ReplaceAllString(err.Error(), ""), "yaml: "))
	}
	return nil
}

var lineRe = regexp.MustCompile(`line \d+: `)

// knownKeys reports the first key of a mapping in n that t has no field
// for, in the words of yaml's own KnownFields check, looking into nested
// structs, lists and pointers.
func knownKeys(n *yaml.Node, t reflect.Type) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		if t.Kind() != reflect.Pointer && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := knownKeys(c, t.Elem()); err != nil {
					return err
				}
			}
			return nil
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return nil // a mismatch of kinds is Decode's to report
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "<<" { // a merge: its keys are this mapping's
			if err := knownKeys(n.Content[i+1], reflect.SliceOf(t)); err != nil {
				return err
			}
			continue
		}
		f, ok := yamlField(t, n.Content[i].Value)
		if !ok {
			return fmt.Errorf("field %s not found in type %s", n.Content[i].Value, t)
		}
		if err := knownKeys(n.Content[i+1], f.Type); err != nil {
			return err
		}
	}
	return nil
}

// yamlField is the field of struct type t that key decodes into.
func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func (e *Entry) validate() error {
	if !idRe.MatchString(e.ID) {
		return fmt.Errorf("id must be lower-case letters, digits and _, 2-40 long")
	}
	if strings.TrimSpace(e.Name) == "" {
		return fmt.Errorf("name is empty")
	}
	switch e.Kind {
	case "":
		e.Kind = "type"
	case "type", "rule", "context", "part":
	default:
		return fmt.Errorf("kind %q must be type, rule, context or part", e.Kind)
	}
	if (e.Kind == "part") != (e.Role != "") {
		return fmt.Errorf("role is for parts only, and every part needs one")
	}
	if e.Kind == "part" {
		if _, ok := roles[e.Role]; !ok {
			return fmt.Errorf("role %q must be one of %s", e.Role, roleNames())
		}
		if len(e.Phrases)+len(e.Near)+len(e.Entities) == 0 {
			return fmt.Errorf("a part needs phrases, near pairs or entities")
		}
	} else if e.Kind == "context" {
		if len(e.Benign) == 0 {
			return fmt.Errorf("a context entry needs benign phrases")
		}
	} else {
		if len(e.Phrases) < 3 {
			return fmt.Errorf("needs at least 3 phrases, has %d", len(e.Phrases))
		}
		if strings.TrimSpace(e.Summary) == "" || len(e.Advice.Do) == 0 || len(e.Advice.Dont) == 0 {
			return fmt.Errorf("summary, advice.do and advice.dont must all be filled in")
		}
		if len(e.Audiences) == 0 {
			return fmt.Errorf("audiences is empty")
		}
	}
	for _, a := range e.Audiences {
		if _, ok := Audiences[a]; !ok {
			return fmt.Errorf("audience %q is not one of elderly, students, parents, finance, everyone", a)
		}
	}
	check := func(list []string) error {
		seen := map[string]bool{}
		for _, p := range list {
			text, _, err := parsePhrase(p)
			if err != nil {
				return err
			}
			norm := string(Normalize(nil, text))
			if norm == "" {
				return fmt.Errorf("phrase %q has no letters or digits to match", p)
			}
			if seen[norm] {
				return fmt.Errorf("phrase %q is listed twice (it would count twice)", p)
			}
			seen[norm] = true
		}
		return nil
	}
	if err := check(e.Phrases); err != nil {
		return err
	}
	if err := check(e.Benign); err != nil {
		return err
	}
	for _, n := range e.Near {
		r, err := parseNear(n)
		if err != nil {
			return err
		}
		if err := check(append(append([]string{}, r.left...), r.right...)); err != nil {
			return err
		}
		for _, p := range append(append([]string{}, r.left...), r.right...) {
			if len(Normalize(nil, p)) > maxNearPhrase {
				return fmt.Errorf("near %q: phrase %q is longer than %d bytes", n, p, maxNearPhrase)
			}
		}
	}
	for i, g := range e.Require {
		if len(g) == 0 {
			return fmt.Errorf("require group %d is empty", i+1)
		}
		if err := check(g); err != nil {
			return err
		}
	}
	for k, w := range e.Entities {
		switch k {
		case EntityURL, EntityOfficialURL, EntityShortURL, EntityOddDomain, EntityExampleURL, EntityGovHotline, EntityPhone, EntityHotline, EntityIntlPhone, EntityBankCard, EntityQQ, EntityWeChat, EntityAmount, EntityCode:
		default:
			return fmt.Errorf("entities: unknown kind %q", k)
		}
		if w <= 0 || w > 10 {
			return fmt.Errorf("entities: weight of %s must be from 0 to 10", k)
		}
	}
	return nil
}
