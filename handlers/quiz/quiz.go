// Package quiz runs prize quiz rounds (有奖问答) in groups: questions posted
// one by one, answers collected for a window, then the answer, who got it
// right, and at the end the round's ranking and a monthly leaderboard.
//
// Every question, result and ranking goes through the outbox, and every
// change of a round is one transaction with the posts it causes, so a
// restart in the middle of a round resumes it (or closes it cleanly when the
// bot was down too long) without losing or doubling anything.
package quiz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/schedule"
)

// Post kinds of this feature.
const (
	KindQuestion = bot.PostQuizQuestion
	KindResult   = bot.PostQuizResult
	KindRanking  = bot.PostQuizRanking
)

// Quiz is the feature: its commands, the answer matcher and Tick.
type Quiz struct {
	Store   bot.QuizStore
	Groups  bot.GroupStore
	Content func() *knowledge.Content
	Now     func() time.Time
	Loc     *time.Location
	// Window is how long each question takes answers.
	Window time.Duration
	// Questions is the default number of questions in a round.
	Questions int
	// Stale: a round whose open question closed longer ago than this (the
	// bot was down) is ended rather than resumed.
	Stale time.Duration
	// Quiet hours: no scheduled round may be set in them.
	Quiet schedule.Quiet

	mu     sync.Mutex
	hinted map[[2]int64]bool // (round, question) already told that it is a choice question
}

const (
	avoidRounds   = 10 // questions of the group's last rounds are not repeated
	maxNamesShown = 10
	maxHints      = 1000 // remembered hints; forgotten all at once beyond
)

// Register adds 开始答题, 结束答题, 排行榜 and the answer matcher. Register it
// before features that match free text, so "A" is an answer.
func Register(r *bot.Router, q *Quiz) {
	r.Handle(bot.CounsellorOnly(q.start), "开始答题", "开始问答")
	r.Handle(bot.CounsellorOnly(q.stop), "结束答题")
	r.Handle(q.leaderboard, "排行榜", "本群排行榜")
	r.Handle(bot.CounsellorOnly(q.setSchedule), "设置答题")
	r.Handle(q.howTo, "怎么答题", "如何答题", "怎么答")
	r.Handle(bot.CounsellorOnly(q.clearSchedule), "关闭定时答题")
	r.HandleMatch("quiz-answer", func(c *bot.Context) bool {
		if c.Group == nil {
			return false
		}
		if _, ok := ParseAnswer(c.Args(), false); !ok {
			if _, ok := ParseAnswer(c.Args(), true); !ok {
				return false
			}
		}
		round, err := q.Store.ActiveRound(c.Context(), c.Group.ID)
		return err == nil && round != nil
	}, q.answer)
	r.Describe(bot.Usage{Say: "开始答题", Does: "在本群开一轮有奖问答（默认 5 题）", Counsellor: true})
	r.Describe(bot.Usage{Say: "设置答题 周三 20:00", Does: "每周按时自动开一轮答题（“关闭定时答题”取消）", Counsellor: true})
	r.Describe(bot.Usage{Say: "排行榜", Does: "看看本月本群答题排名"})
	r.Describe(bot.Usage{Say: "A / B / C / D（判断题回 对 / 错）", Does: "答题时直接回复选项，每题只算第一次回答"})
}

// howToText explains answering to residents.
const howToText = "答题时，每道题发出后直接在群里回复选项：选择题回 A、B、C 或 D，判断题回“对”或“错”（也可以回 A / B）。" +
	"每题只算第一次回答，时间到了会公布答案和答对的人，整轮结束后公布排名。发送“排行榜”看本月排名。"

func (q *Quiz) howTo(c *bot.Context) error {
	return c.Reply(howToText)
}

