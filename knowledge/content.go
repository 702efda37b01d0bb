package knowledge

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Tip is one short piece of anti-fraud advice posted to groups.
type Tip struct {
	ID        string   `yaml:"id"`
	Text      string   `yaml:"text"`
	Audiences []string `yaml:"audiences"`
	Types     []string `yaml:"types"`  // knowledge entry IDs it teaches
	Season    string   `yaml:"season"` // "" for all year
}

// Question is one quiz question: a choice among options A-D, or true/false.
type Question struct {
	ID        string   `yaml:"id"`
	Type      string   `yaml:"type"` // the knowledge entry it teaches
	Audiences []string `yaml:"audiences"`
	TF        bool     `yaml:"tf"`
	Q         string   `yaml:"q"`
	Options   []string `yaml:"options"`
	Answer    string   `yaml:"answer"` // "A".."D", or 对/错 for true/false
	Explain   string   `yaml:"explain"`
}

// Choices returns the options as shown: A-D, or 对/错 for true/false.
func (q *Question) Choices() []string {
	if q.TF {
		return []string{"对", "错"}
	}
	return q.Options
}

// AnswerIndex is the index of the correct choice.
func (q *Question) AnswerIndex() int {
	if q.TF {
		if q.Answer == "对" {
			return 0
		}
		return 1
	}
	return int(q.Answer[0] - 'A')
}

// maxTipRunes keeps a tip to one phone screen.
const maxTipRunes = 160

// seasons are the windows (month-day, inclusive, may wrap the year end) in
// which seasonal tips are posted.
var seasons = map[string][2]int{
	"kaixue":    {815, 930},   // 开学季
	"shuang11":  {1020, 1115}, // 双十一
	"chunjie":   {110, 228},   // 春节、春运
	"gaokao":    {601, 831},   // 高考、录取、暑假
	"nianzhong": {1120, 630},  // 年底结算 through 个税年度汇算
}

// InSeason reports whether t (in the campaign's time zone) falls in the
// tip's season. Tips without a season are always in season.
func (tip *Tip) InSeason(t time.Time) bool {
	if tip.Season == "" {
		return true
	}
	w := seasons[tip.Season]
	md := int(t.Month())*100 + t.Day()
	if w[0] <= w[1] {
		return md >= w[0] && md <= w[1]
	}
	return md >= w[0] || md <= w[1]
}

// Content is the tips and quiz questions, loaded with the knowledge base.
type Content struct {
	Tips      []*Tip
	Questions []*Question
	tipByID   map[string]*Tip
	qByID     map[string]*Question
}

// Tip returns the tip with id, or nil.
func (c *Content) Tip(id string) *Tip { return c.tipByID[id] }

// Question returns the question with id, or nil.
func (c *Content) Question(id string) *Question { return c.qByID[id] }

// loadContent reads tips/*.yaml and quiz/*.yaml, checking every reference
// to a knowledge entry against ix.
func loadContent(fsys fs.FS, ix *Index) (*Content, error) {
	known := map[string]bool{}
	for _, e := range ix.Entries {
		known[e.ID] = true
	}
	c := &Content{tipByID: map[string]*Tip{}, qByID: map[string]*Question{}}
	err := eachItem(fsys, "tips", func(file string, n *yaml.Node) error {
		var t Tip
		if err := decodeStrict(n, &t); err != nil {
			return err
		}
		if err := t.validate(known); err != nil {
			return fmt.Errorf("tip %q: %w", t.ID, err)
		}
		if c.tipByID[t.ID] != nil {
			return fmt.Errorf("tip %q: id used twice", t.ID)
		}
		c.tipByID[t.ID] = &t
		c.Tips = append(c.Tips, &t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachItem(fsys, "quiz", func(file string, n *yaml.Node) error {
		var q Question
		if err := decodeStrict(n, &q); err != nil {
			return err
		}
		if err := q.validate(known); err != nil {
			return fmt.Errorf("question %q: %w", q.ID, err)
		}
		if c.qByID[q.ID] != nil {
			return fmt.Errorf("question %q: id used twice", q.ID)
		}
		c.qByID[q.ID] = &q
		c.Questions = append(c.Questions, &q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.Tips) == 0 || len(c.Questions) == 0 {
		return nil, &LoadError{File: "tips/, quiz/", Msg: "need at least one tip and one question"}
	}
	return c, nil
}

// eachItem calls fn for every list item of every dir/*.yaml file, turning
// its errors into LoadErrors with file and line.
func eachItem(fsys fs.FS, dir string, fn func(file string, n *yaml.Node) error) error {
	names, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return &LoadError{File: name, Msg: err.Error()}
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return &LoadError{File: name, Line: yamlErrLine(err), Msg: err.Error()}
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
			return &LoadError{File: name, Line: 1, Msg: "file must be a YAML list"}
		}
		for _, n := range doc.Content[0].Content {
			if err := fn(name, n); err != nil {
				return &LoadError{File: name, Line: n.Line, Msg: err.Error()}
			}
		}
	}
	return nil
}

func checkAudiences(as []string) error {
	if len(as) == 0 {
		return fmt.Errorf("audiences is empty")
	}
	for _, a := range as {
		if _, ok := Audiences[a]; !ok {
			return fmt.Errorf("audience %q is not one of elderly, students, parents, finance, everyone", a)
		}
	}
	return nil
}

func (t *Tip) validate(known map[string]bool) error {
	if !idRe.MatchString(t.ID) {
		return fmt.Errorf("id must be lower-case letters, digits and _")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(t.Text)); n == 0 || n > maxTipRunes {
		return fmt.Errorf("text has %d characters; want 1 to %d", n, maxTipRunes)
	}
	for _, ty := range t.Types {
		if !known[ty] {
			return fmt.Errorf("type %q is not a knowledge entry", ty)
		}
	}
	if _, ok := seasons[t.Season]; t.Season != "" && !ok {
		return fmt.Errorf("season %q is not one of kaixue, shuang11, chunjie, gaokao, nianzhong", t.Season)
	}
	return checkAudiences(t.Audiences)
}

func (q *Question) validate(known map[string]bool) error {
	if !idRe.MatchString(q.ID) {
		return fmt.Errorf("id must be lower-case letters, digits and _")
	}
	if strings.TrimSpace(q.Q) == "" || strings.TrimSpace(q.Explain) == "" {
		return fmt.Errorf("q and explain must be filled in")
	}
	if !known[q.Type] {
		return fmt.Errorf("type %q is not a knowledge entry", q.Type)
	}
	if q.TF {
		if len(q.Options) > 0 {
			return fmt.Errorf("a true/false question has no options")
		}
		if q.Answer != "对" && q.Answer != "错" {
			return fmt.Errorf("answer of a true/false question must be 对 or 错, not %q", q.Answer)
		}
	} else {
		if len(q.Options) < 2 || len(q.Options) > 4 {
			return fmt.Errorf("needs 2 to 4 options, has %d", len(q.Options))
		}
		if len(q.Answer) != 1 || q.Answer[0] < 'A' || int(q.Answer[0]-'A') >= len(q.Options) {
			return fmt.Errorf("answer %q must be a letter of one of the %d options", q.Answer, len(q.Options))
		}
	}
	return checkAudiences(q.Audiences)
}
