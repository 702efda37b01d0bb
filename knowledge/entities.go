package knowledge

import (
	"bytes"
	"regexp"
	"strings"
)

// Entity kinds reported in a Verdict.
const (
	EntityURL         = "url"          // a link
	EntityOfficialURL = "official_url" // a link on a known official site (banks, carriers, government)
	EntityShortURL    = "short_url"    // a link through a URL shortener: the real target is hidden
	EntityOddDomain   = "odd_domain"   // a link on a cheap or unusual top-level domain
	EntityExampleURL  = "example_url"  // a masked link given as an example ("xxx.top", "xx**bank.com"): nowhere to go
	EntityGovHotline  = "gov_hotline"  // a government service hotline (12333, 12345): an official channel
	EntityPhone       = "phone"        // a mainland mobile number
	EntityHotline     = "hotline"      // 95xxx or 400 numbers: real companies use them, and scammers fake them
	EntityIntlPhone   = "intl_phone"   // +00 / 00 numbers: calls from abroad posing as local
	EntityBankCard    = "bank_card"    // 16-19 digits
	EntityQQ          = "qq"
	EntityWeChat      = "wechat"
	EntityAmount      = "amount" // a sum of money
	EntityCode        = "code"   // a verification code is mentioned
)

// Entity is a piece of a message worth a second look.
type Entity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

var (
	urlRe   = regexp.MustCompile(`(?i)(?:https?://)?(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|vip|cc|icu|shop|club|site|online|info|me|ly|im|la|io|co|app|link|live|ink|pro|work|tk|ml|ga|gq|cf|biz|wang|ltd|fun)(?:[:/][^\s，。！？“”"'<>]*)?`)
	ipURLRe = regexp.MustCompile(`(?:https?://)?(?:\d{1,3}\.){3}\d{1,3}(?::\d{2,5})?(?:/[^\s，。！？“”"'<>]*)?`)
	qqRe    = regexp.MustCompile(`(?i)(?:qq|扣扣|企鹅)(?:号|群)?[:：\s]*(\d{5,11})`)
)

var numberSeparators = strings.NewReplacer(" ", "", "-", "", ",", "")

// trigger is a set of hints, found by the phrase automaton in the same pass
// as the scam phrases, that tell which entity scanners are worth running.
type trigger uint8

const (
	triggerWeChat trigger = 1 << iota
	triggerQQ
	triggerCode
)

// triggerPhrases are matched in normalised text (lower case, no spaces).
var triggerPhrases = map[string]trigger{
	"微信": triggerWeChat, "v信": triggerWeChat, "vx": triggerWeChat, "wx": triggerWeChat, "weixin": triggerWeChat,
	"加v": triggerWeChat, "威信": triggerWeChat, "薇信": triggerWeChat,
	"qq": triggerQQ, "扣扣": triggerQQ, "企鹅": triggerQQ,
	"验证码": triggerCode, "校验码": triggerCode, "动态码": triggerCode,
}

// shorteners hide where a link goes.
var shorteners = []string{"t.cn", "dwz.cn", "url.cn", "suo.im", "bit.ly", "tinyurl.com", "is.gd", "t.co", "w.url.cn", "u.nu", "ow.ly", "s.id", "sohu.gg", "mrw.so"}

// officialDomains are the sites of government, banks, carriers, rail and
// airlines and the big shops, which their own notices link to. A link that
// only looks like one ("icbc-jf.top", "icbc.com.cn.verify.cc") is not one.
var officialDomains = []string{"gov.cn", "edu.cn", "12306.cn", "10086.cn", "10010.com", "chinaunicom.cn", "189.cn",
	"chinatelecom.com.cn", "icbc.com.cn", "ccb.com", "abchina.com", "boc.cn", "bankcomm.com", "cmbchina.com", "psbc.com",
	"spdb.com.cn", "cib.com.cn", "cebbank.com", "cmbc.com.cn", "citicbank.com", "pingan.com", "95599.cn", "taobao.com",
	"tmall.com", "jd.com", "alipay.com", "meituan.com", "pinduoduo.com", "sf-express.com", "ems.com.cn", "ctrip.com",
	"ceair.com", "csair.com", "airchina.com.cn", "chsi.com.cn", "12333.gov.cn", "10010.cn"}

// lookalikeWords in a host that is not on the official list mark a
// lookalike domain.
var lookalikeWords = []string{"icbc", "ccb", "abchina", "boc", "cmb", "bankcomm", "psbc", "95588", "95533", "95599", "10086",
	"10010", "189", "unicom", "chinamobile", "telecom", "etc", "12306", "12123", "gov", "tax", "alipay", "taobao", "jd-",
	"-jd", "bank", "jifen", "-jf", "jf-", "shebao", "yibao", "police", "court", "kefu", "refund", "-pay", "pay-", "verify"}

