package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/knowledge"
)

// answerText is how a resident answers q, rightly or not, written the ways
// people type.
func answerText(q *knowledge.Question, right bool, style int) string {
	i := q.AnswerIndex()
	if !right {
		i = (i + 1) % len(q.Choices())
	}
	if q.TF {
		return []string{"对", "错"}[i]
	}
	letter := string(rune('A' + i))
	switch style % 3 {
	case 1:
		return "选" + strings.ToLower(letter)
	case 2:
		return string(rune('Ａ' + i)) // full-width
	}
	return letter
}

// quizState returns the group's active round and its open question.
func quizState(t *testing.T, m *Main, platformID string) (*bot.QuizRound, *knowledge.Question) {
	t.Helper()
	gs, err := m.DB.Groups().FindGroups(context.Background(), bot.GroupFilter{Channel: "playground", PlatformID: platformID})
	if err != nil || len(gs) != 1 {
		t.Fatalf("group %s: %v", platformID, err)
	}
	r, err := m.DB.Quiz().ActiveRound(context.Background(), gs[0].ID)
	if err != nil || r == nil {
		t.Fatalf("no active round in %s: %v", platformID, err)
	}
	return r, m.Knowledge.Content().Question(r.Questions[r.Current])
}

// botPosts returns the texts of the bot's posts of kind in a group since line after.
func botPosts(t *testing.T, base, group, kind string) []string {
	t.Helper()
	_, out := call(t, "GET", base+"/playground/groups/"+group+"/messages", nil)
	var texts []string
	for _, l := range out["messages"].([]any) {
		l := l.(map[string]any)
		if l["from_bot"] == true && l["kind"] == kind {
			texts = append(texts, l["text"].(string))
		}
	}
	return texts
}

func sayAs(t *testing.T, base, group, sender, name, msgID, text string) []string {
	t.Helper()
	_, out := call(t, "POST", base+"/playground/groups/"+group+"/messages",
		mustJSON(map[string]any{"sender_id": sender, "sender_name": name, "text": text, "msg_id": msgID}))
	var replies []string
	if rs, ok := out["replies"].([]any); ok {
		for _, r := range rs {
			replies = append(replies, r.(map[string]any)["text"].(string))
		}
	}
	return replies
}

func TestQuizRoundThroughThePlayground(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 24, 15, 0, 0, 0, shanghai)}
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	createGroup(t, base, "c2", "东风村村民群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 幸福社区")
	sayAs(t, base, "c2", "zhao", "赵书记", "b2", "绑定 东风村")

	if r := sayAs(t, base, "c1", "zhang", "张阿姨", "x1", "开始答题"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident started a quiz: %q", r)
	}
	if r := sayAs(t, base, "c1", "wang", "王老师", "s1", "开始答题 3"); len(r) != 1 || !strings.Contains(r[0], "共 3 题") {
		t.Fatalf("开始答题: %q", r)
	}
	if r := sayAs(t, base, "c1", "wang", "王老师", "s1b", "开始答题"); len(r) != 1 || !strings.Contains(r[0], "正在答题") {
		t.Fatalf("second round while one runs: %q", r)
	}
	sayAs(t, base, "c2", "zhao", "赵书记", "s2", "开始答题 1") // another group, at the same time
	m.Tick(context.Background(), c.Now())
	if qs := botPosts(t, base, "c1", "quiz_question"); len(qs) != 1 || !strings.Contains(qs[0], "第1/3题") {
		t.Fatalf("first question: %q", qs)
	}

	// Question 1: 张阿姨 right (then changes her mind: the first answer
	// counts), 李大爷 wrong, 小陈 right, 周师傅 too late.
	_, q := quizState(t, m, "c1")
	n := 0
	answer := func(group, id, name string, right bool) {
		n++
		c.Add(time.Second)
		if r := sayAs(t, base, group, id, name, "a"+string(rune('A'+n)), answerText(q, right, n)); len(r) != 0 {
			t.Fatalf("the bot answered an answer: %q", r)
		}
	}
	answer("c1", "zhang", "张阿姨", true)
	answer("c1", "li", "李大爷", false)
	answer("c1", "zhang", "张阿姨", false)
	answer("c1", "chen", "小陈", true)
	_, q2 := quizState(t, m, "c2")
	q = q2
	answer("c2", "liu", "刘大妈", true)
	_, q = quizState(t, m, "c1")
	c.Add(61 * time.Second)
	answer("c1", "zhou", "周师傅", true) // after the window
	m.Tick(context.Background(), c.Now())

	results := botPosts(t, base, "c1", "quiz_result")
	if len(results) != 1 || !strings.Contains(results[0], "答对的有：张阿姨、小陈（共 3 人作答）") || !strings.Contains(results[0], "💡") {
		t.Fatalf("result of question 1: %q", results)
	}
	if qs := botPosts(t, base, "c1", "quiz_question"); len(qs) != 2 || !strings.Contains(qs[1], "第2/3题") {
		t.Fatalf("second question: %q", qs)
	}
	if r := botPosts(t, base, "c2", "quiz_ranking"); len(r) != 1 || !strings.Contains(r[0], "🥇 刘大妈 全部答对") {
		t.Fatalf("the other group's one-question round: %q", r)
	}

	// Question 2: both right. Question 3: 张阿姨 right first, 李大爷 right later.
	_, q = quizState(t, m, "c1")
	answer("c1", "zhang", "张阿姨", true)
	answer("c1", "li", "李大爷", true)
	c.Add(time.Minute)
	m.Tick(context.Background(), c.Now())
	_, q = quizState(t, m, "c1")
	answer("c1", "zhang", "张阿姨", true)
	answer("c1", "li", "李大爷", true)
	c.Add(time.Minute)
	m.Tick(context.Background(), c.Now())

	ranking := botPosts(t, base, "c1", "quiz_ranking")
	if len(ranking) != 1 {
		t.Fatalf("rankings: %q", ranking)
	}
	for _, want := range []string{"共 3 题，3 人参与", "🥇 张阿姨 全部答对", "🥈 李大爷 答对 2 题", "🥉 小陈 答对 1 题"} {
		if !strings.Contains(ranking[0], want) {
			t.Errorf("ranking lacks %q:\n%s", want, ranking[0])
		}
	}
	if strings.Contains(ranking[0], "周师傅") {
		t.Errorf("a late answer was scored:\n%s", ranking[0])
	}
	board := sayAs(t, base, "c1", "chen", "小陈", "lb", "排行榜")
	if len(board) != 1 || !strings.Contains(board[0], "11月答题排行榜") || !strings.Contains(board[0], "🥇 张阿姨") {
		t.Fatalf("排行榜: %q", board)
	}
	db := openRaw(t, dir)
	if n := count(t, db, `SELECT count(*) FROM events WHERE kind = 'quiz_answer'`); n != 8 {
		t.Errorf("quiz_answer events = %d; want 8 (7 in 幸福社区, 1 in 东风村; no late or second answers)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM events WHERE kind = 'quiz_answer' AND detail = 'correct'`); n != 7 {
		t.Errorf("correct answers = %d; want 7", n)
	}
}

func TestQuizSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 24, 15, 0, 0, 0, shanghai)}
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "阳光小区群")
	sayAs(t, base, "c1", "wang", "王老师", "b1", "绑定 阳光社区")
	sayAs(t, base, "c1", "wang", "王老师", "s1", "开始答题 2")
	m.Tick(context.Background(), c.Now())
	_, q := quizState(t, m, "c1")
	c.Add(5 * time.Second)
	sayAs(t, base, "c1", "zhang", "张阿姨", "a1", answerText(q, true, 0))
	m.Close() // crash mid-question

	c.Add(20 * time.Second) // back within the window: the round resumes
	m, base = runClocked(t, dir, c)
	sayAs(t, base, "c1", "li", "李大爷", "a2", answerText(q, true, 1))
	sayAs(t, base, "c1", "zhang", "张阿姨", "a1", answerText(q, false, 0)) // the same message redelivered
	c.Add(time.Minute)
	m.Tick(context.Background(), c.Now())
	if r := botPosts(t, base, "c1", "quiz_result"); len(r) != 1 || !strings.Contains(r[0], "张阿姨、李大爷") {
		t.Fatalf("result after restart: %q", r)
	}
	_, q = quizState(t, m, "c1")
	sayAs(t, base, "c1", "zhang", "张阿姨", "a3", answerText(q, true, 2))
	m.Close()

	c.Add(2 * time.Hour) // down far longer than the question: the round is closed cleanly
	m, base = runClocked(t, dir, c)
	m.Tick(context.Background(), c.Now())
	r := botPosts(t, base, "c1", "quiz_ranking")
	if len(r) != 1 || !strings.Contains(r[0], "系统中断") || !strings.Contains(r[0], "🥇 张阿姨 全部答对") || !strings.Contains(r[0], "🥈 李大爷 答对 1 题") {
		t.Fatalf("ranking after a long outage: %q", r)
	}
	if qs := botPosts(t, base, "c1", "quiz_question"); len(qs) != 2 {
		t.Fatalf("questions posted: %d; want 2 (none doubled by the restarts)", len(qs))
	}
	// A new round can start.
	if r := sayAs(t, base, "c1", "wang", "王老师", "s2", "开始答题"); len(r) != 1 || !strings.Contains(r[0], "开始啦") {
		t.Fatalf("new round after the aborted one: %q", r)
	}
}

