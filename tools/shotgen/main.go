// Command shotgen renders a deterministic test set of phone screenshots for
// the OCR path of the scam check.
//
// It picks development messages from knowledge/testdata (scams, ordinary
// messages and anti-fraud education), lays each one out as an HTML page in one
// of three styles (an SMS app, a WeChat-like group chat, or a notice poster),
// in a light or dark theme, and screenshots the page with headless Chromium.
// Half of the images are 390 px wide (390 CSS px at device scale factor 1) and
// half 1080 px wide (360 CSS px at device scale factor 3). Trailing empty rows
// are cropped in Go, and about one third of the images are re-encoded as JPEG
// (quality 80, like pictures forwarded through WeChat); the rest stay PNG.
//
// The selection, layout, fake sender numbers and fake times are fixed, so a
// rerun produces the same set. Besides the images it writes manifest.tsv with
// one row per image:
//
//	file<TAB>source<TAB>style<TAB>mode<TAB>width<TAB>text
//
// where source is "dev/scam_a.tsv:LINE" (1-based line in the source file) and
// text is the message exactly as in the source file.
//
// Run from the repository root:
//
//	go run ./tools/shotgen
//	go run ./tools/shotgen -out media/testdata/shots -chromium /usr/bin/chromium
//
// -n only prints the selection; -j sets the number of parallel Chromium
// renders (1 or 2, default 2). Images not in the new manifest are deleted
// from the output directory.
//
// The images are checked by go test ./tools/shotgen/ (no Chromium needed).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"image"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	maxRunes    = 200 // longest message that still fits one screenshot
	minRunes    = 8
	windowH     = 1400 // CSS px; the page is cropped afterwards
	jpegQuality = 80
)

// sentinel is the page background outside the phone screen; rows of this
// colour at the bottom of a screenshot are cropped away.
var sentinel = [3]uint8{1, 2, 3}