// ParseAnswer reads an answer: "A", "a", "选B", "Ｃ", "答案是D", or for
// true/false questions "对", "错", "√", "×". A and B also answer
// true/false questions (对 is A).
func ParseAnswer(text string, tf bool) (int, bool) {
	t := strings.TrimSpace(text)
	if utf8.RuneCountInString(t) > 8 {
		return 0, false // chat, not an answer
	}
	t = strings.Map(func(r rune) rune {
		if r >= 'Ａ' && r <= 'Ｚ' {
			return r - 'Ａ' + 'A'
		}
		if r >= 'ａ' && r <= 'ｚ' {
			return r - 'ａ' + 'a'
		}
		return r
	}, t)
	for _, p := range []string{"我选", "选择", "选", "答案是", "答案", "答"} {
		t = strings.TrimPrefix(t, p)
	}
	t = strings.Trim(t, " ：:。.!！、，,")
	if tf {
		switch t {
		case "对", "正确", "√", "✓", "✔", "是", "A", "a":
			return 0, true
		case "错", "错误", "×", "✗", "✘", "不对", "否", "B", "b":
			return 1, true
		}
		return 0, false
	}
	if len(t) == 1 {
		c := t[0] | 0x20 // lower case
		if c >= 'a' && c <= 'd' {
			return int(c - 'a'), true
		}
	}
	return 0, false
}

func (q *Quiz) start(c *bot.Context) error {
	n := q.Questions
	if a := strings.TrimSuffix(strings.TrimSpace(c.Args()), "题"); a != "" {
		v, err := strconv.Atoi(a)
		if err != nil || v < 1 || v > bot.MaxQuizQuestions {
			return bot.Errorf(bot.EINVALID, "题数请写 1 到 %d 之间的数字，例如：开始答题 5", bot.MaxQuizQuestions)
		}
		n = v
	}
	if _, err := q.startRound(c.Context(), c.Group, c.Member.ID, n, "", c.Message().Channel); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("有奖问答开始啦！共 %d 题，每题 %d 秒，每人以第一次回答为准。", n, int(q.Window/time.Second)))
}

// startRound creates a round of n questions in g, with its first question
// in the outbox. slot is the schedule slot, "" when a counsellor started it.
func (q *Quiz) startRound(ctx context.Context, g *bot.Group, by int64, n int, slot, channel string) (*bot.QuizRound, error) {
	ids, err := q.choose(ctx, g, n)
	if err != nil {
		return nil, err
	}
	now := q.Now()
	round := &bot.QuizRound{GroupID: g.ID, StartedBy: by, Questions: ids, Window: q.Window, OpenedAt: now, StartedAt: now, Slot: slot}
	first := &bot.OutboxPost{GroupID: g.ID, Kind: KindQuestion, Text: q.questionText(round, 0, channel), Choices: q.choices(round, 0), DueAt: now}
	if err := q.Store.StartRound(ctx, round, first); err != nil {
		return nil, err
	}
	return round, nil
}

// scheduleGrace: a scheduled round starts if the bot notices its time
// within this long. A quiz hours late is not a quiz: missed slots are
// skipped, not caught up.
const scheduleGrace = 10 * time.Minute

// TickSchedule starts the scheduled rounds whose time has come.
func (q *Quiz) TickSchedule(ctx context.Context, now time.Time, groups bot.GroupStore) error {
	bound := true
	gs, err := groups.FindGroups(ctx, bot.GroupFilter{Bound: &bound, Active: true})
	if err != nil {
		return err
	}
	ws := bot.WeekStart(now, q.Loc)
	for _, g := range gs {
		if g.QuizSchedule == "" {
			continue
		}
		s, err := schedule.ParseStored(g.QuizSchedule)
		if err != nil {
			continue
		}
		for k, slot := range s.Slots(ws) {
			if slot.After(now) || now.Sub(slot) > scheduleGrace {
				continue
			}
			key := fmt.Sprintf("quiz:%s#%d", ws.Format("2006-01-02"), k)
			_, err := q.startRound(ctx, g, 0, q.Questions, key, g.Channel)
			switch bot.ErrorCode(err) {
			case "", bot.EDUPLICATE, bot.ECONFLICT: // started, started before, or a round is running
			default:
				return err
			}
		}
	}
	return nil
}

func (q *Quiz) setSchedule(c *bot.Context) error {
	s, err := schedule.ParseDays(c.Args(), q.Quiet, 1)
	if err != nil {
		return err
	}
	v := s.String()
	if _, err := q.Groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{QuizSchedule: &v}); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("好的，本群%s自动开始一轮有奖问答（%d 题）。发送“关闭定时答题”可取消。", s.Human(), q.Questions))
}

