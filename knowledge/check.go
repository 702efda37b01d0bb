package knowledge

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Level is how risky a message looks.
type Level int

const (
	LevelNone       Level = iota // 未发现明显风险
	LevelSuspicious              // 可疑
	LevelHigh                    // 高风险
)

// Score thresholds for the levels. A single strong phrase of a universal
// rule ("安全账户" = 8) is high risk on its own; a type needs several
// ordinary tell-tales together.
const (
	highScore       = 6
	suspiciousScore = 3.5
)

// String is the level as shown to people.
func (l Level) String() string {
	switch l {
	case LevelHigh:
		return "高风险"
	case LevelSuspicious:
		return "可疑"
	}
	return "未发现明显风险"
}

// Code is the level in machine output: high, suspicious or none.
func (l Level) Code() string {
	switch l {
	case LevelHigh:
		return "high"
	case LevelSuspicious:
		return "suspicious"
	}
	return "none"
}

// TypeScore is one scam type or rule the message matched.
type TypeScore struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Rule    bool     `json:"rule,omitempty"`
	Pattern bool     `json:"pattern,omitempty"` // a combination of parts (structure.go), not a type
	Score   float64  `json:"score"`
	Phrases []string `json:"phrases"`
}

// Verdict is what the knowledge base says about one message.
type Verdict struct {
	Level Level `json:"-"`
	// Frame is FrameScam, FrameEducation or FrameOrdinary.
	Frame string `json:"frame"`
	// Warn tells whether an unrequested group warning is due: a scam
	// aimed at the reader, at high risk. Never on education.
	Warn bool `json:"warn"`
	// FrameScore is the weight of education evidence (structure.go).
	FrameScore float64 `json:"frame_score"`
	// Confidence is the calibration layer's probability that a flagged
	// structure is a scam (calibration.go); 0 when nothing was flagged.
	Confidence float64       `json:"confidence,omitempty"`
	Parts      []PartHit     `json:"parts"`             // the parts of a scam's structure found
	Pattern    *PatternMatch `json:"pattern,omitempty"` // the combination that made the verdict
	Types      []TypeScore   `json:"types"`             // best first, at most maxTypes
	Phrases    []string      `json:"phrases"`           // what triggered the types, in order of first appearance
	Entities   []Entity      `json:"entities"`          // links, numbers, accounts, amounts
	Do         []string      `json:"do,omitempty"`
	Dont       []string      `json:"dont,omitempty"`

	cal calInput // what the calibration layer judged, for learning it
}

// verdictMem is what a verdict's slices point into: the arrays of one
// allocation, so that a check allocates once for all of them. A verdict
// with more than fits spills to the heap.
type verdictMem struct {
	entities []Entity
	parts    []PartHit
	cands    []TypeScore
	pool     []string
	phrases  []string // Verdict.Phrases
	patPhr   []string // the phrases of the pattern that fired
	pattern  *PatternMatch
}

// The arrays come in two sizes: a short message finds less, and
// allocating (and collecting) half the memory made its check 7 % faster.
type (
	shortMem struct {
		entities [2]Entity
		parts    [6]PartHit
		cands    [4]TypeScore
		pool     [12]string
		phrases  [8]string
		patPhr   [4]string
		pattern  PatternMatch
	}
	longMem struct {
		entities [4]Entity
		parts    [10]PartHit
		cands    [6]TypeScore
		pool     [24]string
		phrases  [16]string
		patPhr   [6]string
		pattern  PatternMatch
	}
)

// shortText is the longest message, in bytes, that gets shortMem: about
// 50 Chinese characters.
const shortText = 150

// alloc makes m's arrays for a message of n bytes.
func (m *verdictMem) alloc(n int) {
	if n <= shortText {
		a := new(shortMem)
		*m = verdictMem{a.entities[:], a.parts[:], a.cands[:], a.pool[:], a.phrases[:], a.patPhr[:], &a.pattern}
		return
	}
	a := new(longMem)
	*m = verdictMem{a.entities[:], a.parts[:], a.cands[:], a.pool[:], a.phrases[:], a.patPhr[:], &a.pattern}
}

// Hotline is the line every verdict ends with.
const Hotline = "拿不准就拨打 96110 反诈专线咨询；已经转账请立即拨打 110 报警。"

const maxTypes = 3