func main() {
	out := flag.String("out", "media/testdata/shots", "output directory for images and manifest.tsv")
	chromium := flag.String("chromium", "/usr/bin/chromium", "path to the Chromium binary")
	data := flag.String("data", "knowledge/testdata", "directory with the dev/ and dev2/ message sets")
	jobs := flag.Int("j", 2, "parallel Chromium renders (1 or 2)")
	dry := flag.Bool("n", false, "only print the selection; render nothing")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("shotgen: ")
	if *jobs < 1 {
		*jobs = 1
	}
	if *jobs > 2 {
		*jobs = 2
	}

	shots, err := selectShots(*data)
	if err != nil {
		log.Fatal(err)
	}
	if *dry {
		for _, s := range shots {
			fmt.Printf("%s\t%s:%d\t%s/%s\t%s\n", s.File, s.Src, s.Line, s.Cat, s.Label, s.Text)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := renderAll(shots, *out, *chromium, *jobs); err != nil {
		log.Fatal(err)
	}
	if err := writeManifest(shots, *out); err != nil {
		log.Fatal(err)
	}
	if err := removeStale(shots, *out); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d images and manifest.tsv to %s", len(shots), *out)
}

// ---------------------------------------------------------------------------
// Source messages

type entry struct {
	Src      string // path relative to the data dir, e.g. "dev/scam_a.tsv"
	Line     int    // 1-based line number in Src
	Label    string // family, kind or voice (first column)
	Register string // only in dev/scam_*.tsv
	Text     string // message text, exactly as in the file
	Cat      string // scam, ordinary or education
}

// loadTSV reads one source file. cols is the expected number of columns;
// the text is always the last one.
func loadTSV(dataDir, rel string, cols int, cat string) ([]entry, error) {
	f, err := os.Open(filepath.Join(dataDir, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var es []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != cols {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d", rel, n, len(parts), cols)
		}
		e := entry{Src: rel, Line: n, Label: parts[0], Text: parts[cols-1], Cat: cat}
		if cols == 3 {
			e.Register = parts[1]
		}
		es = append(es, e)
	}
	return es, sc.Err()
}

// usable reports whether a message fits a screenshot and can be drawn with the
// installed fonts (WenQuanYi has no emoji).
func usable(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < minRunes || n > maxRunes {
		return false
	}
	for _, r := range s {
		switch {
		case r > 0xFFFF, r >= 0x2600 && r <= 0x27BF, r >= 0xFE00 && r <= 0xFE0F, r == 0x200D:
			return false
		}
	}
	return true
}

func filter(es []entry, keep func(entry) bool) []entry {
	var out []entry
	for _, e := range es {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// labels returns the distinct first-column values in file order.
func labels(es []entry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		if !seen[e.Label] {
			seen[e.Label] = true
			out = append(out, e.Label)
		}
	}
	return out
}

// spread picks n entries evenly spaced over es (the middle of n equal slices).
func spread(es []entry, n int) []entry {
	if n > len(es) {
		n = len(es)
	}
	out := make([]entry, 0, n)
	for j := 0; j < n; j++ {
		out = append(out, es[(2*j+1)*len(es)/(2*n)])
	}
	return out
}

// shot is one image to render.
type shot struct {
	entry
	Index int
	Style string // sms, wechat, poster
	Mode  string // light, dark
	Width int    // image pixel width: 390 or 1080
	JPEG  bool
	File  string
}

func selectShots(dataDir string) ([]*shot, error) {
	type src struct {
		rel  string
		cols int
		cat  string
	}
	srcs := []src{
		{"dev/scam_a.tsv", 3, "scam"}, {"dev/scam_b.tsv", 3, "scam"}, {"dev2/scam.tsv", 2, "scam"},
		{"dev/ordinary.tsv", 2, "ordinary"}, {"dev2/ordinary.tsv", 2, "ordinary"},
		{"dev/education.tsv", 2, "education"}, {"dev2/education.tsv", 2, "education"},
	}
	all := map[string][]entry{}
	for _, s := range srcs {
		es, err := loadTSV(dataDir, s.rel, s.cols, s.cat)
		if err != nil {
			return nil, err
		}
		all[s.rel] = filter(es, func(e entry) bool { return usable(e.Text) })
	}

	var picked []entry
	// Scams from the two register-tagged sets: per family one SMS and one chat
	// (or one-liner) message, so every family appears twice.
	for _, rel := range []string{"dev/scam_a.tsv", "dev/scam_b.tsv"} {
		es := all[rel]
		for fi, fam := range labels(es) {
			regs := []string{"sms", "chat"}
			if fi%2 == 1 {
				regs[1] = "oneliner"
			}
			for ri, reg := range regs {
				g := filter(es, func(e entry) bool { return e.Label == fam && e.Register == reg })
				if len(g) == 0 {
					continue
				}
				picked = append(picked, g[(fi*3+ri*5+2)%len(g)])
			}
		}
	}
	// dev2 scams (no register column): every 60th usable line.
	for i, es := 25, all["dev2/scam.tsv"]; i < len(es); i += 60 {
		picked = append(picked, es[i])
	}
	// Ordinary messages, spread over the kinds.
	ordinary := []struct {
		rel  string
		kind string
		n    int
	}{
		{"dev/ordinary.tsv", "sms", 2}, {"dev/ordinary.tsv", "chat", 3},
		{"dev/ordinary.tsv", "notice", 2}, {"dev/ordinary.tsv", "ad", 2},
		{"dev2/ordinary.tsv", "sms", 2}, {"dev2/ordinary.tsv", "chat", 1},
		{"dev2/ordinary.tsv", "notice", 1}, {"dev2/ordinary.tsv", "ad", 1},
	}
	for _, o := range ordinary {
		g := filter(all[o.rel], func(e entry) bool { return e.Label == o.kind })
		picked = append(picked, spread(g, o.n)...)
	}
	// Education: evenly over each file, which is grouped by voice.
	picked = append(picked, spread(all["dev/education.tsv"], 7)...)
	picked = append(picked, spread(all["dev2/education.tsv"], 7)...)

	shots := make([]*shot, len(picked))
	perStyle := map[string]int{}
	wechatScams := 0
	for i, e := range picked {
		s := &shot{entry: e, Index: i}
		s.Style = chooseStyle(e, &wechatScams)
		n := perStyle[s.Style]
		perStyle[s.Style]++
		s.Mode = []string{"light", "dark"}[n%2]
		s.Width = []int{390, 1080}[(n/2)%2]
		s.JPEG = i%3 == 2
		ext := "png"
		if s.JPEG {
			ext = "jpg"
		}
		s.File = fmt.Sprintf("%02d_%s_%s_%d.%s", i+1, s.Style, s.Mode, s.Width, ext)
		shots[i] = s
	}
	return shots, nil
}

var urlRE = regexp.MustCompile(`(?i)(?:https?://)?(?:\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:cn|com|net|org|top|cc|vip|xyz|me|io|co|club|shop|site|info|ltd|link|app|tv|icu|live|fun|online))(?::\d+)?(?:/[A-Za-z0-9._~/?=&%#-]*)?`)

var phoneRE = regexp.MustCompile(`\b(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-\d{7,8}|400-?\d{3}-?\d{4})\b`)

func chooseStyle(e entry, wechatScams *int) string {
	switch e.Cat {
	case "scam":
		switch e.Register {
		case "sms":
			return "sms"
		case "":
			if strings.Contains(e.Text, "【") || urlRE.MatchString(e.Text) {
				return "sms"
			}
		}
		// A few longer chat-register scams become posters (forwarded images).
		if e.Register == "chat" && utf8.RuneCountInString(e.Text) >= 40 {
			*wechatScams++
			if *wechatScams%3 == 2 {
				return "poster"
			}
		}
		return "wechat"
	case "ordinary":
		switch e.Label {
		case "sms":
			return "sms"
		case "chat":
			return "wechat"
		case "ad":
			if strings.Contains(e.Text, "【") {
				return "sms"
			}
		}
		return "poster"
	default: // education
		switch e.Label {
		case "family", "resident", "grid", "child", "elder", "cadre":
			return "wechat"
		case "bank":
			if strings.Contains(e.Text, "【") {
				return "sms"
			}
		}
		return "poster"
	}
}

// ---------------------------------------------------------------------------
// Page data

type bubble struct {
	Self   bool
	Nick   string
	Avatar string // one character
	AvCls  string // colour class
	Text   template.HTML
}

type page struct {
	Style  string
	Mode   string
	CSSW   int
	Clock  string
	Batt   int
	Net    string
	Sender string
	Unread int
	Stamp  string
	Group  string
	Rows   []bubble
	Title  string
	Sub    string
	Foot   string
	Theme  string // poster colour theme
	Msg    template.HTML
}

// pick returns xs[(i*mul+add) mod len(xs)], a fixed per-image choice.
func pick[T any](xs []T, i, mul, add int) T {
	return xs[(i*mul+add)%len(xs)]
}

var (
	clocks   = []string{"9:41", "10:23", "15:36", "20:08", "21:47", "8:15", "13:02", "18:54", "11:30"}
	battery  = []int{87, 64, 45, 92, 73, 56, 31, 100, 81}
	networks = []string{"5G", "4G", "5G", "4G+"}

	smsStamps = []string{"昨天 15:30", "11月20日 上午10:12", "今天 09:18", "星期二 下午3:05", "10月8日 下午6:47", "昨天 晚上9:26", "今天 上午11:04", "星期六 上午8:39"}
	wxStamps  = []string{"昨天 晚上8:16", "上午10:42", "星期三 下午2:30", "下午4:18", "昨天 上午9:07", "晚上7:55", "11月18日 下午3:21", "中午12:36"}

	senders106 = []string{"10690551287346", "106575201633", "10691288420057", "106902173355", "1065903177821", "106980047126"}
	senders95  = []string{"95386", "95527", "95071", "95613"}
	sendersMob = []string{"+86 170 2836 5519", "+86 165 0913 7742", "+86 171 6620 4381", "+86 138 0275 6613", "+86 167 4452 0938"}

	communityGroups = []string{"幸福里社区居民群(386)", "阳光花园3栋业主群(212)", "和美家园邻里互助群(431)", "东湖村村民群(268)", "夕阳红广场舞队(96)", "老同学聚会群(57)", "张家大家庭(23)"}
	schoolGroups    = []string{"实验小学三年级2班家长群(46)", "育才中学初二(5)班家长群(52)"}
	workGroups      = []string{"华信科技市场部(28)", "财务部工作群(12)"}

	nickPool  = []string{"梅姐", "老刘", "花开富贵", "静待花开", "阳光", "李建华", "平安是福", "小陈", "张阿姨", "Sunny", "木子", "知足常乐", "王师傅", "周老师", "晓燕"}
	selfNicks = []string{"静", "芳", "军", "敏", "华"} // the phone owner's avatar

	neighbourBefore = []string{"大家晚上好", "有人知道明天几点停水吗？", "今天降温了，大家多穿点", "早上好", "菜市场门口的鸡蛋今天特价"}
	replyScam       = []string{"这是真的吗？", "又是骗人的吧", "谁拉进来的？", "不懂，问问家里孩子"}
	replyOrdinary   = []string{"收到", "好的，谢谢", "收到，谢谢"}
	replyEducation  = []string{"谢谢提醒", "收到，已转发给家里老人", "好的，大家都注意点"}
)

func avatarOf(nick string) string {
	r, _ := utf8.DecodeRuneInString(nick)
	return string(r)
}

func newBubble(nick string, text string, i int, self bool) bubble {
	return bubble{Self: self, Nick: nick, Avatar: avatarOf(nick), AvCls: fmt.Sprintf("av%d", i%8), Text: linkify(text, false)}
}

// linkify escapes s for HTML; with links true, URLs and phone numbers are
// marked up as the phone apps do (blue, underlined).
func linkify(s string, links bool) template.HTML {
	if !links {
		return template.HTML(template.HTMLEscapeString(s))
	}
	type span struct{ a, b int }
	var spans []span
	for _, re := range []*regexp.Regexp{urlRE, phoneRE} {
		for _, m := range re.FindAllStringIndex(s, -1) {
			spans = append(spans, span{m[0], m[1]})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	var b strings.Builder
	pos := 0
	for _, sp := range spans {
		if sp.a < pos {
			continue // overlapping match
		}
		b.WriteString(template.HTMLEscapeString(s[pos:sp.a]))
		b.WriteString(`<span class="link">`)
		b.WriteString(template.HTMLEscapeString(s[sp.a:sp.b]))
		b.WriteString(`</span>`)
		pos = sp.b
	}
	b.WriteString(template.HTMLEscapeString(s[pos:]))
	return template.HTML(b.String())
}

func buildPage(s *shot) page {
	i := s.Index
	p := page{
		Style: s.Style,
		Mode:  s.Mode,
		CSSW:  cssWidth(s.Width),
		Clock: pick(clocks, i, 5, 1),
		Batt:  pick(battery, i, 7, 3),
		Net:   pick(networks, i, 3, 0),
	}
	switch s.Style {
	case "sms":
		switch {
		case s.Cat == "ordinary" && strings.Contains(s.Text, "银行"):
			p.Sender = pick(senders95, i, 1, 0)
		case strings.Contains(s.Text, "【"):
			p.Sender = pick(senders106, i, 5, 2)
		default:
			p.Sender = pick(sendersMob, i, 3, 1)
		}
		p.Unread = pick([]int{3, 12, 7, 26, 1, 9}, i, 5, 0)
		p.Stamp = pick(smsStamps, i, 3, 2)
		p.Msg = linkify(s.Text, true)
	case "wechat":
		p.Stamp = pick(wxStamps, i, 5, 3)
		switch s.Label {
		case "teacher_fee", "teacher", "student", "child":
			p.Group = pick(schoolGroups, i, 1, 0)
		case "leader":
			p.Group = pick(workGroups, i, 1, 0)
		case "family":
			p.Group = "张家大家庭(23)"
		default:
			p.Group = pick(communityGroups, i, 3, 1)
		}
		nick := pick(nickPool, i, 7, 4)
		replies := replyOrdinary
		switch s.Cat {
		case "scam":
			replies = replyScam
		case "education":
			replies = replyEducation
			switch s.Label {
			case "grid":
				nick = "社区网格员小周"
			case "cadre":
				nick = "幸福里居委会"
			case "police":
				nick = "片区民警老赵"
			}
		}
		main := bubble{Nick: nick, Avatar: avatarOf(nick), AvCls: fmt.Sprintf("av%d", i%8), Text: linkify(s.Text, true)}
		n1 := pick(nickPool, i, 5, 9)
		if n1 == nick {
			n1 = "老刘"
		}
		switch i % 3 {
		case 0: // neighbour line before
			p.Rows = []bubble{newBubble(n1, pick(neighbourBefore, i, 1, 0), i+3, false), main}
		case 1: // reply after, from "me"
			p.Rows = []bubble{main, newBubble(pick(selfNicks, i, 1, 0), pick(replies, i, 1, 0), i+5, true)}
		default: // both
			p.Rows = []bubble{newBubble(n1, pick(neighbourBefore, i, 1, 2), i+3, false), main,
				newBubble(pick(nickPool, i, 11, 2), pick(replies, i, 1, 1), i+6, false)}
		}
	case "poster":
		p.Msg = linkify(s.Text, false)
		p.Foot = pick([]string{"2024年11月20日", "2024年12月3日", "2025年3月15日", "2025年1月8日"}, i, 1, 0)
		switch s.Cat {
		case "education":
			p.Title = pick([]string{"反诈提醒", "温馨提示", "防骗小课堂"}, i, 1, 0)
			p.Sub = "守护好自己的钱袋子"
			p.Theme = pick([]string{"red", "orange", "blue"}, i, 1, 0)
		case "ordinary":
			p.Title = pick([]string{"通知", "温馨提示", "公告"}, i, 1, 0)
			if s.Label == "ad" {
				p.Title = pick([]string{"优惠活动", "好消息"}, i, 1, 0)
			}
			p.Theme = pick([]string{"blue", "green", "orange"}, i, 1, 0)
		default:
			p.Title = pick([]string{"重要通知", "好消息", "通知"}, i, 1, 0)
			p.Theme = pick([]string{"red", "blue", "orange"}, i, 1, 1)
		}
	}
	return p
}

func cssWidth(px int) int {
	if px == 1080 {
		return 360
	}
	return px
}

// ---------------------------------------------------------------------------
// Rendering

func renderAll(shots []*shot, out, chromium string, jobs int) error {
	work := make(chan *shot)
	errs := make(chan error, len(shots))
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if err := renderOne(s, out, chromium); err != nil {
					errs <- fmt.Errorf("%s (%s:%d): %w", s.File, s.Src, s.Line, err)
					continue
				}
				log.Printf("%s", s.File)
			}
		}()
	}
	for _, s := range shots {
		work <- s
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func renderOne(s *shot, out, chromium string) error {
	var html bytes.Buffer
	if err := pageTmpl.Execute(&html, buildPage(s)); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "shotgen-")
	if err != nil {
		return err
	}
	defer removeAllRetry(tmp)
	htmlPath := filepath.Join(tmp, "page.html")
	pngPath := filepath.Join(tmp, "shot.png")
	if err := os.WriteFile(htmlPath, html.Bytes(), 0o644); err != nil {
		return err
	}
	var img image.Image
	for h := windowH; ; h *= 2 {
		if err := runChromium(chromium, tmp, htmlPath, pngPath, cssWidth(s.Width), h, s.Width == 1080); err != nil {
			return err
		}
		img, err = loadAndCrop(pngPath)
		if err == errTooTall && h < 4*windowH {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	if img.Bounds().Dx() != s.Width {
		return fmt.Errorf("screenshot is %d px wide, want %d", img.Bounds().Dx(), s.Width)
	}
	var buf bytes.Buffer
	if s.JPEG {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
	} else {
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		err = enc.Encode(&buf, img)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, s.File), buf.Bytes(), 0o644)
}

func runChromium(chromium, tmp, htmlPath, pngPath string, cssW, cssH int, hiDPI bool) error {
	os.Remove(pngPath)
	profile, err := os.MkdirTemp(tmp, "profile-")
	if err != nil {
		return err
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + profile,
		fmt.Sprintf("--window-size=%d,%d", cssW, cssH),
	}
	if hiDPI {
		args = append(args, "--force-device-scale-factor=3")
	}
	args = append(args, "--screenshot="+pngPath, "file://"+htmlPath)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, args...)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("chromium: %v\n%s", err, tail(outb, 2000))
	}
	if _, err := os.Stat(pngPath); err != nil {
		return fmt.Errorf("chromium wrote no screenshot: %v\n%s", err, tail(outb, 2000))
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// removeAllRetry removes a temp dir; Chromium helper processes may still be
// writing into the profile for a moment after the main process exits.
func removeAllRetry(dir string) {
	var err error
	for try := 0; try < 20; try++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	log.Printf("warning: could not remove %s: %v", dir, err)
}

var errTooTall = errors.New("page content is taller than the window")

// loadAndCrop decodes a Chromium screenshot and crops the rows of sentinel
// colour below the page content.
func loadAndCrop(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	isSentinel := func(x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		return uint8(r>>8) == sentinel[0] && uint8(g>>8) == sentinel[1] && uint8(bl>>8) == sentinel[2]
	}
	if !isSentinel(b.Min.X, b.Max.Y-1) {
		return nil, errTooTall
	}
	bottom := b.Max.Y
rows:
	for bottom > b.Min.Y {
		y := bottom - 1
		for x := b.Min.X; x < b.Max.X; x++ {
			if !isSentinel(x, y) {
				break rows
			}
		}
		bottom--
	}
	if bottom-b.Min.Y < 100 {
		return nil, fmt.Errorf("screenshot is empty after cropping")
	}
	type subImager interface {
		SubImage(image.Rectangle) image.Image
	}
	si, ok := img.(subImager)
	if !ok {
		return nil, fmt.Errorf("unexpected image type %T", img)
	}
	return si.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, bottom)), nil
}

// ---------------------------------------------------------------------------
// Output

func writeManifest(shots []*shot, out string) error {
	var b strings.Builder
	b.WriteString("# Screenshot OCR test set generated by tools/shotgen (go run ./tools/shotgen). Columns: file<TAB>source (file under knowledge/testdata:1-based line)<TAB>style (sms|wechat|poster)<TAB>mode (light|dark)<TAB>width (px)<TAB>text (exactly as in the source line)\n")
	for _, s := range shots {
		fmt.Fprintf(&b, "%s\t%s:%d\t%s\t%s\t%d\t%s\n", s.File, s.Src, s.Line, s.Style, s.Mode, s.Width, s.Text)
	}
	return os.WriteFile(filepath.Join(out, "manifest.tsv"), []byte(b.String()), 0o644)
}

// removeStale deletes images in out that are not part of this run.
func removeStale(shots []*shot, out string) error {
	keep := map[string]bool{}
	for _, s := range shots {
		keep[s.File] = true
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || keep[name] || (ext != ".png" && ext != ".jpg") {
			continue
		}
		if err := os.Remove(filepath.Join(out, name)); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// HTML and CSS

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>` + css + `</style></head>
<body class="{{.Mode}}" style="width: {{.CSSW}}px">
{{if eq .Style "sms"}}{{template "sms" .}}{{else if eq .Style "wechat"}}{{template "wechat" .}}{{else}}{{template "poster" .}}{{end}}
</body></html>
{{define "status"}}<div class="status"><span class="clock">{{.Clock}}</span><span class="right"><span class="sig"><i></i><i></i><i></i><i></i></span><span class="net">{{.Net}}</span><span class="pct">{{.Batt}}%</span><span class="batt"><span class="lvl" style="width: {{.Batt}}%"></span></span></span></div>{{end}}
{{define "home"}}<div class="home"><div class="pill"></div></div>{{end}}
{{define "sms"}}<div class="screen sms">
{{template "status" .}}
<div class="head">
 <div class="back">&#x2039;<span class="cnt">{{.Unread}}</span></div>
 <div class="contact"><div class="face"><div class="h"></div><div class="b"></div></div><div class="num">{{.Sender}} <span class="chev">&#x203A;</span></div></div>
</div>
<div class="thread">
 <div class="meta"><div class="kind">短信/彩信</div><div>{{.Stamp}}</div></div>
 <div class="bubble">{{.Msg}}</div>
</div>
<div class="inputbar"><div class="plus">+</div><div class="field">短信<span class="mic"></span></div></div>
{{template "home" .}}
</div>{{end}}
{{define "wechat"}}<div class="screen wx">
{{template "status" .}}
<div class="head"><span class="back">&#x2039;</span><span class="title">{{.Group}}</span><span class="more">&middot;&middot;&middot;</span></div>
<div class="chat">
 <div class="time">{{.Stamp}}</div>
 {{range .Rows}}<div class="row{{if .Self}} self{{end}}"><div class="av {{.AvCls}}">{{.Avatar}}</div><div class="col">{{if not .Self}}<div class="nick">{{.Nick}}</div>{{end}}<div class="bub">{{.Text}}</div></div></div>
 {{end}}
</div>
<div class="inputbar"><span class="ico voice"></span><span class="field"></span><span class="ico emoji"></span><span class="ico plus">+</span></div>
{{template "home" .}}
</div>{{end}}
{{define "poster"}}<div class="screen poster {{.Theme}}">
<div class="band"><div class="title">{{.Title}}</div>{{if .Sub}}<div class="sub">{{.Sub}}</div>{{end}}</div>
<div class="box"><p>{{.Msg}}</p></div>
<div class="foot"><span class="rule"></span>{{.Foot}}<span class="rule"></span></div>
</div>{{end}}
`))

const css = `
html, body { margin: 0; padding: 0; background: rgb(1,2,3); }
body { font-family: "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", sans-serif; overflow: hidden; }
.screen { width: 100%; overflow: hidden; }
* { box-sizing: border-box; }

/* status bar */
.status { height: 44px; padding: 0 22px 0 30px; display: flex; align-items: center; justify-content: space-between; font-size: 15px; font-weight: bold; }
.status .right { display: flex; align-items: center; gap: 5px; font-size: 12px; }
.status .sig { display: inline-flex; align-items: flex-end; gap: 2px; height: 11px; }
.status .sig i { display: block; width: 3px; border-radius: 1px; background: currentColor; }
.status .sig i:nth-child(1) { height: 4px; } .status .sig i:nth-child(2) { height: 6px; }
.status .sig i:nth-child(3) { height: 8px; } .status .sig i:nth-child(4) { height: 11px; }
.status .net { font-size: 12px; }
.status .pct { font-size: 12px; margin-left: 3px; }
.status .batt { position: relative; width: 24px; height: 12px; border: 1.5px solid currentColor; border-radius: 3.5px; padding: 1px; opacity: .9; }
.status .batt::after { content: ""; position: absolute; right: -4px; top: 3px; width: 2px; height: 4px; border-radius: 0 1px 1px 0; background: currentColor; }
.status .lvl { display: block; height: 100%; border-radius: 1.5px; background: currentColor; }
.home { height: 30px; display: flex; align-items: center; justify-content: center; }
.home .pill { width: 134px; height: 5px; border-radius: 3px; }
.link { color: #0a6cdc; text-decoration: underline; }

/* SMS app */
.sms { background: #fff; color: #000; }
.sms .status, .sms .head { background: #f6f6f6; }
.sms .head { position: relative; height: 92px; border-bottom: 1px solid #d9d9d9; }
.sms .back { position: absolute; left: 10px; top: 4px; color: #0a7aff; font-size: 34px; line-height: 34px; }
.sms .back .cnt { display: inline-block; vertical-align: 8px; margin-left: 3px; min-width: 22px; padding: 0 6px; height: 20px; line-height: 20px; border-radius: 10px; background: #0a7aff; color: #fff; font-size: 13px; text-align: center; }
.sms .contact { position: absolute; left: 0; right: 0; top: 4px; text-align: center; }
.sms .face { position: relative; width: 50px; height: 50px; margin: 0 auto; border-radius: 50%; overflow: hidden; background: linear-gradient(#a5abb8, #858994); }
.sms .face .h { position: absolute; left: 17px; top: 10px; width: 16px; height: 16px; border-radius: 50%; background: #fff; }
.sms .face .b { position: absolute; left: 9px; top: 30px; width: 32px; height: 28px; border-radius: 50%; background: #fff; }
.sms .num { margin-top: 5px; font-size: 12px; color: #000; }
.sms .chev { color: #8e8e93; }
.sms .thread { padding: 14px 0 56px; min-height: 240px; }
.sms .meta { text-align: center; font-size: 11px; color: #8e8e93; line-height: 16px; margin-bottom: 8px; }
.sms .meta .kind { font-weight: bold; }
.sms .bubble { margin-left: 14px; max-width: 76%; display: inline-block; padding: 8px 13px; border-radius: 18px; background: #e9e9eb; font-size: 16px; line-height: 1.42; overflow-wrap: anywhere; }
.sms .inputbar { display: flex; align-items: center; padding: 6px 10px 4px; gap: 10px; }
.sms .plus { width: 32px; height: 32px; border-radius: 50%; background: #e9e9eb; color: #8e8e93; font-size: 24px; line-height: 31px; text-align: center; }
.sms .field { position: relative; flex: 1; height: 34px; border: 1px solid #cfcfd3; border-radius: 17px; padding-left: 14px; line-height: 32px; font-size: 15px; color: #b8b8bd; }
.sms .mic { position: absolute; right: 13px; top: 9px; width: 8px; height: 13px; border-radius: 4px; background: #b8b8bd; }
.sms .home { background: #fff; }
.sms .pill { background: #111; }
.dark .sms { background: #000; color: #fff; }
.dark .sms .status, .dark .sms .head { background: #161618; }
.dark .sms .head { border-bottom-color: #2c2c2e; }
.dark .sms .face { background: linear-gradient(#6d717c, #4c4f57); }
.dark .sms .face .h, .dark .sms .face .b { background: #d0d2d8; }
.dark .sms .num { color: #fff; }
.dark .sms .bubble { background: #262628; color: #fff; }
.dark .sms .plus { background: #2c2c2e; }
.dark .sms .field { border-color: #3a3a3c; color: #636366; }
.dark .sms .mic { background: #636366; }
.dark .sms .home { background: #000; }
.dark .sms .pill { background: #f2f2f2; }
.dark .link { color: #3d9bff; }

/* WeChat group chat */
.wx { background: #ededed; color: #111; }
.wx .status, .wx .head { background: #ededed; }
.wx .head { height: 46px; display: flex; align-items: center; justify-content: space-between; padding: 0 14px 0 10px; border-bottom: 1px solid #dcdcdc; }
.wx .back { font-size: 34px; width: 40px; line-height: 34px; }
.wx .title { flex: 1; text-align: center; font-size: 16px; font-weight: bold; white-space: nowrap; overflow: hidden; }
.wx .more { width: 40px; text-align: right; font-size: 22px; font-weight: bold; letter-spacing: -1px; }
.wx .chat { padding: 8px 0 40px; min-height: 260px; }
.wx .time { text-align: center; font-size: 12px; color: #999; margin: 10px 0 14px; }
.wx .row { display: flex; align-items: flex-start; padding: 0 12px; margin-bottom: 16px; }
.wx .row.self { flex-direction: row-reverse; }
.wx .av { flex: none; width: 40px; height: 40px; border-radius: 5px; color: #fff; font-size: 19px; line-height: 40px; text-align: center; }
.av0 { background: #5b8def; } .av1 { background: #e0884b; } .av2 { background: #58a55c; } .av3 { background: #c05a8d; }
.av4 { background: #8a6fd1; } .av5 { background: #3aa7a3; } .av6 { background: #d05c4f; } .av7 { background: #9a8a5a; }
.wx .col { margin: 0 10px; max-width: 72%; display: flex; flex-direction: column; align-items: flex-start; }
.wx .row.self .col { align-items: flex-end; }
.wx .nick { font-size: 12px; color: #888; margin: -2px 0 4px 2px; }
.wx .bub { position: relative; padding: 9px 11px; border-radius: 5px; background: #fff; font-size: 16px; line-height: 1.45; overflow-wrap: anywhere; }
.wx .bub::before { content: ""; position: absolute; left: -5px; top: 13px; width: 10px; height: 10px; background: inherit; transform: rotate(45deg); border-radius: 1px; }
.wx .row.self .bub { background: #95ec69; }
.wx .row.self .bub::before { left: auto; right: -5px; }
.wx .inputbar { display: flex; align-items: center; gap: 9px; padding: 8px 10px; background: #f7f7f7; border-top: 1px solid #dcdcdc; }
.wx .ico { flex: none; width: 28px; height: 28px; border: 1.6px solid #181818; border-radius: 50%; text-align: center; line-height: 24px; font-size: 22px; position: relative; }
.wx .voice::after { content: ""; position: absolute; left: 7px; top: 8px; width: 8px; height: 8px; border: 1.6px solid #181818; border-width: 1.6px 1.6px 0 0; border-radius: 0 8px 0 0; transform: rotate(45deg); }
.wx .emoji::after { content: ""; position: absolute; left: 6px; top: 12px; width: 12px; height: 6px; border: 1.6px solid #181818; border-top: 0; border-radius: 0 0 7px 7px; }
.wx .field { flex: 1; height: 36px; border-radius: 5px; background: #fff; }
.wx .home { background: #f7f7f7; }
.wx .pill { background: #111; }
.dark .wx { background: #111; color: #d6d6d6; }
.dark .wx .status, .dark .wx .head { background: #111; color: #e8e8e8; }
.dark .wx .head { border-bottom-color: #222; }
.dark .wx .time, .dark .wx .nick { color: #777; }
.dark .wx .bub { background: #2c2c2c; color: #d6d6d6; }
.dark .wx .row.self .bub { background: #3eb575; color: #0d0d0d; }
.dark .wx .inputbar, .dark .wx .home { background: #1e1e1e; border-top-color: #2a2a2a; }
.dark .wx .ico, .dark .wx .voice::after, .dark .wx .emoji::after { border-color: #cfcfcf; color: #cfcfcf; }
.dark .wx .field { background: #2c2c2c; }
.dark .wx .pill { background: #e8e8e8; }
.dark .wx .link { color: #7d90a9; }
.wx .link { color: #576b95; text-decoration: none; }

/* notice poster */
.poster { --c: #c8322b; --c2: #e8584a; background: #fbf6ec; color: #222; padding-bottom: 14px; }
.poster.blue { --c: #1f5fbf; --c2: #3f86e0; }
.poster.orange { --c: #d66a12; --c2: #f0a030; }
.poster.green { --c: #23834a; --c2: #3fae6a; }
.poster .band { background: linear-gradient(135deg, var(--c), var(--c2)); color: #fff; text-align: center; padding: 22px 12px 18px; }
.poster .title { font-size: 34px; font-weight: bold; letter-spacing: 6px; }
.poster .sub { margin-top: 6px; font-size: 15px; letter-spacing: 3px; opacity: .92; }
.poster .box { margin: 18px 16px 10px; border: 3px solid var(--c); border-radius: 10px; padding: 4px 16px; background: #fff; box-shadow: 0 0 0 4px #fbf6ec, 0 0 0 5px var(--c); }
.poster .box p { margin: 12px 0; font-size: 21px; line-height: 1.65; text-indent: 2em; overflow-wrap: anywhere; }
.poster .foot { display: flex; align-items: center; justify-content: center; gap: 10px; font-size: 13px; color: #8a7f6d; margin-top: 10px; }
.poster .rule { display: inline-block; width: 40px; height: 1px; background: currentColor; }
.dark .poster { background: #17181b; color: #e4e4e4; }
.dark .poster .band { background: linear-gradient(135deg, color-mix(in srgb, var(--c) 70%, #000), color-mix(in srgb, var(--c2) 60%, #000)); color: #f3f3f3; }
.dark .poster .box { background: #222327; border-color: color-mix(in srgb, var(--c2) 80%, #000); box-shadow: 0 0 0 4px #17181b, 0 0 0 5px color-mix(in srgb, var(--c2) 60%, #000); }
.dark .poster .foot { color: #8d8d93; }
`