func (q *Quiz) clearSchedule(c *bot.Context) error {
	empty := ""
	if _, err := q.Groups.UpdateGroup(c.Context(), c.Group.ID, bot.GroupUpdate{QuizSchedule: &empty}); err != nil {
		return err
	}
	return c.Reply("已关闭定时答题。老师或网格员仍可随时发送“开始答题”。")
}

// choose picks n questions for the group's audience, avoiding those of its
// recent rounds while there are enough others.
func (q *Quiz) choose(ctx context.Context, g *bot.Group, n int) ([]string, error) {
	recent, err := q.Store.RecentQuestions(ctx, g.ID, avoidRounds)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, id := range recent {
		used[id] = true
	}
	aud := bot.AudiencesFor(g.Kind)
	var fresh, old []string
	for _, qu := range q.Content().Questions {
		fits := false
		for _, a := range qu.Audiences {
			fits = fits || aud[a]
		}
		if !fits {
			continue
		}
		if used[qu.ID] {
			old = append(old, qu.ID)
		} else {
			fresh = append(fresh, qu.ID)
		}
	}
	rand.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	rand.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
	all := append(fresh, old...)
	if len(all) < n {
		return nil, bot.Errorf(bot.ECONFLICT, "题库里适合本群的题目不够 %d 道。", n)
	}
	return all[:n], nil
}

var letters = []string{"A", "B", "C", "D"}

// choices are the answers question i of r takes, as typed: the letters of
// its options, or 对 and 错.
func (q *Quiz) choices(r *bot.QuizRound, i int) []string {
	qu := q.Content().Question(r.Questions[i])
	switch {
	case qu == nil:
		return nil
	case qu.TF:
		return []string{"对", "错"}
	}
	return letters[:len(qu.Options)]
}