type ref struct {
	entry   int32 // -1 for an entity trigger
	trigger trigger
	weight  float64
	benign  bool
	group   int8  // require group index, -1 if none
	near    int16 // near rule index of the entry, -1 if none
	side    int8  // near: 0 left, 1 right
	display string
}

// nearHit is one occurrence of a near rule's phrase in a message.
type nearHit struct {
	id         int32 // the phrase found
	entry      int32
	rule       int16
	side       int8
	start, end int
}

// Index is a loaded knowledge base, ready to check messages. It is
// immutable and safe for concurrent use.
type Index struct {
	Entries []*Entry
	ac      *automaton
	refs    [][]ref // by pattern ID
	plen    []int   // byte length of each pattern
	near    [][]nearRule
	context []int32 // entries of kind context
	// nearShown is what a near pair shows, by the phrases that made it.
	nearShown map[nearKey]string
	pool      sync.Pool
	// becauses keeps the explanations of patterns once made.
	becauseMu sync.RWMutex
	becauses  map[int]map[string]string // by pattern index
	cal       *calibration              // nil: no calibration layer
	// uncalibrated: verdicts as the structure makes them, for learning the
	// calibration layer and measuring it.
	uncalibrated bool
	structure
}

type scratch struct {
	folded []byte
	norm   []byte
	score  []float64
	benign []float64
	req    []uint32
	hits   [][]int32 // pattern IDs per entry
	seen   []uint32  // stamp per pattern
	stamp  uint32
	order  []int32 // entries touched
	nears  []nearHit
	fired  []int32   // near rules that fired in this message: entry<<8 | rule
	pairs  []nearKey // the phrases that made each fired rule, by index in fired
	marks            // breaks and quoted spans in norm
	negs   []negHit  // negators found so far, in order of their end
	held   []heldHit // phrases inside quotation marks, held back
	parts  uint64    // parts present, by bit
	edu    float64   // frame weight: how much the message reads as education
	neg    int       // negated demands and lures ("不要转账")
	done   int       // demands reported as done ("交了会员费")
	// partPhrase is the first phrase found of each part, by bit.
	partPhrase [maxParts]string
	// breakBits and stopBits mark the breaks and clause marks of norm, by
	// offset, for lookups in constant time.
	breakBits, stopBits []uint64
	// mem is the current check's verdict memory; because builds the
	// explanation of its pattern.
	mem     verdictMem
	because []byte
}

func newIndex(entries []*Entry, patterns []*Pattern) (*Index, error) {
	ix := &Index{Entries: entries}
	ids := map[string]int32{}
	var phrases []string
	add := func(text string, r ref) {
		key := string(Normalize(nil, text))
		id, ok := ids[key]
		if !ok {
			id = int32(len(phrases))
			ids[key] = id
			phrases = append(phrases, key)
			ix.refs = append(ix.refs, nil)
		}
		ix.refs[id] = append(ix.refs[id], r)
	}
	ix.near = make([][]nearRule, len(entries))
	ix.nearShown = map[nearKey]string{}
	for i, e := range entries {
		ei := int32(i)
		for ri, n := range e.Near {
			rule, _ := parseNear(n) // validated at load
			ix.near[i] = append(ix.near[i], rule)
			for side, list := range [][]string{rule.left, rule.right} {
				for _, p := range list {
					add(p, ref{entry: ei, group: -1, near: int16(ri), side: int8(side), display: p})
				}
			}
		}
		if e.Kind == "context" {
			ix.context = append(ix.context, ei)
		}
		for _, p := range e.Phrases {
			text, w, _ := parsePhrase(p)
			add(text, ref{entry: ei, weight: w, group: -1, near: -1, display: text})
		}
		for _, p := range e.Benign {
			text, w, _ := parsePhrase(p)
			add(text, ref{entry: ei, weight: w, benign: true, group: -1, near: -1, display: text})
		}
		for g, list := range e.Require {
			for _, p := range list {
				text, _, _ := parsePhrase(p)
				add(text, ref{entry: ei, group: int8(g), near: -1, display: text})
			}
		}
	}
	// What a fired near pair shows: the two phrases found, as written.
	for i, e := range entries {
		for ri := range e.Near {
			rule := ix.near[i][ri]
			for _, l := range rule.left {
				for _, r := range rule.right {
					k := nearKey{entry: int32(i), rule: int16(ri), left: ids[string(Normalize(nil, l))], right: ids[string(Normalize(nil, r))]}
					ix.nearShown[k] = l + "…" + r
				}
			}
		}
	}
	for text, tr := range triggerPhrases {
		add(text, ref{entry: -1, trigger: tr, group: -1, near: -1})
	}
	// Negators are found in the same pass, so a demand can look back at
	// them without scanning the text again.
	for kind, list := range [][][]byte{negFar: negators, negNear: {[]byte("不")}, negDone: done, negDest: destinations} {
		for _, n := range list {
			add(string(n), ref{entry: entryNegator, side: int8(kind), group: -1, near: -1})
		}
	}
	ix.plen = make([]int, len(phrases))
	for i, p := range phrases {
		ix.plen[i] = len(p)
	}
	// Every phrase's references side by side in one array, in the order of
	// the phrases, not in thousands of small ones across the heap.
	n := 0
	for _, rs := range ix.refs {
		n += len(rs)
	}
	all := make([]ref, 0, n)
	for id, rs := range ix.refs {
		all = append(all, rs...)
		ix.refs[id] = all[len(all)-len(rs) : len(all) : len(all)]
	}
	ix.ac = buildAutomaton(phrases)
	if ix.ac == nil {
		return nil, fmt.Errorf("knowledge: %d phrases are too many for one matcher; split or shorten them", len(phrases))
	}
	if err := ix.buildStructure(patterns); err != nil {
		return nil, err
	}
	ix.becauses = map[int]map[string]string{}
	ix.pool.New = func() any {
		return &scratch{
			score:  make([]float64, len(entries)),
			benign: make([]float64, len(entries)),
			req:    make([]uint32, len(entries)),
			hits:   make([][]int32, len(entries)),
			seen:   make([]uint32, len(phrases)),
		}
	}
	return ix, nil
}

