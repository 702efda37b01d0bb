package knowledge

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"刷 单", "刷单"},
		{"刷*单", "刷单"},
		{"刷😀单", "刷单"},
		{"刷\u200b单", "刷单"},
		{"ＡＢＣ１２３", "abc123"},
		{"加 V：abc", "加vabc"},
		{"安全帳戶", "安全账户"},
		{"詐騙", "诈骗"},
	}
	for _, tt := range tests {
		if got := string(Normalize(nil, tt.in)); got != tt.want {
			t.Errorf("Normalize(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestChineseDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"加QQ幺三八零零幺三八零零零", "加QQ13800138000"},
		{"三年级一班", "三年级一班"}, // a word, not a number
		{"一起去", "一起去"},
	}
	for _, tt := range tests {
		if got, _ := foldBoth(nil, nil, nil, tt.in); string(got) != tt.want {
			t.Errorf("fold(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestEvasion: scammers write around keyword filters. Each disguised text
// must get the same verdict as its plain form.
func TestEvasion(t *testing.T) {
	ix := embeddedIndex(t)
	tests := []struct{ name, text, want string }{
		{"spaces", "刷 单 返 利，日 结 佣 金，先 垫 付", "shuadan"},
		{"symbols", "刷*单返*利，本金+佣金当场返还", "shuadan"},
		{"full-width", "请把钱转到ＡＢＣ安全账户，配合资金核查", "rule_safe_account"},
		{"traditional", "你涉嫌洗錢，請把錢轉到安全帳戶", "rule_safe_account"},
		{"emoji between", "共😊享😊屏😊幕，我远程帮你操作", "rule_screen_share"},
		{"zero-width", "把验\u200b证\u200b码发给我", "rule_verification_code"},
		{"mixed", "ＥＴＣ 已 失 效，請點擊鏈接認證", "etc"},
		{"newlines", "恭喜您\n中奖\n请先交税\n才能领取", "zhongjiang"},
	}
	for _, tt := range tests {
		v := ix.Check(tt.text)
		if v.Level == LevelNone {
			t.Errorf("%s: %q not flagged", tt.name, tt.text)
			continue
		}
		found := false
		for _, ts := range v.Types {
			found = found || ts.ID == tt.want
		}
		if !found {
			t.Errorf("%s: %q matched %v; want %s among them", tt.name, tt.text, v.Types, tt.want)
		}
	}
}

func TestEntities(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{"点这里 https://t.cn/A6xYz 领取", []Entity{{EntityShortURL, "https://t.cn/A6xYz"}}},
		{"登录 bank-verify.top/login 验证", []Entity{{EntityOddDomain, "bank-verify.top/login"}}},
		{"官网 www.gov.cn 查询", []Entity{{EntityOfficialURL, "www.gov.cn"}}},
		{"官网 www.example.com 查询", []Entity{{EntityURL, "www.example.com"}}},
		{"登录 icbc-aq.cn 处理", []Entity{{EntityOddDomain, "icbc-aq.cn"}}},
		{"打开 http://203.0.113.7/etc 认证", []Entity{{EntityOddDomain, "http://203.0.113.7/etc"}}},
		{"打 138 0013 8000 找我", []Entity{{EntityPhone, "13800138000"}}},
		{"客服 4008123456", []Entity{{EntityHotline, "4008123456"}}},
		{"回电 95188 核实", []Entity{{EntityHotline, "95188"}}},
		{"来电 +00 85 5123 4567", []Entity{{EntityIntlPhone, "+00 85 5123 4567"}}},
		{"转到卡号 6222021234567890123", []Entity{{EntityBankCard, "6222021234567890123"}}},
		{"加QQ：12345678", []Entity{{EntityQQ, "12345678"}}},
		{"加微信 abc_12345", []Entity{{EntityWeChat, "abc_12345"}}},
		{"先交 ¥3000 保证金", []Entity{{EntityAmount, "¥3000"}}},
		{"奖金18万元", []Entity{{EntityAmount, "18万元"}}},
		{"验证码是多少", []Entity{{EntityCode, "验证码"}}},
		{"明天下午三点开会", nil},
		{"短信里的 xxx.top 只是举例", []Entity{{EntityExampleURL, "xxx.top"}}},
		{"咨询电话12333", []Entity{{EntityGovHotline, "12333"}}},
		{"【12345】您的工单已办结", nil},
		{"本周收入1863.50元", []Entity{{EntityAmount, "1863.50元"}}},
	}
	for _, tt := range tests {
		got := embeddedIndex(t).Check(tt.text).Entities
		if len(got) != len(tt.want) {
			t.Errorf("%q: %v; want %v", tt.text, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: %v; want %v", tt.text, got, tt.want)
			}
		}
	}
}

func TestVerdictExplainsItself(t *testing.T) {
	ix := embeddedIndex(t)
	v := ix.Check("你好，帮商家刷单，先垫付，本金加佣金马上返还")
	if v.Level != LevelHigh || v.Types[0].ID != "shuadan" {
		t.Fatalf("verdict %v %v", v.Level, v.Types)
	}
	for _, p := range []string{"刷单", "垫付", "本金加佣金"} {
		if !strings.Contains(strings.Join(v.Phrases, " "), p) {
			t.Errorf("phrases %v do not show %q", v.Phrases, p)
		}
	}
	if len(v.Do) == 0 || len(v.Dont) == 0 {
		t.Error("no advice")
	}
	none := ix.Check("今天中午吃什么")
	if none.Level != LevelNone || len(none.Do) == 0 || len(none.Dont) == 0 {
		t.Fatalf("a clean message must still say what to check: %+v", none)
	}
}

func TestKnowledgeCoverage(t *testing.T) {
	ix := embeddedIndex(t)
	var types, rules int
	for _, e := range ix.Entries {
		switch e.Kind {
		case "type":
			types++
		case "rule":
			rules++
		}
	}
	if types < 30 || rules < 5 {
		t.Fatalf("%d types and %d rules; want >= 30 and >= 5", types, rules)
	}
}

const goodEntry = `- id: test_scam
  name: 测试
  summary: 测试用
  audiences: [everyone]
  phrases: [刷单=5, 垫付=3, 返利]
  advice: {do: [报警], dont: [别转账]}
`

func TestBrokenFilesNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"yaml syntax", goodEntry + "- id: second\n  name: 二: 三\n", "b.yaml:8"},
		{"bad weight", goodEntry + "- id: second\n  name: 二\n  summary: x\n  audiences: [everyone]\n  phrases: [a=99, b, c]\n  advice: {do: [x], dont: [y]}\n", "b.yaml:7"},
		{"unknown field", goodEntry + "- id: second\n  naem: 二\n", "b.yaml:7"},
		{"unknown nested field", strings.Replace(goodEntry, "dont:", "dnot:", 1), "b.yaml:1: field dnot not found"},
		{"wrong type", strings.Replace(goodEntry, "[everyone]", "{a: b}", 1), "cannot unmarshal !!map into []string"},
		{"duplicate id", goodEntry + goodEntry, "b.yaml:7"},
		{"bad audience", strings.Replace(goodEntry, "[everyone]", "[aliens]", 1), "b.yaml:1"},
		{"too few phrases", strings.Replace(goodEntry, "[刷单=5, 垫付=3, 返利]", "[刷单]", 1), "b.yaml:1"},
		{"punctuation phrase", strings.Replace(goodEntry, "返利]", "！！]", 1), "b.yaml:1"},
		{"phrase twice", strings.Replace(goodEntry, "返利]", "返利, 刷 单]", 1), "b.yaml:1"},
		{"not a list", "id: x\n", "b.yaml:1"},
	}
	for _, tt := range tests {
		_, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(strings.Replace(goodEntry, "test_scam", "other", 1))}, "b.yaml": {Data: []byte(tt.file)}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want it to name %s", tt.name, err, tt.want)
		}
	}
}

func TestReloadKeepsPreviousOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.yaml")
	if err := os.WriteFile(path, []byte(goodEntry), 0o600); err != nil {
		t.Fatal(err)
	}
	for sub, data := range map[string]string{
		"tips": "- {id: t0, audiences: [everyone], text: 好}\n",
		"quiz": "- {id: q0, type: test_scam, audiences: [everyone], tf: true, q: 问, answer: 对, explain: 因为}\n",
	} {
		os.Mkdir(filepath.Join(dir, sub), 0o700)
		if err := os.WriteFile(filepath.Join(dir, sub, "a.yaml"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Check("刷单先垫付"); v.Level != LevelHigh {
		t.Fatalf("before reload: %v", v.Level)
	}
	// A broken edit is refused and the old knowledge keeps working.
	os.WriteFile(path, []byte(goodEntry+"- id: oops\n  name: 二: 三\n"), 0o600)
	if err := b.Reload(); err == nil || !strings.Contains(err.Error(), "k.yaml:8") {
		t.Fatalf("broken reload: %v", err)
	}
	if v := b.Check("刷单先垫付"); v.Level != LevelHigh {
		t.Fatalf("after a refused reload the old knowledge is gone: %v", v.Level)
	}
	if changed, err := b.ReloadIfChanged(); changed || err != nil {
		t.Fatalf("the refused file was reloaded again: %v %v", changed, err)
	}
	// A good edit takes effect without restart, noticed by the watcher.
	os.WriteFile(path, []byte(strings.Replace(goodEntry, "刷单=5", "跑分分=5", 1)), 0o600)
	if changed, err := b.ReloadIfChanged(); !changed || err != nil {
		t.Fatalf("edit not picked up: %v %v", changed, err)
	}
	if v := b.Check("跑分分先垫付"); v.Level != LevelHigh {
		t.Fatalf("new phrase not active after reload: %v", v.Level)
	}
}

// benchMessages are the scam and ordinary messages of the benchmarks,
// padded to 100 characters (the size of a forwarded message) if pad.
func benchMessages(b *testing.B, pad bool) []string {
	var msgs []string
	for _, l := range readLines(b, "testdata/scam.tsv") {
		_, text, _ := strings.Cut(l, "\t")
		msgs = append(msgs, text)
	}
	msgs = append(msgs, readLines(b, "testdata/ordinary.txt")...)
	if !pad {
		return msgs
	}
	padded := make([]string, len(msgs))
	for i, m := range msgs {
		for len([]rune(m)) < 100 {
			m += "，" + msgs[(i+7)%len(msgs)]
		}
		padded[i] = string([]rune(m)[:100])
	}
	return padded
}

// BenchmarkCheck judges realistic ~100-character messages, scam and
// ordinary mixed, and reports messages per second.
func BenchmarkCheck(b *testing.B) { benchCheck(b, true) }

// BenchmarkCheckShort judges the same messages as they are, 22 characters
// on average: what `fanzha check --json` reads in its benchmark.
func BenchmarkCheckShort(b *testing.B) { benchCheck(b, false) }

func benchCheck(b *testing.B, pad bool) {
	ix := embeddedIndex(b)
	msgs := benchMessages(b, pad)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Check(msgs[i%len(msgs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCheckStages times the passes of a check over the whole message
// on their own, for the 100-character messages: folding, the automaton (no
// work on what it finds), entities and text cues.
func BenchmarkCheckStages(b *testing.B) {
	ix := embeddedIndex(b)
	msgs := benchMessages(b, true)
	folded := make([][]byte, len(msgs))
	norm := make([][]byte, len(msgs))
	for i, t := range msgs {
		folded[i], norm[i] = foldBoth(nil, nil, nil, t)
	}
	b.Run("fold", func(b *testing.B) {
		var m marks
		var f, n []byte
		for i := 0; i < b.N; i++ {
			m.breaks, m.quotes, m.stops = m.breaks[:0], m.quotes[:0], m.stops[:0]
			f, n = foldBoth(f[:0], n[:0], &m, msgs[i%len(msgs)])
		}
	})
	b.Run("match", func(b *testing.B) {
		found := 0
		for i := 0; i < b.N; i++ {
			ix.ac.find(norm[i%len(msgs)], func(int32, int) { found++ })
		}
	})
	b.Run("entities", func(b *testing.B) {
		out := make([]Entity, 0, 8)
		for i := 0; i < b.N; i++ {
			extractEntities(folded[i%len(msgs)], 0, out)
		}
	})
	b.Run("cues", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			textCues(msgs[i%len(msgs)])
		}
	})
}

func TestVerdictTextFitsAPhone(t *testing.T) {
	ix := embeddedIndex(t)
	for _, text := range []string{
		"恭喜您中奖！请先交税才能领奖，点击 https://t.cn/x 或加QQ 12345678，打 13800138000，卡号 6222021234567890123",
		"今天中午吃什么",
		"你好，帮商家刷单，先垫付，本金加佣金马上返还",
	} {
		out := ix.Check(text).Text()
		lines := strings.Split(out, "\n")
		if len(lines) > 10 {
			t.Errorf("%d lines for %q:\n%s", len(lines), text, out)
		}
		if !strings.Contains(out, "96110") {
			t.Errorf("no hotline for %q:\n%s", text, out)
		}
	}
	out := ix.Check("今天中午吃什么").Text()
	if !strings.Contains(out, "不代表一定安全") {
		t.Errorf("a clean verdict claims certainty:\n%s", out)
	}
}

func TestContent(t *testing.T) {
	b, err := Open("", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := b.Content()
	if len(c.Tips) < 80 || len(c.Questions) < 120 {
		t.Fatalf("%d tips and %d questions; want >= 80 and >= 120", len(c.Tips), len(c.Questions))
	}
	seasonal, tf := 0, 0
	for _, tip := range c.Tips {
		if tip.Season != "" {
			seasonal++
		}
	}
	for _, q := range c.Questions {
		if q.TF {
			tf++
		}
		if i := q.AnswerIndex(); i < 0 || i >= len(q.Choices()) {
			t.Errorf("%s: answer index %d out of %d choices", q.ID, i, len(q.Choices()))
		}
	}
	if seasonal < 10 || tf < 20 || tf > len(c.Questions)-20 {
		t.Errorf("%d seasonal tips, %d true/false of %d questions; want a real mix", seasonal, tf, len(c.Questions))
	}
}

func TestSeasons(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	tests := []struct {
		season string
		date   time.Time
		want   bool
	}{
		{"shuang11", time.Date(2026, 11, 5, 10, 0, 0, 0, loc), true},
		{"shuang11", time.Date(2026, 12, 5, 10, 0, 0, 0, loc), false},
		{"nianzhong", time.Date(2026, 12, 20, 10, 0, 0, 0, loc), true}, // wraps the year end
		{"nianzhong", time.Date(2027, 4, 1, 10, 0, 0, 0, loc), true},
		{"nianzhong", time.Date(2027, 8, 1, 10, 0, 0, 0, loc), false},
		{"", time.Date(2027, 8, 1, 10, 0, 0, 0, loc), true},
	}
	for _, tt := range tests {
		tip := Tip{Season: tt.season}
		if got := tip.InSeason(tt.date); got != tt.want {
			t.Errorf("%s on %s: %v", tt.season, tt.date.Format("01-02"), got)
		}
	}
}

func TestBrokenContentIsRefused(t *testing.T) {
	base := fstest.MapFS{"k.yaml": {Data: []byte(goodEntry)}}
	tests := []struct{ name, path, data, want string }{
		{"unknown type", "tips/a.yaml", "- {id: t1, types: [nope], audiences: [everyone], text: 提醒}\n", "tips/a.yaml:1"},
		{"long tip", "tips/a.yaml", "- {id: t1, audiences: [everyone], text: " + strings.Repeat("长", 200) + "}\n", "tips/a.yaml:1"},
		{"bad answer", "quiz/a.yaml", "- {id: q1, type: test_scam, audiences: [everyone], q: 问, options: [a, b], answer: C, explain: 因为}\n", "quiz/a.yaml:1"},
		{"tf with options", "quiz/a.yaml", "- {id: q1, type: test_scam, audiences: [everyone], tf: true, q: 问, options: [a], answer: 对, explain: 因为}\n", "quiz/a.yaml:1"},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{"k.yaml": base["k.yaml"],
			"tips/ok.yaml": {Data: []byte("- {id: t0, audiences: [everyone], text: 好}\n")},
			"quiz/ok.yaml": {Data: []byte("- {id: q0, type: test_scam, audiences: [everyone], tf: true, q: 问, answer: 对, explain: 因为}\n")},
		}
		fsys[tt.path] = &fstest.MapFile{Data: []byte(tt.data)}
		ix, err := Load(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loadContent(fsys, ix); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestNearPairs(t *testing.T) {
	entry := `- id: pay
  name: 付钱
  kind: rule
  summary: 测试
  audiences: [everyone]
  phrases: [甲=1, 乙=1, 丙=1]
  near: ["先交|需交 ~ 费|罚款 @4 =4"]
  advice: {do: [核实], dont: [别付]}
`
	ix, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(entry)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text  string
		want  bool
		shown string // the reason shown: the two phrases the text had
	}{
		{"请先交检查费", true, "先交…费"},   // two characters between
		{"先 交 罚 款", true, "先交…罚款"}, // spacing tricks are normalised away
		{"需交一二三四费", true, "需交…费"},  // exactly four between
		{"先交一二三四五费", false, ""},    // five: too far apart
		{"费用已经先交了", false, ""},     // wrong order
		{"先交检查", false, ""},        // no right side
		{"先交了，另外还有别的费", false, ""}, // too far apart
	}
	for _, tt := range tests {
		v := ix.Check(tt.text)
		if got := v.Level != LevelNone; got != tt.want {
			t.Errorf("%q flagged = %v; want %v (%+v)", tt.text, got, tt.want, v.Types)
		}
		if tt.want && !slices.Contains(v.Phrases, tt.shown) {
			t.Errorf("%q: the near rule is not shown as %q: %v", tt.text, tt.shown, v.Phrases)
		}
	}
	for _, bad := range []string{`"先交 费"`, `"先交 ~ "`, `"先交 ~ 费 @99"`, `"先交 ~ 费 =0"`} {
		_, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(strings.Replace(entry, `"先交|需交 ~ 费|罚款 @4 =4"`, bad, 1))}})
		if err == nil || !strings.Contains(err.Error(), "a.yaml:1") {
			t.Errorf("near %s: %v; want an error naming a.yaml:1", bad, err)
		}
	}
}

// TestBrokenPatternsNameFileAndLine: a pattern that names a part or role
// nobody defined, or is malformed, is refused with its file and line, like
// any other knowledge file.
func TestBrokenPatternsNameFileAndLine(t *testing.T) {
	part := "- {id: p_one, name: 一, kind: part, role: demand, phrases: [转账]}\n- {id: p_two, name: 二, kind: part, role: lure, phrases: [返利]}\n"
	good := "- {id: combo, name: 组合, level: high, parts: [p_one, lure], type: test_scam}\n"
	tests := []struct{ name, file, want string }{
		{"unknown part", good + "- {id: combo2, name: 组合, level: high, parts: [p_one, nothing], type: test_scam}\n", "a.yaml:2"},
		{"bad level", "- {id: combo, name: 组合, level: maybe, parts: [p_one, lure], type: test_scam}\n", "a.yaml:1"},
		{"one part", "- {id: combo, name: 组合, level: high, parts: [p_one], type: test_scam}\n", "a.yaml:1"},
		{"unknown type", "- {id: combo, name: 组合, level: high, parts: [p_one, lure], type: nope}\n", "a.yaml:1"},
		{"unknown field", "- {id: combo, name: 组合, level: high, parts: [p_one, lure], type: test_scam, typo: 1}\n", "a.yaml:1"},
	}
	for _, tt := range tests {
		_, err := Load(fstest.MapFS{
			"k.yaml":          {Data: []byte(goodEntry + part)},
			"patterns/a.yaml": {Data: []byte(tt.file)},
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want it to name %s", tt.name, err, tt.want)
		}
	}
	ix, err := Load(fstest.MapFS{"k.yaml": {Data: []byte(goodEntry + part)}, "patterns/a.yaml": {Data: []byte(good)}})
	if err != nil {
		t.Fatal(err)
	}
	if v := ix.Check("你好，先转账，马上有返利"); v.Pattern == nil || v.Pattern.ID != "combo" || v.Pattern.Because != "一 + 二" {
		t.Errorf("the pattern does not explain the verdict: %+v", v.Pattern)
	}
}

// TestFrameAndStructure: the verdicts a resident and a counsellor notice
// first — scams warned with their parts, education and notices left alone.
func TestFrameAndStructure(t *testing.T) {
	ix := embeddedIndex(t)
	tests := []struct {
		name, text string
		level      Level
		frame      string
		warn       bool
	}{
		{"phishing SMS", "【中国移动】您的积分将于今日清零，请登录 http://10086-jf.top 兑换现金", LevelHigh, FrameScam, true},
		{"fake police", "您好，我是市公安局的民警，您的身份证涉嫌洗钱，请把钱转到安全账户配合调查，不要告诉家人", LevelHigh, FrameScam, true},
		{"new number", "妈，我换号了，这是我新微信，我在外面出了点事，急需两万，先转到我同学卡上 6222021234567890123，别告诉爸", LevelHigh, FrameScam, true},
		{"police quoting the scam", "民警提醒：骗子会说“您涉嫌洗钱，请把钱转到安全账户”，这是诈骗！如有疑问请拨打96110", LevelNone, FrameEducation, false},
		{"negated demand", "学校不会让家长把钱转到个人账户，收费一律通过智慧校园缴费平台。", LevelNone, FrameEducation, false},
		{"money in, not a demand", "【工商银行】您尾号1234账户11月25日转入工资6,720.00元，余额9,005.36元。", LevelNone, FrameOrdinary, false},
		{"a report, not a demand", "刚刚在营业厅交了话费，顺便换了个套餐", LevelNone, FrameOrdinary, false},
		{"transcript typed out", "“喂，我是京东客服，您买的商品有质量问题，给您三倍赔偿，请下载会议软件开启屏幕共享”", LevelHigh, FrameScam, true},
		{"quiz question", "接到自称客服的电话说要退款，让你开启屏幕共享，应该？\nA. 照做\nB. 挂断并核实\nC. 先共享一会儿", LevelNone, FrameEducation, false},
		// Round 7: a slogan, a clause that reports a payment as done, a
		// signed notice that gives nowhere to go, a relative's emergency.
		{"slogan", "屏幕共享别乱开，钱包大门敞开来。", LevelNone, FrameEducation, false},
		{"paid back, reported", "舅舅，上次借你的两万块我凑齐了，今天转到你卡上了，你查一下。", LevelNone, FrameOrdinary, false},
		{"signed notice without a route", "【水务集团】您家本期水费42.60元，请于月底前到营业厅缴纳。", LevelNone, FrameOrdinary, false},
		{"signed scam with a route", "【水务集团】您家水费逾期未缴将停水，请点击 http://sw-pay.top 补缴", LevelHigh, FrameScam, true},
		{"hospital, not an emergency demand", "医院公告：急诊24小时开放，请就诊患者佩戴口罩。", LevelNone, FrameOrdinary, false},
		{"emergency money", "阿姨您好，我是小明的班主任，小明在学校摔伤了正在抢救，手术费急需两万，请马上转到这个账户 6222021234567890123", LevelHigh, FrameScam, true},
		// Round 8: verses of a rhyme, a phrase across a comma, a masked
		// example link, a retelling where the scammer vanished, Cantonese,
		// a government hotline.
		{"rhyme of verses", "陌生链接不要点，验证码是保命钱；客服退款走平台，屏幕共享莫打开。", LevelNone, FrameEducation, false},
		{"no phrase across a comma", "各位家长：下周一全校学生体检，费用由区里统一承担，请提醒孩子空腹到校。", LevelNone, FrameOrdinary, false},
		{"masked example link", "判断题：短信说“您的账户异常，请登录 xxx.top 核验”，这种链接可以点。答案：错。", LevelNone, FrameEducation, false},
		{"the scammer vanished", "我同学在网上买演唱会门票，付了八百块定金，然后对方就人去楼空，电话也打不通了。", LevelNone, FrameEducation, false},
		{"Cantonese retelling", "我阿爸前日接到电话话佢个仔出事要转钱，好彩佢即刻打俾我，呢啲全部系呃人嘅。", LevelNone, FrameEducation, false},
		{"pension paid, official hotline", "【市人社局】您本月养老金已发放至社保卡，请注意查收，咨询电话12333。", LevelNone, FrameOrdinary, false},
		{"a lookalike link in a short line", "积分兑换别着急，先点 jf-10086.top 领。", LevelHigh, FrameScam, false},
		// Round 9: a question set out with its answer, a negated type
		// phrase, secrecy where there is no code to guard, an A-not-A
		// question that negates nothing, a hypothetical caller.
		{"question and answer", "问：公安机关会让你把钱转到安全账户吗？答：不会！", LevelNone, FrameEducation, false},
		{"a code SMS guards its code", "【铁路12306】您正在修改登录密码，验证码为5127，请勿将验证码告诉他人。", LevelNone, FrameOrdinary, false},
		{"secrecy without a code", "张建华，我是区公安分局刑警大队的，你的银行卡被人拿去洗钱了，这事保密，不要告诉任何人", LevelHigh, FrameScam, true},
		{"a question, not a refusal", "叔，我是你侄子小军啊，我在外地出了点事，能不能先借我五千，下周一定还你", LevelSuspicious, FrameScam, false},
		{"a hypothetical caller", "奶奶，如果有人打电话说我住院了要交钱，你先打我手机，别信他的。", LevelNone, FrameEducation, false},
		{"a signed bill with a sum and nowhere to go", "【燃气公司】您家本期燃气费88.40元，请于本月25日前缴纳，可在营业厅或官方App办理。", LevelNone, FrameOrdinary, false},
		{"money sent to the reader's own account", "【安达保险】您的理赔已审核通过，赔款2,350元已支付至您指定的银行账户，请注意查收。", LevelNone, FrameOrdinary, false},
		{"marketing furniture is not an official channel", "【顺心快运】您的包裹在运输途中丢失，我司将按货值三倍赔付，请联系理赔专员 17000556621 办理，回T退订", LevelHigh, FrameScam, true},
		// Round 10: a spouse talking about the children, a true-or-false
		// statement marked with its answer, a regional service line, a
		// parent sending money to a child.
		{"a spouse, not an online lover", "老公，咱闺女学校让交这学期的书本费，我在学校缴费平台上交过了，你不用管了", LevelNone, FrameOrdinary, false},
		{"true or false, marked", "网上兼职要先交押金和会员费，交了就能接单赚钱。（×）", LevelNone, FrameEducation, false},
		{"a regional service line", "【东城农商银行】您尾号3381账户于11月20日收到转账800.00元，余额2,106.45元。如有疑问请致电96288。", LevelNone, FrameOrdinary, false},
		{"a parent sending money", "儿子，下学期的住宿费交了没？要多少我转给你，别自己垫着", LevelNone, FrameOrdinary, false},
		{"an unwanted membership", "您好，我是短视频平台的客服，您开通的会员下月要收年费一千二，不需要的话我教您取消", LevelHigh, FrameScam, true},
	}
	for _, tt := range tests {
		v := ix.Check(tt.text)
		if v.Level != tt.level || v.Frame != tt.frame || v.Warn != tt.warn {
			t.Errorf("%s: level %s, frame %s, warn %v (frame score %.1f, parts %v); want %s, %s, %v",
				tt.name, v.Level, v.Frame, v.Warn, v.FrameScore, v.Parts, tt.level, tt.frame, tt.warn)
		}
		if tt.warn && (v.Pattern == nil || v.Pattern.Because == "") {
			t.Errorf("%s: a warning must say why: %+v", tt.name, v.Pattern)
		}
		if v.Pattern != nil {
			seen := map[string]bool{}
			for _, part := range strings.Split(v.Pattern.Because, " + ") {
				if seen[part] {
					t.Errorf("%s: %q names a part twice", tt.name, v.Pattern.Because)
				}
				seen[part] = true
			}
			for _, l := range strings.Split(v.Text(), "\n") {
				if strings.HasPrefix(l, "也有这些特征") && strings.Contains(l, v.Pattern.Name) {
					t.Errorf("%s: the pattern is repeated as another feature: %q", tt.name, l)
				}
			}
		}
	}
}

// TestNearPairShowsWhatWasFound: a near pair is shown with the words the
// message had, not the first of its alternatives ("这里是…中心", not
// "我是…的").
func TestNearPairShowsWhatWasFound(t *testing.T) {
	v := embeddedIndex(t).Check("你好，这里是市医保中心，你的医保卡被冻结了，请把验证码发给我")
	for _, p := range v.Parts {
		if p.ID == "id_claimed" {
			if p.Phrase != "这里是…中心" {
				t.Errorf("claimed unit shown as %q; want 这里是…中心", p.Phrase)
			}
			return
		}
	}
	t.Errorf("no claimed unit among %+v", v.Parts)
}

// TestEntriesMayMergeAnchors: YAML merge keys and aliases pass the check
// for unknown keys, which looks through them.
func TestEntriesMayMergeAnchors(t *testing.T) {
	file := strings.Replace(goodEntry, "- id: test_scam", "- &base\n  id: test_scam", 1) +
		"- <<: *base\n  id: second\n  name: 第二\n"
	ix, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(file)}})
	if err != nil {
		t.Fatal(err)
	}
	if e := ix.byID("second"); e == nil || e.Summary != "测试用" {
		t.Fatalf("merged entry: %+v", e)
	}
	bad := file + "- <<: *base\n  id: third\n  naem: 三\n"
	if _, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(bad)}}); err == nil || !strings.Contains(err.Error(), "a.yaml:11: field naem not found") {
		t.Fatalf("unknown key beside a merge: %v", err)
	}
}