// questionText renders question i of r for a phone screen.
func (q *Quiz) questionText(r *bot.QuizRound, i int, channel string) string {
	qu := q.Content().Question(r.Questions[i])
	if qu == nil {
		return fmt.Sprintf("【有奖问答 第%d/%d题】本题已下线，请等下一题。", i+1, len(r.Questions))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【有奖问答 第%d/%d题】", i+1, len(r.Questions))
	if qu.TF {
		b.WriteString("判断对错：")
	}
	b.WriteString(qu.Q)
	how := "回复字母作答"
	if qu.TF {
		how = "回复“对”或“错”"
	} else {
		for j, o := range qu.Options {
			fmt.Fprintf(&b, "\n%s. %s", letters[j], o)
		}
	}
	if channel != "playground" {
		how = "请 @我 并" + how
	}
	fmt.Fprintf(&b, "\n%s，%d 秒内有效。", how, int(r.Window/time.Second))
	return b.String()
}

func (q *Quiz) answer(c *bot.Context) error {
	round, err := q.Store.ActiveRound(c.Context(), c.Group.ID)
	if err != nil || round == nil {
		return err
	}
	qu := q.Content().Question(round.Questions[round.Current])
	if qu == nil || c.Member == nil {
		return nil
	}
	if at := c.Message().Time; at.After(round.Closes()) || at.Before(round.OpenedAt) {
		// Too late for this question (its result is on the way), or sent
		// before it was posted: meant for the one before.
		return nil
	}
	choice, ok := ParseAnswer(c.Args(), qu.TF)
	if !ok && !qu.TF && isTrueFalse(c.Args()) && q.hintOnce(round.ID, round.Current) {
		return c.Reply(fmt.Sprintf("第%d题是选择题，请回复选项字母 A、B、C 或 D。", round.Current+1))
	}
	if !ok || choice >= len(qu.Choices()) {
		return nil // not an answer to this question: just chat
	}
	a := &bot.QuizAnswer{RoundID: round.ID, Index: round.Current, MemberID: c.Member.ID, Choice: choice,
		Correct: choice == qu.AnswerIndex(), At: c.Message().Time}
	added, err := q.Store.RecordAnswer(c.Context(), a)
	if err != nil || !added {
		return err // a second answer does not count
	}
	detail := "wrong"
	if a.Correct {
		detail = "correct"
	}
	c.Tally(bot.EventQuizAnswer, detail)
	return nil
}

// Tick closes the questions whose window is over: posts the answer and who
// got it right, then the next question or the ranking. Rounds left behind
// by a long outage are ended with the scores they have.
func (q *Quiz) Tick(ctx context.Context, now time.Time) error {
	rounds, err := q.Store.ActiveRounds(ctx)
	if err != nil {
		return err
	}
	for _, r := range rounds {
		if now.Before(r.Closes()) {
			continue
		}
		if now.Sub(r.Closes()) > q.Stale {
			if err := q.end(ctx, r, now, bot.RoundAborted, "本轮答题因系统中断已结束，已作答的成绩有效。"); err != nil {
				return err
			}
			continue
		}
		if err := q.close(ctx, r, now, q.channelOf(ctx, r.GroupID)); err != nil {
			return err
		}
	}
	return nil
}

func (q *Quiz) close(ctx context.Context, r *bot.QuizRound, now time.Time, channel string) error {
	result, err := q.resultText(ctx, r)
	if err != nil {
		return err
	}
	posts := []*bot.OutboxPost{{GroupID: r.GroupID, Kind: KindResult, Ref: fmt.Sprintf("%d:%d", r.ID, r.Current),
		Key: fmt.Sprintf("quiz:%d:%d:result", r.ID, r.Current), Text: result, DueAt: now}}
	next := r.Current + 1
	if next >= len(r.Questions) {
		ranking, err := q.rankingText(ctx, r, "")
		if err != nil {
			return err
		}
		posts = append(posts, q.rankingPost(r, ranking, now))
		_, err = q.Store.AdvanceRound(ctx, r, r.Current, now, bot.RoundFinished, posts)
		return err
	}
	posts = append(posts, &bot.OutboxPost{GroupID: r.GroupID, Kind: KindQuestion, Ref: fmt.Sprintf("%d:%d", r.ID, next),
		Key: fmt.Sprintf("quiz:%d:%d:question", r.ID, next), Text: q.questionText(r, next, channel), Choices: q.choices(r, next), DueAt: now})
	_, err = q.Store.AdvanceRound(ctx, r, next, now, bot.RoundActive, posts)
	return err
}

func (q *Quiz) rankingPost(r *bot.QuizRound, text string, now time.Time) *bot.OutboxPost {
	return &bot.OutboxPost{GroupID: r.GroupID, Kind: KindRanking, Ref: strconv.FormatInt(r.ID, 10),
		Key: fmt.Sprintf("quiz:%d:ranking", r.ID), Text: text, DueAt: now}
}

// end finishes r early with its ranking.
func (q *Quiz) end(ctx context.Context, r *bot.QuizRound, now time.Time, status bot.RoundStatus, why string) error {
	ranking, err := q.rankingText(ctx, r, why)
	if err != nil {
		return err
	}
	_, err = q.Store.AdvanceRound(ctx, r, r.Current, now, status, []*bot.OutboxPost{q.rankingPost(r, ranking, now)})
	return err
}

func (q *Quiz) resultText(ctx context.Context, r *bot.QuizRound) (string, error) {
	qu := q.Content().Question(r.Questions[r.Current])
	answers, names, err := q.Store.QuestionAnswers(ctx, r.ID, r.Current)
	if err != nil {
		return "", err
	}
	if qu == nil {
		return fmt.Sprintf("第%d题已下线，不计分。", r.Current+1), nil
	}
	var right []string
	for i, a := range answers {
		if a.Correct {
			right = append(right, names[i])
		}
	}
	ans := letters[qu.AnswerIndex()]
	if qu.TF {
		ans = qu.Answer
	} else {
		ans += "（" + qu.Options[qu.AnswerIndex()] + "）"
	}
	lines := []string{fmt.Sprintf("第%d题答案：%s", r.Current+1, ans), "💡 " + qu.Explain}
	switch {
	case len(answers) == 0:
		lines = append(lines, "这题没有人作答。")
	case len(right) == 0:
		lines = append(lines, fmt.Sprintf("%d 人作答，这题没有人答对。", len(answers)))
	case len(right) > maxNamesShown:
		lines = append(lines, fmt.Sprintf("答对的有：%s 等 %d 人（共 %d 人作答）", strings.Join(right[:maxNamesShown], "、"), len(right), len(answers)))
	default:
		lines = append(lines, fmt.Sprintf("答对的有：%s（共 %d 人作答）", strings.Join(right, "、"), len(answers)))
	}
	return strings.Join(lines, "\n"), nil
}

var medals = []string{"🥇", "🥈", "🥉"}

func (q *Quiz) rankingText(ctx context.Context, r *bot.QuizRound, why string) (string, error) {
	scores, err := q.Store.RoundScores(ctx, r.ID)
	if err != nil {
		return "", err
	}
	var lines []string
	if why != "" {
		lines = append(lines, why)
	}
	lines = append(lines, fmt.Sprintf("【本轮答题结束】共 %d 题，%d 人参与。", len(r.Questions), len(scores)))
	lines = append(lines, scoreLines(scores, len(r.Questions))...)
	lines = append(lines, "发送“排行榜”看本月排名。防骗知识记心间，感谢参与！")
	return strings.Join(lines, "\n"), nil
}

// scoreLines ranks those who answered at least one question right; a
// medal for answering nothing right would mock, so they are only counted.
// Scores come best first.
func scoreLines(scores []bot.QuizScore, total int) []string {
	var lines []string
	none := 0
	for i, s := range scores {
		if s.Correct == 0 {
			none++
			continue
		}
		if i >= maxNamesShown {
			continue
		}
		rank := strconv.Itoa(i+1) + "."
		if i < len(medals) {
			rank = medals[i]
		}
		what := fmt.Sprintf("答对 %d 题", s.Correct)
		if total > 0 && s.Correct == total {
			what = "全部答对"
		}
		lines = append(lines, rank+" "+s.Name+" "+what)
	}
	if none > 0 {
		lines = append(lines, fmt.Sprintf("另有 %d 人参与了答题，下次加油！", none))
	}
	return lines
}

func (q *Quiz) stop(c *bot.Context) error {
	r, err := q.Store.ActiveRound(c.Context(), c.Group.ID)
	if err != nil {
		return err
	}
	if r == nil {
		return bot.Errorf(bot.ECONFLICT, "本群现在没有进行中的答题。")
	}
	return q.end(c.Context(), r, q.Now(), bot.RoundAborted, "老师提前结束了本轮答题，已作答的成绩有效。")
}

// monthStart is the first instant of t's month in loc.
func monthStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
}

