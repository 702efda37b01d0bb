package knowledge

// The structure layer. Phrase lists learn their author's wording; the parts
// of a scam do not change with it. A scam aimed at the reader claims an
// identity (a bank, the police, a teacher), offers a lure or makes a threat,
// and ends in a demand (pay, give the code, click, download, add an
// account). Parts are kind "part" entries, each matched by a broad lexicon
// in the same Aho-Corasick pass as everything else; patterns (data/patterns)
// name the combinations that make a scam, and the verdict is explained in
// those words: 冒充银行 + 陌生链接 + 限时清零 → 钓鱼短信.
//
// Education talks about the same parts: a police bulletin quotes the demand,
// a reminder lists the lures. Frame parts (advice verbs, 凡是…都是诈骗,
// third-person narration, quiz wording) and negated demands ("不要转账")
// decide the frame before any score counts: education is never warned
// about, and an asked check on it says what it is and points out a live
// demand inside it.

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/bits"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Part roles.
const (
	RoleIdentity = "identity" // who the sender claims to be
	RoleLure     = "lure"     // what is offered
	RoleDemand   = "demand"   // what the reader is asked to do
	RolePressure = "pressure" // deadlines, threats, secrecy
	RoleChannel  = "channel"  // links, numbers, accounts, named apps
	RoleSafe     = "safe"     // official channels legitimate senders point to
	RoleFrame    = "frame"    // education: advice, narration, quiz wording
	RoleAddress  = "address"  // the message speaks to the reader: 你, 您, 请
)

var roles = map[string]string{
	RoleIdentity: "身份", RoleLure: "诱饵", RoleDemand: "要求", RolePressure: "施压",
	RoleChannel: "渠道", RoleSafe: "正规渠道", RoleFrame: "宣传口吻", RoleAddress: "对你说话",
}

// RoleName is a role as people read it: 身份, 诱饵, 要求…
func RoleName(role string) string {
	if n, ok := roles[role]; ok {
		return n
	}
	return role
}

// PatternSummary is a pattern as people read it: its name, its level and
// the parts it combines ("自称银行或支付平台或任一渠道").
type PatternSummary struct {
	Name  string
	Level Level
	Parts []string
}

// PatternSummaries lists the patterns in the order they are tried.
func (ix *Index) PatternSummaries() []PatternSummary {
	byID := map[string]string{}
	for _, e := range ix.Entries {
		if e.Kind == "part" {
			byID[e.ID] = e.Name
		}
	}
	out := make([]PatternSummary, 0, len(ix.structure.patterns))
	for _, p := range ix.structure.patterns {
		ps := PatternSummary{Name: p.Name, Level: p.level}
		for _, tok := range p.Parts {
			var alts []string
			for _, alt := range strings.Split(tok, "|") {
				if n, ok := roles[alt]; ok {
					alts = append(alts, "任一"+n)
				} else {
					alts = append(alts, byID[alt])
				}
			}
			ps.Parts = append(ps.Parts, strings.Join(alts, "或"))
		}
		out = append(out, ps)
	}
	return out
}

