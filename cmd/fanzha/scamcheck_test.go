package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"fanzha/store"
	"fanzha/store/storetest"
)

const scamText = "您好，我是淘宝客服，您购买的商品有质量问题，我们将为您办理三倍赔偿，请下载会议App开启屏幕共享"

func TestScamCheckInChat(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "g1", "幸福社区居民群")
	say(t, base, "g1", "wang", "bind", "绑定 幸福社区")

	tests := []struct {
		name, text string
		want       []string
	}{
		{"command", "这是诈骗吗 " + scamText, []string{"高风险", "屏幕共享", "96110"}},
		{"forwarded then asked", scamText + "\n这是诈骗吗？", []string{"高风险"}},
		{"@bot with text", "@bot 有人让我先交保证金才能放款，贷款已经批了", []string{"贷款先交钱", "96110"}},
		{"clean message", "这是诈骗吗 明天上午小区停水检修", []string{"不代表一定安全", "96110"}},
		{"nothing to check", "这是诈骗吗", []string{"请把收到的可疑内容"}},
		{"lookup short link", "查询 https://t.cn/A6abc", []string{"短链接", "不要点"}},
		{"lookup official", "查询 96110", []string{"反诈预警劝阻专线"}},
	}
	for i, tt := range tests {
		status, replies, _ := say(t, base, "g1", "zhang", "q"+string(rune('a'+i)), tt.text)
		if status != 200 || len(replies) != 1 {
			t.Errorf("%s: %d %q; want one reply", tt.name, status, replies)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(replies[0], w) {
				t.Errorf("%s: reply lacks %q:\n%s", tt.name, w, replies[0])
			}
		}
		if n := len(strings.Split(replies[0], "\n")); n > 10 {
			t.Errorf("%s: %d lines; a phone shows 10", tt.name, n)
		}
	}

	db := openRaw(t, dir)
	var checks int
	db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'scam_check' AND level = 'high'`).Scan(&checks)
	if checks != 3 {
		t.Errorf("high-risk scam_check events = %d; want 3", checks)
	}
	// Privacy: outside the simulated platform's own transcript, the checked
	// text is nowhere in the database.
	if where := findText(t, db, "三倍赔偿"); where != "" {
		t.Errorf("checked message text kept in %s without the group's consent", where)
	}
}

func TestScamWarningOncePerGroup(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "c1", "东风村村民群")
	createGroup(t, base, "k1", "三年级2班家长群")
	say(t, base, "c1", "wang", "b1", "绑定 东风村")
	say(t, base, "k1", "li", "b2", "绑定 实验小学 三年级2班")

	_, replies, _ := say(t, base, "c1", "zhang", "s1", scamText)
	if len(replies) != 1 || !strings.Contains(replies[0], "温馨提醒") {
		t.Fatalf("community group, scam posted: %q; want one warning", replies)
	}
	_, replies, _ = say(t, base, "c1", "liu", "s2", "亲，您开通了百万保障服务，每月自动扣费，请开启屏幕共享关闭扣费")
	if len(replies) != 0 {
		t.Fatalf("second scam of the same kind the same day was warned again: %q", replies)
	}
	_, replies, _ = say(t, base, "c1", "zhang", "s3", "明天上午九点村委会开会，请各户派代表参加")
	if len(replies) != 0 {
		t.Fatalf("ordinary message got %q", replies)
	}
	// Class groups are quiet by default.
	_, replies, _ = say(t, base, "k1", "parent", "s4", scamText)
	if len(replies) != 0 {
		t.Fatalf("class group warned by default: %q", replies)
	}
	// The counsellor can turn it on; a resident cannot.
	_, replies, _ = say(t, base, "k1", "parent", "s5", "开启预警")
	if len(replies) != 1 || !strings.Contains(replies[0], "只有") {
		t.Fatalf("resident changed settings: %q", replies)
	}
	say(t, base, "k1", "li", "s6", "开启预警")
	_, replies, _ = say(t, base, "k1", "parent", "s7", "你的账户涉嫌洗钱，请把钱转入安全账户配合资金核查")
	if len(replies) != 1 || !strings.Contains(replies[0], "温馨提醒") {
		t.Fatalf("class group after 开启预警: %q", replies)
	}
}

func TestSamplesOnlyWithConsent(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "g1", "阳光小区群")
	say(t, base, "g1", "wang", "b", "绑定 阳光社区")
	say(t, base, "g1", "wang", "on", "开启样本收集")
	say(t, base, "g1", "zhang", "q1", "这是诈骗吗 "+scamText)
	say(t, base, "g1", "wang", "off", "关闭样本收集")
	say(t, base, "g1", "zhang", "q2", "这是诈骗吗 恭喜您中奖，奖金18万，先交税才能领奖")

	db := openRaw(t, dir)
	var n int
	db.QueryRow(`SELECT count(*) FROM kb_samples WHERE text LIKE '%三倍赔偿%'`).Scan(&n)
	if n != 1 {
		t.Errorf("samples with consent = %d; want 1", n)
	}
	if where := findText(t, db, "先交税才能领奖"); where != "" {
		t.Errorf("text checked after consent was withdrawn is kept in %s", where)
	}
}

// openRaw opens the bot's database read-only, to look at what it stores.
func openRaw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if storetest.Postgres() != "" {
		db, err = store.OpenSQL(storetest.URL(t, filepath.Join(dir, "fanzha.db")))
	} else {
		db, err = sql.Open("sqlite3", "file:"+filepath.Join(dir, "fanzha.db")+"?mode=ro")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// findText returns the table holding s in any text column, leaving out the
// playground transcript, which plays the chat platform's own history.
func findText(t *testing.T, db *sql.DB, s string) string {
	t.Helper()
	tables := map[string][]string{
		"inbox": {"payload"}, "events": {"detail"}, "kb_samples": {"text"}, "groups": {"name"},
		"members": {"display_name"}, "posts": {"body"},
	}
	for table, cols := range tables {
		for _, col := range cols {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+col+` LIKE ?`, "%"+s+"%").Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", table, col, err)
			}
			if n > 0 {
				return table + "." + col
			}
		}
	}
	return ""
}

// TestTourEducationSilentPhishingWarned is step 6 of the README tour: in a
// community group a teacher's anti-fraud reminder, which quotes the scam,
// passes silently; a phishing SMS with a link is warned about, with the
// parts that gave it away; asked about, the reminder is called a reminder.
func TestTourEducationSilentPhishingWarned(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "c1", "幸福社区居民群")
	say(t, base, "c1", "wang", "b1", "绑定 幸福社区")

	// The group's own grid worker forwarding a scam as an example is not
	// warned about, and does not spend the group's warning.
	if _, replies, _ := say(t, base, "c1", "wang", "w1", "大家看看这条，千万别信：您的话费积分将于今日清零，请登录 http://10086-jf.top/dh 立即领取现金红包"); len(replies) != 0 {
		t.Fatalf("the counsellor's own post was warned about: %q", replies)
	}
	reminder := "【反诈提醒】各位家长请注意：最近有人冒充班主任在群里发“请家长今天扫码缴纳资料费180元”，这是诈骗！学校收费只走智慧校园平台，有疑问请拨打96110。"
	if _, replies, _ := say(t, base, "c1", "teacher", "e1", reminder); len(replies) != 0 {
		t.Fatalf("a teacher's reminder was warned about: %q", replies)
	}
	phishing := "【中国移动】尊敬的客户，您的话费积分将于今日清零，可兑换现金红包，请登录 http://10086-jf.top/dh 立即领取"
	_, replies, _ := say(t, base, "c1", "zhang", "p1", phishing)
	if len(replies) != 1 || !strings.Contains(replies[0], "温馨提醒") || !strings.Contains(replies[0], "陌生链接") {
		t.Fatalf("phishing SMS with a link: %q; want one warning naming the link", replies)
	}
	_, replies, _ = say(t, base, "c1", "zhang", "q1", "这是诈骗吗 "+reminder)
	if len(replies) != 1 || !strings.Contains(replies[0], "反诈提醒") {
		t.Fatalf("asked about the reminder: %q; want it called a reminder", replies)
	}
}

// TestForwardThenAsk: people forward a message first and ask about it
// next. A bare "这是诈骗吗？" checks the asker's previous message; another
// resident's bare question does not reach it.
func TestForwardThenAsk(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "k1", "三年级2班家长群")
	say(t, base, "k1", "teacher", "b1", "绑定 实验小学 三年级2班")

	say(t, base, "k1", "mum", "f1", "各位家长好，我是新班主任，请今天扫码缴纳资料费180元，加我微信 lsx-2024 发收款码")
	_, replies, _ := say(t, base, "k1", "dad", "q0", "这是诈骗吗？")
	if len(replies) != 1 || !strings.Contains(replies[0], "请把收到的可疑内容一起发给我") {
		t.Fatalf("another resident's bare question: %q; want the request for the text", replies)
	}
	_, replies, _ = say(t, base, "k1", "mum", "q1", "这是诈骗吗？")
	if len(replies) != 1 || !strings.Contains(replies[0], "高风险") {
		t.Fatalf("forward, then ask: %q; want the forwarded message checked", replies)
	}
	// The held message is used once and then forgotten.
	_, replies, _ = say(t, base, "k1", "mum", "q2", "这是诈骗吗？")
	if len(replies) != 1 || !strings.Contains(replies[0], "请把收到的可疑内容一起发给我") {
		t.Fatalf("asked twice: %q; the forwarded text must not be kept", replies)
	}
}

// TestQuestionForPeopleIsNotACheck: an @-question neighbours would ask each
// other gets a kind pointer to what the bot does, and is not counted as a
// scam check; a forwarded scam after @ still is.
func TestQuestionForPeopleIsNotACheck(t *testing.T) {
	dir := t.TempDir()
	_, base, _ := runMain(t, dir)
	createGroup(t, base, "g1", "幸福社区居民群")
	say(t, base, "g1", "wang", "b", "绑定 幸福社区")
	_, replies, _ := say(t, base, "g1", "zhang", "q1", "@bot 明天社区打疫苗几点开始？")
	if len(replies) != 1 || !strings.Contains(replies[0], "这是诈骗吗 + 消息内容") || strings.Contains(replies[0], "96110") {
		t.Fatalf("a question for people: %q; want a pointer to what the bot does, not a verdict", replies)
	}
	_, replies, _ = say(t, base, "g1", "zhang", "q2", "@bot "+scamText)
	if len(replies) != 1 || !strings.Contains(replies[0], "高风险") {
		t.Fatalf("@ with a scam: %q", replies)
	}
	var checks int
	openRaw(t, dir).QueryRow(`SELECT count(*) FROM events WHERE kind = 'scam_check'`).Scan(&checks)
	if checks != 1 {
		t.Errorf("scam_check events = %d; want 1 (the question is not a check)", checks)
	}
}