func TestScheduledQuizStartsOncePerSlot(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 24, 14, 0, 0, 0, shanghai)} // Tuesday
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "c1", "幸福社区居民群")
	sayAs(t, base, "c1", "wang", "王老师", "b", "绑定 幸福社区")
	if r := sayAs(t, base, "c1", "zhang", "张阿姨", "s0", "设置答题 周二 15:00"); len(r) != 1 || !strings.Contains(r[0], "只有") {
		t.Fatalf("a resident set the quiz schedule: %q", r)
	}
	if r := sayAs(t, base, "c1", "wang", "王老师", "s1", "设置答题 周二 23:30"); len(r) != 1 || !strings.Contains(r[0], "免打扰") {
		t.Fatalf("quiz in quiet hours: %q", r)
	}
	if r := sayAs(t, base, "c1", "wang", "王老师", "s2", "设置答题 周二 15:00"); len(r) != 1 || !strings.Contains(r[0], "每周二 15:00") {
		t.Fatalf("设置答题: %q", r)
	}
	ctx := context.Background()
	for _, at := range []time.Time{
		time.Date(2026, 11, 24, 14, 59, 0, 0, shanghai), // not yet
		time.Date(2026, 11, 24, 15, 0, 30, 0, shanghai), // starts
		time.Date(2026, 11, 24, 15, 1, 10, 0, shanghai), // first question closes, second opens
		time.Date(2026, 11, 24, 15, 9, 0, 0, shanghai),  // same slot: no second round
	} {
		c.Set(at)
		if err := m.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
		if at.Minute() == 59 {
			if qs := botPosts(t, base, "c1", "quiz_question"); len(qs) != 0 {
				t.Fatalf("a quiz started before its time: %q", qs)
			}
		}
	}
	db := openRaw(t, dir)
	if n := count(t, db, `SELECT count(*) FROM quiz_rounds`); n != 1 {
		t.Fatalf("%d rounds for one slot; want 1", n)
	}
	// Down over next Tuesday's slot: the missed quiz is skipped, not started hours late.
	late := time.Date(2026, 12, 1, 17, 0, 0, 0, shanghai)
	c.Set(late)
	m.Tick(ctx, late)
	if n := count(t, db, `SELECT count(*) FROM quiz_rounds WHERE slot LIKE 'quiz:2026-11-30%'`); n != 0 {
		t.Fatalf("a missed slot was started 2 hours late")
	}
	sayAs(t, base, "c1", "wang", "王老师", "s3", "关闭定时答题")
	next := time.Date(2026, 12, 8, 15, 0, 30, 0, shanghai)
	c.Set(next)
	m.Tick(ctx, next)
	if n := count(t, db, `SELECT count(*) FROM quiz_rounds WHERE slot IS NOT NULL`); n != 1 {
		t.Fatalf("a round started after 关闭定时答题")
	}
}

// TestQuizTellsHowToAnswer: residents can ask how to answer; "对" on a
// choice question gets one hint instead of silence; nobody gets a medal for
// answering nothing right.
func TestQuizTellsHowToAnswer(t *testing.T) {
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 11, 24, 15, 0, 0, 0, shanghai)}
	m, base := runClocked(t, dir, c)
	createGroup(t, base, "h1", "幸福社区居民群")
	sayAs(t, base, "h1", "wang", "王老师", "b1", "绑定 幸福社区")
	if r := sayAs(t, base, "h1", "zhang", "张阿姨", "h0", "怎么答题？"); len(r) != 1 || !strings.Contains(r[0], "判断题回“对”或“错”") {
		t.Fatalf("怎么答题: %q", r)
	}
	if r := sayAs(t, base, "h1", "zhang", "张阿姨", "h00", "帮助"); len(r) != 1 || !strings.Contains(r[0], "答题时直接回复选项") {
		t.Fatalf("the resident help does not say how to answer: %q", r)
	}
	sayAs(t, base, "h1", "wang", "王老师", "s1", "开始答题 10")
	m.Tick(context.Background(), c.Now())
	hinted := false
	for i := 0; i < 10; i++ {
		_, q := quizState(t, m, "h1")
		id := fmt.Sprint("q", i)
		if !q.TF && !hinted {
			r := sayAs(t, base, "h1", "li", "李大爷", id+"a", "对")
			if len(r) != 1 || !strings.Contains(r[0], "是选择题，请回复选项字母") {
				t.Fatalf("对 on a choice question: %q", r)
			}
			if r := sayAs(t, base, "h1", "zhou", "周师傅", id+"b", "对"); len(r) != 0 {
				t.Fatalf("the hint came twice for one question: %q", r)
			}
			hinted = true
		}
		sayAs(t, base, "h1", "zhang", "张阿姨", id+"c", answerText(q, true, i))
		sayAs(t, base, "h1", "li", "李大爷", id+"d", answerText(q, false, i))
		c.Add(time.Minute)
		m.Tick(context.Background(), c.Now())
	}
	if !hinted {
		t.Fatal("ten questions and not one choice question")
	}
	ranking := botPosts(t, base, "h1", "quiz_ranking")
	if len(ranking) != 1 || !strings.Contains(ranking[0], "🥇 张阿姨 全部答对") || !strings.Contains(ranking[0], "另有 1 人参与了答题") ||
		strings.Contains(ranking[0], "李大爷") || strings.Contains(ranking[0], "🥈") {
		t.Fatalf("ranking with one who got nothing right: %q", ranking)
	}
}