func roleNames() string {
	names := make([]string, 0, len(roles))
	for r := range roles {
		names = append(names, r)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Frames: whether a message is a scam aimed at the reader, talks about
// scams, or neither.
const (
	FrameScam      = "scam"
	FrameEducation = "education"
	FrameOrdinary  = "ordinary"
)

// Education thresholds, in frame-phrase weight (negated demands count 1
// each, at most maxNegations). A message carrying a live channel (a link
// off the official sites, an account, a card number) needs more evidence,
// so that "谨防诈骗" in a phishing SMS does not hide it.
const (
	eduThreshold     = 4
	eduThresholdLive = 8
	maxNegations     = 3
	// quoteWeight: education quotes the scammer (对方称“您的快递丢了”);
	// a scam speaks in its own voice.
	quoteWeight = 2
	// optionsWeight: a quiz question lists its options, "A. … B. … C. …".
	optionsWeight = 4
	// headerWeight: a notice headed 【反诈提醒】, 【财务人员注意】.
	headerWeight = 3
	// sloganWeight: a campaign slogan, two clauses of one length.
	sloganWeight = 2
	// verseWeight: four or more verses of a rhyme.
	verseWeight = 4
	// Clause and total lengths of a slogan, in characters: its verses are
	// minSloganClause to maxSloganClause long, with short lists between
	// them ("解冻金、刷流水") of at least minVerseClause.
	minSloganClause, maxSloganClause, minVerseClause, maxSloganRunes = 5, 10, 3, 84
	// maxSloganClauses: a slogan has at most this many clauses.
	maxSloganClauses = 8
	// Most verses share a length: at least sloganShareNum/sloganShareDen.
	sloganShareNum, sloganShareDen = 3, 5
	// maxSloganBytes: no slogan is longer, in UTF-8 with its punctuation.
	maxSloganBytes = 3 * (maxSloganRunes + 8)
)

// textCues is the frame weight of what normalising removes: quotation
// marks around someone's words (a sentence, not a name: scams quote their
// platform's name), and lettered options A, B, C.
func textCues(text string) float64 {
	var w float64
	for _, q := range [][2]string{{"“", "”"}, {"「", "」"}, {`"`, `"`}} {
		if quotesSentence(text, q[0], q[1]) {
			w += quoteWeight
			break
		}
	}
	if headed(text, warningHeaders) {
		w += headerWeight
	}
	for _, sep := range []string{".", "、", "．"} {
		if strings.Contains(text, "A"+sep) && strings.Contains(text, "B"+sep) && strings.Contains(text, "C"+sep) {
			w += optionsWeight
			break
		}
	}
	if quizAnswered(text) {
		w += optionsWeight
	}
	switch slogan(text) {
	case sloganPair:
		w += sloganWeight
	case sloganVerse:
		w += verseWeight
	}
	return w
}

// slogan reports a message shaped like a campaign slogan or rhyme: short
// clauses of one length, in pairs ("屏幕共享一开，钱包大门敞开。") or in a
// run of verses where most share a length ("无抵押来秒放款，先交费用是坑
// 人；解冻金、刷流水，一分贷款不到门。"), with no digits. Scams name a sum,
// a number or a link, and do not scan. A run of capital letters (ETC, APP)
// counts as two characters.
func slogan(text string) int {
	if len(text) > maxSloganBytes {
		return 0
	}
	var lens [maxSloganClauses]int
	n, cur, upper := 0, 0, false
	for _, r := range text {
		switch {
		case sloganBreak(r):
			if cur > 0 {
				if n == len(lens) {
					return 0
				}
				lens[n], n, cur = cur, n+1, 0
			}
			upper = false
			continue
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			if !upper {
				cur += 2
			}
			upper = true
			continue
		case r < utf8.RuneSelf && (unicode.IsDigit(r) || unicode.IsLetter(r)):
			return 0
		}
		upper = false
		cur++
	}
	if cur > 0 {
		if n == len(lens) {
			return 0
		}
		lens[n], n = cur, n+1
	}
	total := 0
	var byLen [maxSloganClause + 1]int
	for _, l := range lens[:n] {
		if l < minVerseClause || l > maxSloganClause {
			return 0
		}
		total += l
		byLen[l]++
	}
	switch {
	case n < 2 || total > maxSloganRunes:
		return 0
	case n == 2 && lens[0] == lens[1] && lens[0] >= minSloganClause,
		n == 3 && lens[0] == lens[1] && lens[1] == lens[2] && lens[0] >= minSloganClause:
		return sloganPair
	}
	// Verses: most clauses are five or seven characters long, as in a
	// rhyme ("先交费用是坑人", "一分贷款不到门").
	for _, l := range []int{5, 7} {
		if byLen[l] >= 3 && byLen[l]*sloganShareDen >= n*sloganShareNum {
			return sloganVerse
		}
	}
	return 0
}

// quizAnswered reports a question set out with its answer: "问：…答：…",
// "Q：…A：…". A scam in dialogue is "A：…B：…" between two people.
func quizAnswered(text string) bool {
	// A true-or-false statement marked with its answer: "…（×）".
	if strings.Contains(text, "×") || strings.Contains(text, "√") || strings.Contains(text, "✓") || strings.Contains(text, "✗") {
		for _, mark := range []string{"（×）", "(×)", "（√）", "(√)", "（✓）", "（✗）"} {
			if strings.Contains(text, mark) {
				return true
			}
		}
	}
	if !strings.Contains(text, "答") && !strings.Contains(text, "Q") {
		return false // the cheap test first: most messages ask nothing
	}
	for _, qa := range [][2]string{{"问：", "答："}, {"问:", "答:"}, {"Q：", "A："}, {"Q:", "A:"}} {
		if i := strings.Index(text, qa[0]); i >= 0 && strings.Contains(text[i:], qa[1]) {
			return true
		}
	}
	return false
}

// Shapes of a slogan: a pair of clauses, or verses (four or more).
const (
	sloganPair  = 1
	sloganVerse = 2
)

// sloganBreak reports a character that ends a clause of a slogan.
func sloganBreak(r rune) bool {
	switch r {
	case '，', ',', '；', ';', '。', '！', '!', '？', '?', '、', ' ', '\n', '：', ':':
		return true
	}
	return false
}

// noticeHeaders in a leading 【…】 mark an announcement: 【物业公告】,
// 【奖学金公示】. Not 通知: scams call themselves 【法院通知】, 【快递通知】.
var noticeHeaders = []string{"公告", "公示", "须知"}

// headed reports whether text starts with a 【…】 header holding one of
// words.
func headed(text string, words []string) bool {
	if !strings.HasPrefix(text, "【") {
		return false
	}
	i := strings.Index(text, "】")
	if i < 0 {
		return false
	}
	for _, h := range words {
		if strings.Contains(text[:i], h) {
			return true
		}
	}
	return false
}

// warningHeaders in a leading 【…】 mark a reminder, not a sender.
var warningHeaders = []string{"提醒", "注意", "提示", "警示", "反诈", "防骗", "防诈", "预警", "通报", "的话", "快讯", "案例"}

// minQuotedRunes: a quoted span this long is someone's words.
const minQuotedRunes = 8

// quotesSentence reports whether text quotes someone's words: one span
// between open and close of at least minQuotedRunes characters, or two
// spans of any length (a list of the lures: “你中奖了”“你涉嫌洗钱了”).
func quotesSentence(text, open, close string) bool {
	spans := 0
	for {
		i := strings.Index(text, open)
		if i < 0 {
			return false
		}
		text = text[i+len(open):]
		j := strings.Index(text, close)
		if j < 0 {
			return false
		}
		if spans++; spans == 2 || utf8.RuneCountInString(text[:j]) >= minQuotedRunes {
			return true
		}
		text = text[j+len(close):]
	}
}

// maxParts is how many non-frame parts one knowledge base may have: their
// presence is a bit set.
const maxParts = 64

// Pattern is a combination of parts that makes a scam.
type Pattern struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Level string `yaml:"level"` // high or suspicious
	// Parts must all be present; each is "a|b", a role or a part id.
	Parts []string `yaml:"parts"`
	// Unless cancels the pattern when any of these is present.
	Unless []string `yaml:"unless"`
	// Type is the scam type or rule whose advice applies.
	Type string `yaml:"type"`

	file string
	line int
}

type compiledPattern struct {
	*Pattern
	need   []uint64
	unless uint64
	level  Level
	advice *Entry // the entry Type names
}

// PartHit is one part found in a message.
type PartHit struct {
	Role   string `json:"role"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Phrase string `json:"phrase"` // what was found: a phrase or an entity
}

// PatternMatch is the combination that made the verdict.
type PatternMatch struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Because string `json:"because"` // "冒充银行 + 陌生链接 + 限时清零"
}

// structure is the part of an Index built from parts and patterns.
type structure struct {
	partBit     []int8  // by entry: bit of a non-frame part, frameBit for a frame part, -1 otherwise
	partEntry   []int32 // by bit
	roleMask    map[string]uint64
	entityParts map[string]uint64 // entity kind → parts it makes present
	negation    []phraseFlags     // by phrase ID: how a negator before it, or a report after it, changes it
	patterns    []compiledPattern
	live        uint64  // parts no notice has (the code, the screen, a sex video, cures, paid tasks); links and accounts are live by entity
	official    uint64  // the part that points to an official channel
	notice      uint64  // the part for the furniture of a notice
	safeCode    uint64  // the part that tells the reader to keep a code to themselves
	route       uint64  // parts that give the reader somewhere to go: channels, contacts, calls, codes, QR codes, apps, screens
	keepQuoted  []bool  // by entry: counts inside quotation marks too (frame and safe parts)
	frames      []int32 // frame parts
}

func (ix *Index) buildStructure(patterns []*Pattern) error {
	st := &ix.structure
	st.partBit = make([]int8, len(ix.Entries))
	st.keepQuoted = make([]bool, len(ix.Entries))
	st.roleMask = map[string]uint64{}
	st.entityParts = map[string]uint64{}
	byID := map[string]uint64{}
	for i, e := range ix.Entries {
		st.partBit[i] = -1
		st.keepQuoted[i] = e.Role == RoleFrame || e.Role == RoleSafe
		if e.Role == RoleFrame {
			st.partBit[i] = frameBit
			st.frames = append(st.frames, int32(i))
		}
		if e.Kind != "part" || e.Role == RoleFrame {
			continue
		}
		if len(st.partEntry) == maxParts {
			return &LoadError{File: e.file, Line: e.line, Msg: fmt.Sprintf("more than %d parts; merge some", maxParts)}
		}
		bit := uint64(1) << len(st.partEntry)
		st.partBit[i] = int8(len(st.partEntry))
		st.partEntry = append(st.partEntry, int32(i))
		st.roleMask[e.Role] |= bit
		byID[e.ID] = bit
		for kind := range e.Entities {
			st.entityParts[kind] |= bit
		}
	}
	st.negation = make([]phraseFlags, len(ix.refs))
	for id, refs := range ix.refs {
		f := &st.negation[id]
		for _, r := range refs {
			if r.entry < 0 || r.benign {
				continue
			}
			e := ix.Entries[r.entry]
			switch {
			case e.Kind == "part" && (e.Role == RoleDemand || e.Role == RoleLure || e.Role == RoleChannel || e.Role == RolePressure):
				*f |= phNegatable | phAdvice
				if e.Role == RoleDemand {
					*f |= phDoneable
				}
				if e.ID == "d_transfer" || e.ID == "d_fee" {
					*f |= phPaid
				}
				if e.Role == RoleDemand || e.Role == RoleChannel {
					*f |= phDestined
				}
			case e.Kind != "part" && e.Kind != "context":
				// A scam type's phrase negated ("请勿将验证码告诉他人",
				// "公检法不会电话办案") does not count either, but it is
				// not advice: scammers reassure too ("不用还钱").
				*f |= phNegatable
			}
		}
	}
	mask := func(p *Pattern, token string) (uint64, error) {
		var m uint64
		for _, alt := range strings.Split(token, "|") {
			alt = strings.TrimSpace(alt)
			b, ok := byID[alt]
			if !ok {
				b, ok = st.roleMask[alt]
			}
			if !ok || b == 0 {
				return 0, &LoadError{File: p.file, Line: p.line, Msg: fmt.Sprintf("pattern %q: %q is neither a part nor a role with parts", p.ID, alt)}
			}
			m |= b
		}
		return m, nil
	}
	st.live = byID["d_code"] | byID["d_screen"] | byID["p_shame"] | byID["lure_cure"] | byID["lure_task"]
	st.official = byID["safe_official"]
	st.notice = byID["safe_notice"]
	st.safeCode = byID["safe_code"]
	st.route = st.roleMask[RoleChannel] | byID["d_contact"] | byID["d_call"] | byID["d_scan"] | byID["d_app"] | byID["d_code"] | byID["d_screen"] |
		byID["lure_cure"] | byID["lure_freebie"] | byID["id_new_number"]
	for _, p := range patterns {
		cp := compiledPattern{Pattern: p, level: LevelSuspicious}
		if p.Level == "high" {
			cp.level = LevelHigh
		}
		for _, tok := range p.Parts {
			m, err := mask(p, tok)
			if err != nil {
				return err
			}
			cp.need = append(cp.need, m)
		}
		for _, tok := range p.Unless {
			m, err := mask(p, tok)
			if err != nil {
				return err
			}
			cp.unless |= m
		}
		if cp.advice = ix.byID(p.Type); cp.advice == nil {
			return &LoadError{File: p.file, Line: p.line, Msg: fmt.Sprintf("pattern %q: type %q is not an entry", p.ID, p.Type)}
		}
		st.patterns = append(st.patterns, cp)
	}
	return nil
}

// loadPatterns reads patterns/*.yaml, if there are any.
func loadPatterns(fsys fs.FS) ([]*Pattern, error) {
	names, err := fs.Glob(fsys, "patterns/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Pattern
	seen := map[string]bool{}
	for _, name := range names {
		items, err := readList(fsys, name, "patterns")
		if err != nil {
			return nil, err
		}
		for _, n := range items {
			p := &Pattern{file: path.Base(name), line: n.Line}
			if err := decodeStrict(n, p); err != nil {
				return nil, &LoadError{File: p.file, Line: n.Line, Msg: err.Error()}
			}
			msg := ""
			switch {
			case !idRe.MatchString(p.ID):
				msg = "id must be lower-case letters, digits and _, 2-40 long"
			case seen[p.ID]:
				msg = "id already used"
			case strings.TrimSpace(p.Name) == "":
				msg = "name is empty"
			case p.Level != "high" && p.Level != "suspicious":
				msg = "level must be high or suspicious"
			case len(p.Parts) < 2:
				msg = "a pattern combines at least two parts"
			}
			if msg != "" {
				return nil, &LoadError{File: p.file, Line: n.Line, Msg: fmt.Sprintf("pattern %q: %s", p.ID, msg)}
			}
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// negators turn a demand into advice: "不要转账", "切勿点击", "不会让家长把
// 钱转到个人账户". Bare 不 counts only right before the phrase ("不转账");
// the others reach up to negationScope characters back within the clause,
// unless they negate telling someone ("不要告诉别人马上转账" is a
// scammer's secrecy, not advice).
var negators = [][]byte{[]byte("不要"), []byte("不能"), []byte("不会"), []byte("不用"), []byte("无需"), []byte("不需"), []byte("不必"),
	[]byte("勿"), []byte("莫"), []byte("谨防"), []byte("警惕"), []byte("防止"), []byte("拒绝"), []byte("从不"), []byte("绝不"),
	[]byte("严禁"), []byte("不得"), []byte("不可"), []byte("没有"), []byte("千万不"), []byte("不轻易"), []byte("不随意"), []byte("别"), []byte("不收"), []byte("免收"), []byte("不收取"),
	[]byte("唔好"), []byte("莫要"), []byte("甭"), []byte("不是"), []byte("不承诺"), []byte("不强制"), []byte("不设"), []byte("从未"), []byte("从来不"), []byte("不存在"), []byte("唔会")}

// done counts right before a demand only: it reports a done deed rather
// than asks for one: "已转入", "于11月25日转入", "成功支付".
var done = [][]byte{[]byte("已"), []byte("已经"), []byte("于"), []byte("日"), []byte("成功"), []byte("将")}

// doneAfter: a demand followed by 了, 过, 完 or 成功 is a report ("交了话费",
// "已经申请退货退款了" reads "申请…退款了", "转你了"), not a request.
var doneAfter = [][]byte{[]byte("了"), []byte("过"), []byte("完"), []byte("成功"), []byte("你了"), []byte("给你了"), []byte("过去了")}

// doneInClause reports a demand whose clause ends in 了 a little later
// ("今天转到你卡上了", "我已经垫付了"): a report of what was done. Not when
// the clause makes it a condition ("再交一笔就能提现了").
func (s *scratch) doneInClause(end int) bool {
	stop := nextBit(s.breakBits, end, len(s.norm))
	rest := s.norm[end:stop]
	for _, p := range clauseParticles {
		rest = bytes.TrimSuffix(rest, p)
	}
	if !bytes.HasSuffix(rest, []byte("了")) || utf8.RuneCount(rest) > doneClauseRunes {
		return false
	}
	for _, w := range conditionWords {
		if bytes.Contains(rest, w) {
			return false
		}
	}
	return true
}

// doneClauseRunes: how far after a demand its clause's 了 still reports it.
const doneClauseRunes = 10

var (
	clauseParticles = [][]byte{[]byte("啊"), []byte("哈"), []byte("呢"), []byte("呀"), []byte("哦"), []byte("啦")}
	conditionWords  = [][]byte{[]byte("就"), []byte("才"), []byte("能"), []byte("可以"), []byte("会"), []byte("要"), []byte("否则"), []byte("不然"), []byte("再"), []byte("吗")}
)

// secrecy follows a negator that asks for silence rather than advises.
var secrecy = [][]byte{[]byte("告诉"), []byte("声张"), []byte("挂"), []byte("跟别人"), []byte("外传"), []byte("让家人"), []byte("和家人"), []byte("跟家人"), []byte("惊动"), []byte("同你"), []byte("同人讲"), []byte("同别人"), []byte("同屋企")}

const negationScope = 8

// frameBit marks a frame part in structure.partBit; other entries that are
// not parts have -1.
const frameBit = -2

// minQuotedPartRunes: parts inside a quoted span at least this long are
// someone's words retold, not a demand on the reader; a shorter span is a
// name ("易玩"平台).
const minQuotedPartRunes = 4

// Modes of counting a phrase occurrence (see Index.Check).
const (
	countNow int8 = iota
	holdQuoted
	replayQuoted
)

// heldHit is a phrase occurrence inside quotation marks.
type heldHit struct {
	id  int32
	end int
}

// narrated reports whether a message has a narrator: frame words, or
// advice, outside what it quotes.
func (ix *Index) narrated(s *scratch) bool {
	if s.neg > 0 || s.done > 0 {
		return true
	}
	for _, e := range ix.frames {
		if s.score[e]-s.benign[e] > 0 {
			return true
		}
	}
	return false
}

// quotedAt reports whether norm[start:end] lies inside a quoted span.
func (s *scratch) quotedAt(start, end int) bool {
	for i := 0; i+1 < len(s.quotes); i += 2 {
		qs, qe := int(s.quotes[i]), int(s.quotes[i+1])
		if qs <= start && end <= qe && utf8.RuneCount(s.norm[qs:qe]) >= minQuotedPartRunes {
			return true
		}
	}
	return false
}

// spansStop reports whether norm[start:end] runs across a Chinese clause
// mark: two clauses, not one phrase. Spaces, dots and symbols, which
// scammers put inside words to dodge filters ("刷 单", "刷.单"), do not.
func (s *scratch) spansStop(start, end int) bool {
	return len(s.stops) > 0 && nextBit(s.stopBits, start+1, end) < end
}

// setBits returns bits with a bit set at every offset in at, for a text
// of n bytes.
func setBits(bits []uint64, at []int32, n int) []uint64 {
	words := n/64 + 1
	if cap(bits) < words {
		bits = make([]uint64, words)
	}
	bits = bits[:words]
	clear(bits)
	for _, a := range at {
		bits[a/64] |= 1 << (a % 64)
	}
	return bits
}

// nextBit is the first set bit at or after from, or none if there is none
// before it.
func nextBit(b []uint64, from, none int) int {
	for w := from / 64; w < len(b) && w*64 < none; w++ {
		word := b[w]
		if w == from/64 {
			word &= ^uint64(0) << (from % 64)
		}
		if word != 0 {
			return min(w*64+bits.TrailingZeros64(word), none)
		}
	}
	return none
}

// prevBit is the last set bit at or before at, or 0 if there is none.
func prevBit(b []uint64, at int) int {
	for w := min(at/64, len(b)-1); w >= 0; w-- {
		word := b[w]
		if w == at/64 {
			word &= ^uint64(0) >> (63 - at%64)
		}
		if word != 0 {
			return w*64 + 63 - bits.LeadingZeros64(word)
		}
	}
	return 0
}

// entryNegator marks a ref that is a negator, not a phrase of an entry.
const entryNegator = -2

// Kinds of negator (ref.side of an entryNegator ref).
const (
	negFar  = iota // reaches negationScope characters within the clause
	negNear        // 不: right before the phrase only
	negDone        // 已, 于…日: right before a demand only
	negDest        // 至您, 入您: what follows is where money goes, not what is asked; not advice
)

// destinations name the reader's own account as where money goes: "退至您
// 申报的银行账户", "支付至您本人账户". What follows in the clause is not a
// demand for it.
// Only money verbs: "输入您的卡号" and "监测到您的视频" are not.
var destinations = func() [][]byte {
	var out [][]byte
	for _, verb := range []string{"退", "付", "转", "存", "汇", "打", "发放", "返还", "划", "计"} {
		for _, to := range []string{"至您", "至你", "至本人", "入您", "入你", "到您的", "到你的", "到您本人", "回您的", "还您的"} {
			out = append(out, []byte(verb+to))
		}
	}
	// The speaker paying the reader: "要多少我转给你".
	for _, w := range []string{"我转给你", "我给你转", "我转你", "我打给你", "我给你打"} {
		out = append(out, []byte(w))
	}
	return out
}()

// negHit is one negator found in a message.
type negHit struct {
	start, end int32
	kind       int8
}

// phraseFlags say how negation applies to a phrase.
type phraseFlags uint8

const (
	phNegatable phraseFlags = 1 << iota // a phrase of a scam type, rule or non-frame part: negated, it does not count
	phAdvice                            // a demand, lure, channel or pressure phrase: negated, it is advice (frame weight)
	phDoneable                          // a demand, which "已" before or "了" after reports as done
	phPaid                              // a demand for money, which a clause ending in 了 reports as done
	phDestined                          // a demand or channel, which after "退至您" names where money goes
)

// What a negator makes of a phrase.
const (
	notNegated  = iota
	negAdvice   // "不要转账": advice, frame weight
	negReport   // "交了会员费", "已转入": a report of what was done, half the weight
	negDestined // "退至您的账户": where money goes, no weight
)

// reportWeight: a report of what was paid weighs half a piece of advice.
// Retellings report payments ("先交了会员费，又交了保证金"), and so do
// scammers who show they paid ("我已经把嫁妆钱都投进去了").
const reportWeight = 0.5

// negated tells whether the phrase at norm[start:end] is negated, from
// the negators the automaton found before it, and how.
func (s *scratch) negated(start, end int, f phraseFlags) int {
	if f&phDoneable != 0 && startsWithAny(s.norm[end:], doneAfter) || f&phPaid != 0 && s.doneInClause(end) {
		return negReport
	}
	from := prevBit(s.breakBits, start) // the clause starts at the last break before start
	for i := len(s.negs) - 1; i >= 0; i-- {
		h := s.negs[i]
		if int(h.end) > start {
			continue // overlaps the phrase, or comes after it
		}
		if int(h.start) < from {
			break // an earlier clause, and so are all before it
		}
		if s.asksOrInsists(int(h.start)) {
			continue
		}
		switch h.kind {
		case negNear:
			if int(h.end) == start {
				return negAdvice
			}
		case negDone:
			if f&phDoneable != 0 && int(h.end) == start {
				return negReport
			}
		case negDest:
			if f&phDestined != 0 && utf8.RuneCount(s.norm[h.end:start]) <= negationScope {
				return negDestined
			}
		default:
			if utf8.RuneCount(s.norm[h.end:start]) <= negationScope && !startsWithAny(s.norm[h.end:start], secrecy) {
				return negAdvice
			}
		}
	}
	return notNegated
}

// asksOrInsists reports a 不 at norm[at] that negates nothing: the middle
// of an A-not-A question ("要不要我把老师微信推你", "是不是") or the
// rhetorical "这不…嘛" ("我这不换号了嘛").
func (s *scratch) asksOrInsists(at int) bool {
	if !bytes.HasPrefix(s.norm[at:], []byte("不")) || at == 0 {
		return false
	}
	before, _ := utf8.DecodeLastRune(s.norm[:at])
	after, _ := utf8.DecodeRune(s.norm[at+len("不"):])
	return before == after || before == '这'
}

func startsWithAny(b []byte, list [][]byte) bool {
	for _, w := range list {
		if bytes.HasPrefix(b, w) {
			return true
		}
	}
	return false
}

// liveEntity reports entities that make a demand live: somewhere to click,
// someone to add, an account to pay. Phone numbers are not among them: an
// education post names its grid worker's mobile to call.
func liveEntity(kind string) bool {
	switch kind {
	case EntityURL, EntityShortURL, EntityOddDomain, EntityBankCard, EntityQQ, EntityWeChat:
		return true
	}
	return false
}

// routeEntities reports whether es has somewhere to go: not an example
// link or a government hotline, which lead nowhere a scammer waits, nor a
// sum or the mention of a code, which lead nowhere at all.
func routeEntities(es []Entity) bool {
	for _, e := range es {
		switch e.Kind {
		case EntityExampleURL, EntityGovHotline, EntityAmount, EntityCode:
		default:
			return true
		}
	}
	return false
}

// judgeStructure finds the parts and the best pattern, decides the frame,
// and sets the verdict's level, frame and warning. typeLevel is the level
// the scam types gave.
func (ix *Index) judgeStructure(s *scratch, v *Verdict, typeLevel Level, cands []TypeScore, cues float64, notice, signed bool, text string) []TypeScore {
	typeScore := 0.0
	if len(cands) > 0 {
		typeScore = cands[0].Score
	}
	st := &ix.structure
	parts := s.parts
	if notice {
		parts |= st.notice
	}
	live, code := false, false
	for _, ent := range v.Entities {
		parts |= st.entityParts[ent.Kind]
		live = live || liveEntity(ent.Kind)
		code = code || ent.Kind == EntityCode
	}
	shown := parts &^ st.roleMask[RoleAddress]
	if n := bits.OnesCount64(shown); n > len(s.mem.parts) {
		v.Parts = make([]PartHit, 0, n)
	} else if n > 0 {
		v.Parts = s.mem.parts[:0]
	}
	for ; shown != 0; shown &= shown - 1 {
		b := bits.TrailingZeros64(shown)
		e := ix.Entries[st.partEntry[b]]
		phrase := ""
		if s.parts&(1<<b) != 0 {
			phrase = s.partPhrase[b]
		}
		if phrase == "" {
			phrase = entityFor(v.Entities, e)
		}
		v.Parts = append(v.Parts, PartHit{Role: e.Role, ID: e.ID, Name: e.Name, Phrase: phrase})
	}
	// "不要告诉任何人" guards a code only where there is one; without, it
	// asks for secrecy.
	if !code {
		parts &^= st.safeCode
	}
	// Scammers copy the furniture of real notices ("回T退订", "如非本人操作");
	// next to a live channel or a demand for the code or the screen, it
	// proves nothing.
	if live || parts&st.live != 0 {
		parts &^= st.roleMask[RoleSafe]
	}
	// Phrase types on a message with the furniture of a real notice (尾号,
	// 详询, 登录…App) count one level lower, and nothing with two of them or
	// with a pointer to an official channel.
	switch safe := bits.OnesCount64(parts & st.roleMask[RoleSafe]); {
	case safe >= 2, parts&st.official != 0:
		typeLevel = LevelNone
	case safe == 1 && typeLevel > LevelNone:
		typeLevel--
	}
	// A signed SMS (【…】) that gives its reader nowhere to go (no link,
	// number, account, QR code, contact or app) is a notice: scams need a
	// way to reach the money. Only a high pattern can flag it.
	floor := LevelNone
	if signed && !routeEntities(v.Entities) && parts&st.route == 0 {
		floor = LevelSuspicious
		if typeLevel <= floor {
			typeLevel = LevelNone
		}
	}
	level := typeLevel
	var best *compiledPattern
	bestIndex := -1
	for i := range st.patterns {
		p := &st.patterns[i]
		if parts&p.unless != 0 || (best != nil && p.level <= best.level) || p.level <= floor {
			continue
		}
		ok := true
		for _, m := range p.need {
			if parts&m == 0 {
				ok = false
				break
			}
		}
		if ok {
			best, bestIndex = p, i
		}
	}
	if best != nil {
		because := s.because[:0]
		phrases := s.mem.patPhr[:0]
		var used uint64
		for _, m := range best.need {
			// Each slot is explained by a part not named yet; a slot that only
			// a named part fills needs no second mention.
			free := parts & m &^ used
			if free == 0 {
				continue
			}
			b := bits.TrailingZeros64(free)
			used |= 1 << b
			if len(because) > 0 {
				because = append(because, " + "...)
			}
			because = append(because, ix.Entries[st.partEntry[b]].Name...)
			if p := s.partPhrase[b]; p != "" && s.parts&(1<<b) != 0 {
				phrases = append(phrases, p)
			}
		}
		s.because = because
		*s.mem.pattern = PatternMatch{ID: best.ID, Name: best.Name, Because: ix.becauseText(bestIndex, because)}
		v.Pattern = s.mem.pattern
		score := suspiciousScore
		if best.level == LevelHigh {
			score = highScore
		}
		cands = append(cands, TypeScore{ID: best.ID, Name: best.Name, Pattern: true, Score: score, Phrases: phrases})
		slices.SortStableFunc(cands, byScore)
		level = max(level, best.level)
	}
	edu := s.edu + float64(min(s.neg, maxNegations)) + reportWeight*float64(min(s.done, maxNegations)) + cues
	v.FrameScore = edu
	need := float64(eduThreshold)
	if live {
		need = eduThresholdLive
	}
	switch {
	case edu >= need || (edu >= eduThreshold && level == LevelNone):
		v.Frame = FrameEducation
		level = LevelNone
		if live {
			level = LevelSuspicious
		}
	case level > LevelNone:
		v.Frame = FrameScam
	default:
		v.Frame = FrameOrdinary
	}
	// The calibration layer lets go of a flagged verdict whose structure
	// honest messages make more often than scams.
	v.cal = calInput{parts: parts, best: bestIndex, level: level, edu: edu, live: live, signed: signed, typeScore: typeScore}
	if level > LevelNone {
		v.cal.runes = s.runes // only a flagged verdict is calibrated
	}
	// Never a demand for the code or the screen, a sex video, a cure or a
	// paid task: those no honest message makes.
	if level > LevelNone && ix.cal != nil && !ix.uncalibrated && parts&st.live == 0 {
		v.cal.calibrated = true
		v.Confidence = ix.cal.score(ix, v.cal)
		if v.Confidence < ix.cal.threshold {
			level = LevelNone
			if v.Frame == FrameScam {
				v.Frame = FrameOrdinary
			}
		}
	}
	v.Level = level
	// A statement that speaks to no one ("小额返利之后就是大额垫付") is
	// more likely a quiz explanation than a scam; it is answered when asked,
	// never warned about.
	v.Warn = v.Frame == FrameScam && level == LevelHigh && parts&st.roleMask[RoleAddress] != 0
	return cands
}

// becauseText is the explanation built in b for pattern p, kept once per
// pattern and wording: a handful of combinations recur across messages.
func (ix *Index) becauseText(p int, b []byte) string {
	ix.becauseMu.RLock()
	text, ok := ix.becauses[p][string(b)] // a lookup by string(b) does not allocate
	ix.becauseMu.RUnlock()
	if ok {
		return text
	}
	text = string(b)
	ix.becauseMu.Lock()
	if ix.becauses[p] == nil {
		ix.becauses[p] = map[string]string{}
	}
	if len(ix.becauses[p]) < maxBecauses {
		ix.becauses[p][text] = text
	}
	ix.becauseMu.Unlock()
	return text
}

// maxBecauses bounds the explanations kept for a pattern: its parts give
// few wordings, but a pattern of many alternatives could give more.
const maxBecauses = 256

// entityFor is the first entity of the kinds that made part e present.
func entityFor(es []Entity, e *Entry) string {
	for _, ent := range es {
		if e.Entities[ent.Kind] > 0 {
			return ent.Value
		}
	}
	return ""
}
