package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ItemKind is what a reported or listed item is.
type ItemKind string

const (
	ItemPhone  ItemKind = "phone"  // digits only, without +86: 13800138000, 4001234567, 075566120987
	ItemLink   ItemKind = "link"   // host (lower case, no www, punycode) and path: icbc-jf.top/dh
	ItemCard   ItemKind = "card"   // a bank card number that passes the Luhn check
	ItemQQ     ItemKind = "qq"     // digits
	ItemWeChat ItemKind = "wechat" // lower case
	ItemText   ItemKind = "text"   // a reported message with no number or link: its fingerprint
)

// Label is the kind as residents read it.
func (k ItemKind) Label() string {
	switch k {
	case ItemPhone:
		return "号码"
	case ItemLink:
		return "链接"
	case ItemCard:
		return "银行卡号"
	case ItemQQ:
		return "QQ号"
	case ItemWeChat:
		return "微信号"
	case ItemText:
		return "消息"
	}
	return string(k)
}

// Item is one normalised thing people report or an office lists: one
// number however it is written.
type Item struct {
	Kind  ItemKind
	Value string
}

func (i Item) String() string { return i.Kind.Label() + " " + i.Value }

// NormalizeItem turns what a message says into an item: entity is the
// scam check's entity kind (url, short_url, odd_domain, official_url,
// phone, hotline, intl_phone, bank_card, qq, wechat) or "" to guess from
// raw. It reports false for what is not an item (a card number that fails
// the Luhn check, a link without a host).
func NormalizeItem(entity, raw string) (Item, bool) {
	raw = strings.TrimSpace(raw)
	switch entity {
	case "url", "short_url", "odd_domain", "official_url":
		return normalizeLink(raw)
	case "phone", "hotline", "intl_phone":
		return normalizePhone(raw)
	case "bank_card":
		d := digitsOnly(raw)
		if !luhn(d) {
			return Item{}, false
		}
		return Item{ItemCard, d}, true
	case "qq":
		d := digitsOnly(raw)
		if len(d) < 5 || len(d) > 11 {
			return Item{}, false
		}
		return Item{ItemQQ, d}, true
	case "wechat":
		if raw == "" {
			return Item{}, false
		}
		return Item{ItemWeChat, strings.ToLower(raw)}, true
	case "":
		if it, ok := normalizePhone(raw); ok {
			return it, true
		}
		if strings.Contains(raw, ".") && !strings.ContainsAny(raw, " \t") {
			return normalizeLink(raw)
		}
	}
	return Item{}, false
}

// TextItem is the fingerprint of a reported message that names no number
// or link: the same text, however spaced, is one item.
func TextItem(text string) Item {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	h := sha256.Sum256([]byte(b.String()))
	return Item{ItemText, hex.EncodeToString(h[:8])}
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normalizePhone keeps the digits of a number written with spaces, dashes,
// brackets or +86: "400-123-4567", "400 123 4567" and "4001234567" are one.
func normalizePhone(raw string) (Item, bool) {
	for _, r := range raw {
		if !(r >= '0' && r <= '9') && !strings.ContainsRune(" -+()（）", r) {
			return Item{}, false
		}
	}
	d := digitsOnly(raw)
	switch {
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	case strings.HasPrefix(raw, "+86") || strings.HasPrefix(d, "86") && len(d) == 13:
		d = d[2:]
	}
	if len(d) < 5 || len(d) > 13 {
		return Item{}, false
	}
	return Item{ItemPhone, d}, true
}

// normalizeLink keeps a link's host, in lower case, without www and in
// punycode, and its path without a trailing slash; scheme, query and
// fragment are dropped.
func normalizeLink(raw string) (Item, bool) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return Item{}, false
	}
	host, err := idna.Lookup.ToASCII(strings.ToLower(u.Hostname()))
	if err != nil || !strings.Contains(host, ".") {
		return Item{}, false
	}
	host = strings.TrimPrefix(host, "www.")
	return Item{ItemLink, host + strings.TrimRight(u.EscapedPath(), "/")}, true
}