// Check judges one message.
func (ix *Index) Check(text string) Verdict {
	s := ix.pool.Get().(*scratch)
	defer ix.pool.Put(s)
	s.stamp++
	if s.stamp == 0 { // wrapped: forget every stamp
		clear(s.seen)
		s.stamp = 1
	}
	s.marks.breaks, s.marks.quotes, s.marks.stops = s.marks.breaks[:0], s.marks.quotes[:0], s.marks.stops[:0]
	s.folded, s.norm = foldBoth(s.folded[:0], s.norm[:0], &s.marks, text)
	s.breakBits = setBits(s.breakBits, s.breaks, len(s.norm))
	s.stopBits = setBits(s.stopBits, s.stops, len(s.norm))
	s.order = s.order[:0]
	var triggers trigger
	touch := func(e int32) {
		if s.score[e] == 0 && s.benign[e] == 0 && s.req[e] == 0 && len(s.hits[e]) == 0 {
			s.order = append(s.order, e)
		}
	}
	s.nears = s.nears[:0]
	s.parts, s.edu, s.neg, s.done, s.negs = 0, 0, 0, 0, s.negs[:0]
	// hit counts one occurrence of phrase id. Someone's words in quotation
	// marks are held back (holdQuoted), except frame and safe words: a
	// retold scam is not a demand on the reader. They count after all
	// (replayQuoted) if nobody narrates around them, as when a resident
	// types out a call word for word.
	hit := func(id int32, end int, mode int8) {
		first := s.seen[id] != s.stamp // a phrase counts once however often it appears
		if mode != holdQuoted {
			s.seen[id] = s.stamp
		}
		for _, r := range ix.refs[id] {
			switch {
			case r.entry == entryNegator:
				if mode != replayQuoted {
					s.negs = append(s.negs, negHit{start: int32(end - ix.plen[id]), end: int32(end), kind: r.side})
				}
			case r.entry < 0:
				triggers |= r.trigger
			case mode == holdQuoted && !ix.keepQuoted[r.entry], mode == replayQuoted && ix.keepQuoted[r.entry]:
			case r.near >= 0: // every occurrence: the pair may be a later one
				s.nears = append(s.nears, nearHit{id: id, entry: r.entry, rule: r.near, side: r.side, start: end - ix.plen[id], end: end})
			case !first:
			case r.benign:
				touch(r.entry)
				s.benign[r.entry] += r.weight
			case r.group >= 0:
				touch(r.entry)
				s.req[r.entry] |= 1 << uint(r.group)
			default:
				touch(r.entry)
				s.score[r.entry] += r.weight
				s.hits[r.entry] = append(s.hits[r.entry], id)
			}
		}
	}
	s.held = s.held[:0]
	ix.ac.find(s.norm, func(id int32, end int) {
		if s.spansStop(end-ix.plen[id], end) {
			return // "体检，费用由…" is not 体检费
		}
		if f := ix.negation[id]; f&phNegatable != 0 {
			switch s.negated(end-ix.plen[id], end, f) {
			case notNegated:
			case negAdvice:
				if f&phAdvice != 0 {
					s.neg++ // "不要转账" is advice, not a demand
				}
				return
			case negReport:
				if f&phAdvice != 0 {
					s.done++
				}
				return
			default:
				return
			}
		}
		if len(s.quotes) > 0 && s.quotedAt(end-ix.plen[id], end) {
			s.held = append(s.held, heldHit{id: id, end: end})
			hit(id, end, holdQuoted)
			return
		}
		hit(id, end, countNow)
	})
	if len(s.held) > 0 && !ix.narrated(s) {
		for _, h := range s.held {
			hit(h.id, h.end, replayQuoted)
		}
		slices.SortStableFunc(s.nears, func(a, b nearHit) int { return a.end - b.end })
	}
	ix.scoreNear(s, touch)

	// Everything the verdict points into comes from one allocation.
	s.mem.alloc(len(text))
	mem := &s.mem
	defer func() { s.mem = verdictMem{} }()
	v := Verdict{Entities: extractEntities(s.folded, triggers, mem.entities[:0])}
	var penalty float64
	for _, c := range ix.context {
		penalty += s.benign[c]
	}
	cands := mem.cands[:0]
	var pool []string // one backing array for every type's phrases
	for _, ei := range s.order {
		e := ix.Entries[ei]
		score := s.score[ei]
		if e.Kind == "part" {
			ix.notePart(s, ei, score-s.benign[ei])
		} else if score > 0 && e.Kind != "context" && s.req[ei] == uint32(1)<<len(e.Require)-1 {
			for _, ent := range v.Entities {
				score += e.Entities[ent.Kind]
			}
			score -= s.benign[ei] + penalty
			if score > 0 {
				if pool == nil {
					n := len(s.fired)
					for _, ej := range s.order {
						n += len(s.hits[ej])
					}
					pool = mem.pool[:0]
					if n > len(mem.pool) {
						pool = make([]string, 0, n)
					}
				}
				start := len(pool)
				for _, id := range s.hits[ei] {
					pool = append(pool, ix.display(id, ei))
				}
				for k, f := range s.fired {
					if int32(f>>8) == ei {
						pool = append(pool, ix.nearDisplay(s.pairs[k]))
					}
				}
				cands = append(cands, TypeScore{ID: e.ID, Name: e.Name, Rule: e.Kind == "rule", Score: score, Phrases: pool[start:len(pool):len(pool)]})
			}
		}
		s.score[ei], s.benign[ei], s.req[ei], s.hits[ei] = 0, 0, 0, s.hits[ei][:0]
	}
	slices.SortStableFunc(cands, byScore)
	typeLevel := LevelNone
	if len(cands) > 0 {
		switch best := cands[0].Score; {
		case best >= highScore:
			typeLevel = LevelHigh
		case best >= suspiciousScore:
			typeLevel = LevelSuspicious
		}
	}
	cands = ix.judgeStructure(s, &v, typeLevel, cands, textCues(text), headed(text, noticeHeaders), strings.HasPrefix(text, "【"), text)
	if len(cands) > maxTypes {
		cands = cands[:maxTypes]
	}
	v.Types = cands
	ix.advise(&v, mem)
	return v
}