func (q *Quiz) leaderboard(c *bot.Context) error {
	if c.Group == nil {
		return bot.Errorf(bot.EINVALID, "排行榜要在群里查看。")
	}
	since := monthStart(q.Now(), q.Loc)
	scores, err := q.Store.Leaderboard(c.Context(), c.Group.ID, since, since.AddDate(0, 1, 0))
	if err != nil {
		return err
	}
	if len(scores) == 0 {
		return c.Reply("本月还没有人参加答题。请老师或网格员发送“开始答题”开一轮吧！")
	}
	lines := append([]string{fmt.Sprintf("【%d月答题排行榜】", since.Month())}, scoreLines(scores, 0)...)
	return c.Reply(strings.Join(lines, "\n"))
}

// isTrueFalse reports a reply that answers a true/false question ("对",
// "错", "√") and so not a choice question.
func isTrueFalse(text string) bool {
	_, ok := ParseAnswer(text, true)
	if !ok {
		return false
	}
	_, choice := ParseAnswer(text, false)
	return !choice // "A" and "B" answer both
}

// hintOnce reports whether the choice-question hint is still due for this
// question of this round: once, so that a chat of "对对对" is not answered
// again and again.
func (q *Quiz) hintOnce(round int64, index int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := [2]int64{round, int64(index)}
	if q.hinted[key] {
		return false
	}
	if q.hinted == nil || len(q.hinted) > maxHints {
		q.hinted = map[[2]int64]bool{}
	}
	q.hinted[key] = true
	return true
}

// channelOf is the channel of a group, for how a question is worded; ""
// if the group cannot be read.
func (q *Quiz) channelOf(ctx context.Context, groupID int64) string {
	gs, err := q.Groups.FindGroups(ctx, bot.GroupFilter{ID: groupID})
	if err != nil || len(gs) == 0 {
		return ""
	}
	return gs[0].Channel
}