// OfficialNumbers are the police and government hotlines an anti-fraud
// message may tell people to call, with what each is.
var OfficialNumbers = map[string]string{
	"96110": "全国反诈预警劝阻专线，接到它的来电请一定接听",
	"110":   "报警电话",
	"12381": "工信部涉诈预警劝阻短信号码",
	"12321": "网络不良与垃圾信息举报受理中心",
	"12345": "政务服务便民热线",
	"12315": "市场监管投诉举报热线",
	"12393": "医保服务热线",
	"12333": "人社服务热线",
	"12366": "税务服务热线",
}

// govHotlineDigits: the government service hotlines are 12xxx.
const govHotlineDigits = 5

// OfficialNumber reports whether n is a police or government hotline.
func OfficialNumber(n string) bool { _, ok := OfficialNumbers[n]; return ok }

// oddTLDs are top-level domains cheap enough to be thrown away after one
// campaign; a bank, a court or a courier does not use them.
var oddTLDs = []string{".top", ".xyz", ".vip", ".icu", ".shop", ".club", ".site", ".online", ".tk", ".ml", ".ga", ".gq", ".cf", ".wang", ".ltd", ".fun", ".live", ".ink", ".work", ".cc"}

// extractEntities finds links, numbers, accounts and amounts in folded text,
// appending to out's backing array.
// Triggers and cheap byte checks decide first, so ordinary chat never
// reaches the regexps.
func extractEntities(s []byte, t trigger, out []Entity) []Entity {
	out = out[:0]
	if hasDomainDot(s) {
		for _, m := range urlRe.FindAllIndex(s, 8) {
			u := string(s[m[0]:m[1]])
			if masked(s, m[0], u) {
				out = append(out, Entity{EntityExampleURL, u})
				continue
			}
			out = append(out, classifyURL(u))
		}
		for _, u := range ipURLRe.FindAll(s, 4) {
			out = append(out, Entity{EntityOddDomain, string(u)}) // no bank links to a bare address
		}
	}
	if t&triggerQQ != 0 {
		for _, m := range qqRe.FindAllSubmatch(s, 4) {
			out = append(out, Entity{EntityQQ, string(m[1])})
		}
	}
	out = scanNumbers(s, out)
	if t&triggerWeChat != 0 {
		out = scanWeChatIDs(s, out)
	}
	if t&triggerCode != 0 {
		out = append(out, Entity{EntityCode, "验证码"})
	}
	if len(out) == 0 {
		return nil // as before: no entities is none, not an empty list
	}
	return out
}

// masked reports a link written as an example, which leads nowhere: a
// host label of only x's ("xxx.top", "www.xx.cn") or masked with asterisks
// ("wap.xx**bank.com", whose match starts after the asterisks). Templates
// that scammers fill in ("xx-jf.top") are links.
func masked(s []byte, start int, u string) bool {
	if start > 0 && s[start-1] == '*' || strings.Contains(u, "*") {
		return true
	}
	host := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"))
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	for _, label := range strings.Split(host, ".") {
		if len(label) >= 2 && strings.Trim(label, "x") == "" {
			return true
		}
	}
	return false
}

func classifyURL(u string) Entity {
	host := strings.ToLower(u)
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	for _, s := range shorteners {
		if host == s || strings.HasSuffix(host, "."+s) {
			return Entity{EntityShortURL, u}
		}
	}
	for _, d := range officialDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return Entity{EntityOfficialURL, u}
		}
	}
	for _, t := range oddTLDs {
		if strings.HasSuffix(host, t) {
			return Entity{EntityOddDomain, u}
		}
	}
	// A name that borrows a brand or an official word without being the
	// official site: icbc-aq.cn, 10086-jf.com, etc-gov.net.
	for _, b := range lookalikeWords {
		if strings.Contains(host, b) {
			return Entity{EntityOddDomain, u}
		}
	}
	return Entity{EntityURL, u}
}

// classifyNumber tells what a run of digits is, if anything worth
// reporting. Separators people put in numbers ("138 0013 8000") are ignored.
func classifyNumber(raw string) (Entity, bool) {
	d := numberSeparators.Replace(raw)
	intl := strings.HasPrefix(d, "+") || strings.HasPrefix(d, "00")
	d = strings.TrimPrefix(d, "+")
	switch {
	case intl && !strings.HasPrefix(d, "86") && len(d) >= 8:
		return Entity{EntityIntlPhone, raw}, true
	case strings.HasPrefix(d, "86") && len(d) == 13 && d[2] == '1':
		return Entity{EntityPhone, d[2:]}, true
	case len(d) == 11 && d[0] == '1' && d[1] >= '3':
		return Entity{EntityPhone, d}, true
	case len(d) == govHotlineDigits && strings.HasPrefix(d, "12") && OfficialNumber(d),
		// 96xxx: regional public-service lines (utilities, local banks, 96110).
		len(d) == govHotlineDigits && strings.HasPrefix(d, "96"):
		return Entity{EntityGovHotline, d}, true
	case strings.HasPrefix(d, "400") && len(d) == 10, strings.HasPrefix(d, "95") && len(d) >= 5 && len(d) <= 6:
		return Entity{EntityHotline, d}, true
	case len(d) >= 16 && len(d) <= 19 && (d[0] == '6' || d[0] == '4' || d[0] == '5' || d[0] == '3'):
		return Entity{EntityBankCard, d}, true
	}
	return Entity{}, false
}