// luhn reports whether d, 16 to 19 digits, passes the Luhn check all bank
// card numbers pass.
func luhn(d string) bool {
	if len(d) < 16 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if (len(d)-i)%2 == 0 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// ItemStatus is what is known of an item: how many people reported it and
// whether a reviewer listed it as a scam.
type ItemStatus struct {
	Item
	Reports    int // distinct reporters
	LastReport time.Time
	Listed     bool
	ScamType   string // the knowledge base's type id, when listed
	Note       string
}

// FeedbackKind is what someone said about a verdict.
type FeedbackKind string

const (
	FeedbackFalseAlarm FeedbackKind = "false_alarm" // 误报
	FeedbackMiss       FeedbackKind = "miss"        // 漏报
	FeedbackUseful     FeedbackKind = "useful"      // 有用
	FeedbackUseless    FeedbackKind = "useless"     // 没用
)

// Label is the feedback as reviewers read it.
func (k FeedbackKind) Label() string {
	switch k {
	case FeedbackFalseAlarm:
		return "误报"
	case FeedbackMiss:
		return "漏报"
	case FeedbackUseful:
		return "有用"
	case FeedbackUseless:
		return "没用"
	}
	return string(k)
}

// Feedback is one person's word on a verdict or a warning: which rule, at
// what level; never the message.
type Feedback struct {
	ID       int64
	GroupID  int64
	MemberID int64
	Kind     FeedbackKind
	On       EventKind // EventScamCheck or EventWarning
	Rule     string    // the scam type or pattern the verdict named
	Level    CheckLevel
	At       time.Time
	Status   string // "open", "done"
}

// CrowdStore keeps what residents report and say about verdicts, and the
// reviewed blocklist the check consults.
type CrowdStore interface {
	// Report records member's report of items in a group and returns, per
	// item, how many different people have reported it. A second report of
	// an item by the same person counts once.
	Report(ctx context.Context, groupID, memberID int64, items []Item, text string, at time.Time) ([]int, error)
	// Lookup tells what is known of items: reports and listing.
	Lookup(ctx context.Context, items []Item, now time.Time) ([]ItemStatus, error)
	AddFeedback(ctx context.Context, f *Feedback) error
	// Mute silences the unrequested warning of rule in a group until.
	Mute(ctx context.Context, groupID int64, rule string, until time.Time) error
	Muted(ctx context.Context, groupID int64, rule string, now time.Time) (bool, error)
}

// ReportedItem is an item reported in one group, for the review queue.
type ReportedItem struct {
	Item
	GroupID    int64
	Reports    int
	LastReport time.Time
	Text       string // the latest report's text, while it is kept
	Listed     bool
	Dismissed  bool
}

// ListedItem is an item on the blocklist.
type ListedItem struct {
	Item
	ScamType  string
	Note      string
	Source    string // "review" or "import"
	ListedBy  string // account
	ListedAt  time.Time
	ExpiresAt *time.Time
}

// ReviewEntry is one decision in the review log.
type ReviewEntry struct {
	Account string
	Action  string // "confirm", "dismiss", "unlist", "import", "feedback"
	Item    Item
	Note    string
	At      time.Time
}

// Sample is a checked message a group agreed to share.
type Sample struct {
	GroupID int64
	Level   CheckLevel
	Text    string
	At      time.Time
}

// ReviewStore is the admin side: the queue, decisions and the blocklist.
type ReviewStore interface {
	// Unanswered lists shared checks that found nothing, newest first.
	Unanswered(ctx context.Context, since time.Time, limit int) ([]Sample, error)
	ReportedItems(ctx context.Context, limit int) ([]ReportedItem, error)
	OpenFeedback(ctx context.Context, limit int) ([]Feedback, error)
	// Confirm lists the item as a scam of scamType; Dismiss closes its
	// reports without listing it; Unlist takes it off the list. Each
	// decision is logged with who and when.
	Confirm(ctx context.Context, it ListedItem, accountID int64) error
	Dismiss(ctx context.Context, it Item, accountID int64, at time.Time) error
	Unlist(ctx context.Context, it Item, accountID int64, at time.Time) error
	CloseFeedback(ctx context.Context, id, accountID int64, at time.Time) error
	Blocklist(ctx context.Context, now time.Time) ([]ListedItem, error)
	// ImportBlocklist lists every row in one transaction, or none.
	ImportBlocklist(ctx context.Context, rows []ListedItem, accountID int64) (int, error)
	ReviewLog(ctx context.Context, limit int) ([]ReviewEntry, error)
}

// Blocklist CSV columns, as offices keep them: 类型 (号码, 链接, 银行卡号,
// QQ号, 微信号), 内容, 诈骗类型 (the knowledge base's id), 备注, 有效期至
// (2027-06-30, optional).
var BlocklistHeader = []string{"类型", "内容", "诈骗类型", "备注", "有效期至"}

// itemKindOf reads a kind as the CSV names it.
func itemKindOf(label string) (ItemKind, bool) {
	for _, k := range []ItemKind{ItemPhone, ItemLink, ItemCard, ItemQQ, ItemWeChat} {
		if label == k.Label() || label == string(k) {
			return k, true
		}
	}
	return "", false
}

// entityOf is the scam check's entity kind of an item kind, for
// NormalizeItem.
func entityOf(k ItemKind) string {
	switch k {
	case ItemPhone:
		return "phone"
	case ItemLink:
		return "url"
	case ItemCard:
		return "bank_card"
	case ItemQQ:
		return "qq"
	case ItemWeChat:
		return "wechat"
	}
	return ""
}

// ParseBlocklist reads blocklist rows (a header first) and checks every
// one: a bad row is named by its line and column, and no row is returned
// unless all are good. types tells a known scam type id.
func ParseBlocklist(records [][]string, types func(string) bool, at time.Time, loc *time.Location) ([]ListedItem, error) {
	if len(records) == 0 {
		return nil, Errorf(EINVALID, "文件是空的：第一行应是表头 %s。", strings.Join(BlocklistHeader, ","))
	}
	head := records[0]
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if len(head) < 2 || strings.TrimSpace(head[0]) != BlocklistHeader[0] || strings.TrimSpace(head[1]) != BlocklistHeader[1] {
		return nil, Errorf(EINVALID, "第 1 行应是表头：%s。", strings.Join(BlocklistHeader, ","))
	}
	var out []ListedItem
	var problems []string
	seen := map[Item]int{}
	for i, rec := range records[1:] {
		line := i + 2
		cell := func(c int) string {
			if c < len(rec) {
				return strings.TrimSpace(rec[c])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		kind, ok := itemKindOf(cell(0))
		if !ok {
			problems = append(problems, fmt.Sprintf("第 %d 行第 1 列“类型”：%q 不认识，应是号码、链接、银行卡号、QQ号或微信号", line, cell(0)))
			continue
		}
		it, ok := NormalizeItem(entityOf(kind), cell(1))
		if !ok || it.Kind != kind {
			problems = append(problems, fmt.Sprintf("第 %d 行第 2 列“内容”：%q 不是有效的%s", line, cell(1), kind.Label()))
			continue
		}
		if prev, dup := seen[it]; dup {
			problems = append(problems, fmt.Sprintf("第 %d 行：与第 %d 行重复", line, prev))
			continue
		}
		seen[it] = line
		li := ListedItem{Item: it, ScamType: cell(2), Note: cell(3), ListedAt: at}
		if li.ScamType != "" && types != nil && !types(li.ScamType) {
			problems = append(problems, fmt.Sprintf("第 %d 行第 3 列“诈骗类型”：%q 不在知识库里", line, li.ScamType))
			continue
		}
		if utf8.RuneCountInString(li.Note) > maxNote {
			problems = append(problems, fmt.Sprintf("第 %d 行第 4 列“备注”：超过 %d 字", line, maxNote))
			continue
		}
		if v := cell(4); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, loc)
			if err != nil {
				problems = append(problems, fmt.Sprintf("第 %d 行第 5 列“有效期至”：%q 应写成 2027-06-30", line, v))
				continue
			}
			t = t.AddDate(0, 0, 1) // through that day
			li.ExpiresAt = &t
		}
		out = append(out, li)
	}
	if err := importProblems(problems, len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// importProblems is the error of an import with problems (each naming its
// row and column), or with no data rows; nil if rows are good.
func importProblems(problems []string, rows int) error {
	if len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("……共 %d 处错误", len(problems)))
		}
		return Errorf(EINVALID, "没有导入任何一行，请改正后重新导入：\n%s", strings.Join(problems, "\n"))
	}
	if rows == 0 {
		return Errorf(EINVALID, "除了表头没有数据行。")
	}
	return nil
}

// Bounds of a blocklist import.
const (
	maxNote     = 200
	maxProblems = 20
)