// scoreNear adds the weight of every near rule whose left phrase is
// followed closely enough by its right phrase, once per rule.
func (ix *Index) scoreNear(s *scratch, touch func(int32)) {
	s.fired, s.pairs = s.fired[:0], s.pairs[:0]
	for i, a := range s.nears {
		if a.side != 0 {
			continue
		}
		rule := ix.near[a.entry][a.rule]
		key := a.entry<<8 | int32(a.rule)
		if slices.Contains(s.fired, key) {
			continue
		}
		// Hits come in order of their end, so the partner is later in the
		// list and not far: a phrase is at most maxNearPhrase bytes.
		for _, b := range s.nears[i+1:] {
			if b.end-a.end > 3*rule.gap+maxNearPhrase {
				break
			}
			// The gap counts characters of the normalised text, which has no
			// spaces or punctuation: "刷 单" tricks do not stretch it.
			if b.side == 1 && b.entry == a.entry && b.rule == a.rule && b.start >= a.end &&
				b.start-a.end <= 3*rule.gap && utf8.RuneCount(s.norm[a.end:b.start]) <= rule.gap {
				touch(a.entry)
				s.score[a.entry] += rule.weight
				s.fired = append(s.fired, key)
				s.pairs = append(s.pairs, nearKey{entry: a.entry, rule: a.rule, left: a.id, right: b.id})
				break
			}
		}
	}
}

