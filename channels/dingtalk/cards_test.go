package dingtalk

import (
	"context"
	"encoding/json"
	"testing"

	"fanzha/bot"
)

// TestCardsWithATemplate: with a card template configured, a quiz question
// goes out as a card (a param per button) and a tap on it comes back on the
// stream as the typed answer, silently, once however often it is delivered;
// a post that asks nothing stays text. Without a template, everything is
// text (the other tests).
func TestCardsWithATemplate(t *testing.T) {
	h := startRouted(t, "right-secret", 0, nil, func(c *Config) { c.CardTemplateID = "tpl-quiz.schema" })
	h.connected(t, 1)
	h.f.mu.Lock()
	topics := h.f.topics
	h.f.mu.Unlock()
	subscribed := false
	for _, tp := range topics {
		subscribed = subscribed || tp == "/v1.0/card/instances/callback"
	}
	if !subscribed {
		t.Fatalf("card callbacks not subscribed: %v", topics)
	}
	ctx := context.Background()
	q := bot.Post{Kind: bot.PostQuizQuestion, Text: "【有奖问答 第1/3题】陌生人让你共享屏幕，怎么办？\nA. 照做\nB. 挂断并核实", Choices: []string{"A", "B"}}
	receipt, err := h.ch.PostForReceipt(ctx, "cid-tips", q)
	if err != nil || receipt != "" {
		t.Fatalf("card: %q, %v", receipt, err)
	}
	h.f.mu.Lock()
	cards := h.f.cards
	h.f.mu.Unlock()
	if len(cards) != 1 {
		t.Fatalf("%d cards delivered", len(cards))
	}
	c := cards[0]
	params := c["cardData"].(map[string]any)["cardParamMap"].(map[string]any)
	if c["cardTemplateId"] != "tpl-quiz.schema" || c["openSpaceId"] != "dtv1.card//IM_GROUP.cid-tips" ||
		params["title"] != "【有奖问答 第1/3题】陌生人让你共享屏幕，怎么办？" || params["choice2"] != "B" || params["choice3"] != "" ||
		c["imGroupOpenDeliverModel"].(map[string]any)["robotCode"] != "ding-robot" {
		t.Fatalf("card delivery: %v", c)
	}

	content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{"answer"}, "params": map[string]any{"answer": "B"}}})
	tap := map[string]any{"content": string(content), "corpId": "ding-corp", "outTrackId": c["outTrackId"], "spaceId": "cid-tips",
		"spaceType": "IM_GROUP", "type": "actionCallback", "userId": "staff-9", "userIdType": 1}
	h.f.frame("CALLBACK", "/v1.0/card/instances/callback", "tap-1", tap)
	h.f.frame("CALLBACK", "/v1.0/card/instances/callback", "tap-1b", tap) // delivered again
	id := "card:" + c["outTrackId"].(string) + ":staff-9:B"
	m := h.seenMessage(t, id)
	if m.Text != "B" || !m.Silent || !m.MentionsBot || m.GroupID != "cid-tips" || m.SenderID != "staff-9" {
		t.Fatalf("tap became %+v", m)
	}
	waitFor(t, "both taps acknowledged", func() bool { acks, _, _ := h.f.snapshot(); return acks >= 2 })
	if n := h.ranTimes(id); n != 1 {
		t.Fatalf("tap handled %d times", n)
	}
	if _, replies, _ := h.f.snapshot(); len(replies) != 0 {
		t.Fatalf("a tap was answered: %v", replies)
	}

	if err := h.ch.Post(ctx, "cid-tips", bot.Post{Kind: "tip", Text: "提示"}); err != nil {
		t.Fatal(err)
	}
	if _, _, sends := h.f.snapshot(); len(sends) != 1 {
		t.Fatalf("a tip went out as %d group sends", len(sends))
	}
}