func inURL(es []Entity, v string) bool {
	for _, e := range es {
		if (e.Kind == EntityURL || e.Kind == EntityOfficialURL || e.Kind == EntityShortURL || e.Kind == EntityOddDomain) && strings.Contains(e.Value, v) {
			return true
		}
	}
	return false
}

func hasValue(es []Entity, v string) bool {
	for _, e := range es {
		if e.Value == v {
			return true
		}
	}
	return false
}

// hasDomainDot reports whether s has a dot between ASCII letters or digits,
// the least a link needs; Chinese text ends sentences with "。".
func hasDomainDot(s []byte) bool {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && isAlnum(s[i-1]) && isAlnum(s[i+1]) {
			return true
		}
	}
	return false
}

func isAlnum(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// govHotlineInside reports 12xxx digits at s[i:j] that are not a number to
// call: a sender's signature (【12345】) or part of an ID ("abc_12345").
func govHotlineInside(s []byte, i, j int) bool {
	if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_' || s[i-1] == '-') || j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
		return true
	}
	return bytes.HasSuffix(s[:i], []byte("【"))
}

// scanNumbers finds runs of digits (with single spaces or dashes inside, as
// people write phone numbers) and reports phones, hotlines, cards and sums
// of money. It is a hand-written scanner because it runs on every message.
func scanNumbers(s []byte, out []Entity) []Entity {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start := i
		if start > 0 && s[start-1] == '+' {
			start--
		}
		j := i
		for j < len(s) {
			if isDigit(s[j]) {
				j++
			} else if (s[j] == ' ' || s[j] == '-' || s[j] == ',') && j+1 < len(s) && isDigit(s[j+1]) {
				j += 2
			} else {
				break
			}
		}
		raw := string(s[start:j])
		if amount, end, ok := moneyAround(s, start, j); ok {
			out = append(out, Entity{EntityAmount, amount})
			j = end // past the decimals: "3.50元" is one sum, not a second "50元"
		} else if e, ok := classifyNumber(raw); ok && !inURL(out, e.Value) && !hasValue(out, e.Value) &&
			!(e.Kind == EntityGovHotline && govHotlineInside(s, start, j)) {
			out = append(out, e)
		}
		i = j
	}
	return out
}

// moneyAround reports the run s[i:j] as a sum of money if a currency sign
// comes before it or a unit after it ("3000元", "18万", "¥99.9"), with
// where the sum ends.
func moneyAround(s []byte, i, j int) (string, int, bool) {
	if j+2 < len(s) && s[j] == '.' && isDigit(s[j+1]) { // decimals
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	for _, sign := range []string{"¥", "￥"} {
		if bytes.HasSuffix(s[:i], []byte(sign)) {
			return string(s[i-len(sign) : j]), j, true
		}
	}
	rest := s[j:]
	for _, unit := range []string{"万元", "万", "元", "块钱", "块"} {
		if bytes.HasPrefix(rest, []byte(unit)) {
			return string(s[i : j+len(unit)]), j + len(unit), true
		}
	}
	return "", j, false
}

// wxWords are the ways people write "WeChat" before an ID.
var wxWords = [][]byte{[]byte("微信"), []byte("v信"), []byte("V信"), []byte("vx"), []byte("VX"), []byte("Vx"), []byte("wx"),
	[]byte("WX"), []byte("weixin"), []byte("加v"), []byte("加V"), []byte("威信"), []byte("薇信")}

// scanWeChatIDs finds a WeChat ID after a word for WeChat: optional 号,
// colons and spaces, then a letter and 5-19 letters, digits, - or _. A hand
// scanner, because it runs whenever a message mentions WeChat.
func scanWeChatIDs(s []byte, out []Entity) []Entity {
	for _, w := range wxWords {
		for from := 0; len(out) < 16; {
			i := bytes.Index(s[from:], w)
			if i < 0 {
				break
			}
			j := from + i + len(w)
			from = j
			if bytes.HasPrefix(s[j:], []byte("号")) {
				j += len("号")
			}
			for j < len(s) {
				switch {
				case s[j] == ' ' || s[j] == ':' || s[j] == '\t':
					j++
					continue
				case bytes.HasPrefix(s[j:], []byte("：")):
					j += len("：")
					continue
				}
				break
			}
			k := j
			for k < len(s) && (isAlnum(s[k]) || s[k] == '-' || s[k] == '_') {
				k++
			}
			if n := k - j; n >= 6 && n <= 20 && isLetter(s[j]) && !hasValue(out, string(s[j:k])) {
				out = append(out, Entity{EntityWeChat, string(s[j:k])})
			}
		}
	}
	return out
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