// nearKey names a fired near pair: the rule and the two phrases found.
type nearKey struct {
	entry       int32
	rule        int16
	left, right int32
}

// nearDisplay is "left…right" with the phrases the message had.
func (ix *Index) nearDisplay(k nearKey) string {
	if d, ok := ix.nearShown[k]; ok {
		return d
	}
	return ix.near[k.entry][k.rule].display
}

// byScore orders the best match first.
func byScore(a, b TypeScore) int { return cmp.Compare(b.Score, a.Score) }

// maxNearPhrase bounds the byte length of a near rule's phrase (checked
// at load), so the search for a pair's right side can stop early.
const maxNearPhrase = 64

// display is the phrase as written in the knowledge base for entry ei.
func (ix *Index) display(id, ei int32) string {
	for _, r := range ix.refs[id] {
		if r.entry == ei {
			return r.display
		}
	}
	return ""
}

// advise fills in what to do from the best matching entries, or general
// checks when nothing matched.
func (ix *Index) advise(v *Verdict, mem *verdictMem) {
	n := 0
	for _, t := range v.Types {
		n += len(t.Phrases)
	}
	if n > 0 {
		if n <= len(mem.phrases) {
			v.Phrases = mem.phrases[:0]
		} else {
			v.Phrases = make([]string, 0, n)
		}
	}
	for _, t := range v.Types {
		for _, p := range t.Phrases {
			if !slices.Contains(v.Phrases, p) { // a handful of phrases: a scan beats a map
				v.Phrases = append(v.Phrases, p)
			}
		}
	}
	if v.Level == LevelNone || len(v.Types) == 0 {
		v.Do = generalDo
		v.Dont = generalDont
		return
	}
	e := ix.adviceEntry(v.Types[0])
	v.Do = first(e.Advice.Do, 2)
	v.Dont = first(e.Advice.Dont, 2)
}

var (
	generalDo   = []string{"核实对方身份：用你自己查到的官方电话或当面确认，别用对方给的号码和链接"}
	generalDont = []string{"不转账、不透露验证码、不下载陌生 App、不开屏幕共享"}
)

// adviceEntry is the entry whose advice fits t: the type itself, or the
// type a pattern names.
func (ix *Index) adviceEntry(t TypeScore) *Entry {
	if t.Pattern {
		for i := range ix.patterns {
			if ix.patterns[i].ID == t.ID {
				return ix.patterns[i].advice
			}
		}
	}
	return ix.byID(t.ID)
}

// notePart records a part entry's presence, or its weight for the frame.
func (ix *Index) notePart(s *scratch, ei int32, score float64) {
	if score <= 0 {
		return
	}
	b := ix.partBit[ei]
	if b == frameBit {
		s.edu += score
		return
	}
	s.parts |= 1 << b
	switch {
	case len(s.hits[ei]) > 0:
		s.partPhrase[b] = ix.display(s.hits[ei][0], ei)
	default:
		s.partPhrase[b] = ""
		for k, f := range s.fired {
			if int32(f>>8) == ei {
				s.partPhrase[b] = ix.nearDisplay(s.pairs[k])
				break
			}
		}
	}
}

// TypeName is the Chinese name of a scam type, rule or pattern by its id,
// as a warning records it; "" if the knowledge base no longer has it.
func (ix *Index) TypeName(id string) string {
	if e := ix.byID(id); e != nil {
		return e.Name
	}
	for _, p := range ix.structure.patterns {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}

func (ix *Index) byID(id string) *Entry {
	for _, e := range ix.Entries {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
