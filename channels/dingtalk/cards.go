package dingtalk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"

	"fanzha/bot"
)

// Interactive cards: a post that asks for one of a few answers (a quiz
// question, 收到, 我承诺, a survey) goes out as a card with a button per
// answer when dingtalk.card_template_id names a card template; otherwise
// as text, answered by typing.
//
//   - Send: POST /v1.0/card/instances/createAndDeliver {"cardTemplateId",
//     "outTrackId" (ours, unique), "callbackType": "STREAM", "cardData":
//     {"cardParamMap": {strings}}, "openSpaceId":
//     "dtv1.card//IM_GROUP.<openConversationId>", "imGroupOpenSpaceModel":
//     {"supportForward": true}, "imGroupOpenDeliverModel": {"robotCode"}}.
//   - A tap arrives on the stream, topic /v1.0/card/instances/callback
//     (card.CardRequest): outTrackId, userId (the staff ID, as senderStaffId
//     of chat messages) and, in content, cardPrivateData.params.
//
// The template is made once in DingTalk's card builder (README): it shows
// the params "title" and "text", and for each of up to six buttons the
// param "choiceN" (N = 1…6; an empty one hides its button), and its
// button N's callback sends {"answer": "${choiceN}"}.

// maxCardChoices is the most buttons the template has.
const maxCardChoices = 6

// cardGroups remembers which group each delivered card went to, for its
// taps; at most keptCards, oldest forgotten first.
type cardGroups struct {
	mu    sync.Mutex
	group map[string]string
	order []string
}

const keptCards = 10000

func (g *cardGroups) put(track, group string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.group == nil {
		g.group = map[string]string{}
	}
	g.group[track] = group
	g.order = append(g.order, track)
	if len(g.order) > keptCards {
		delete(g.group, g.order[0])
		g.order = g.order[1:]
	}
}

func (g *cardGroups) get(track string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	group, ok := g.group[track]
	return group, ok
}

// postCard delivers p to groupID as an interactive card.
func (c *Channel) postCard(ctx context.Context, groupID string, p bot.Post) error {
	b := make([]byte, 8)
	rand.Read(b)
	track := "fanzha-" + hex.EncodeToString(b)
	title, text, _ := strings.Cut(p.Text, "\n")
	params := map[string]string{"title": title, "text": strings.TrimSpace(text)}
	for i := 1; i <= maxCardChoices; i++ {
		params[fmt.Sprint("choice", i)] = ""
		if i <= len(p.Choices) {
			params[fmt.Sprint("choice", i)] = p.Choices[i-1]
		}
	}
	body := map[string]any{"cardTemplateId": c.cfg.CardTemplateID, "outTrackId": track, "callbackType": "STREAM",
		"cardData": map[string]any{"cardParamMap": params}, "openSpaceId": "dtv1.card//IM_GROUP." + groupID,
		"imGroupOpenSpaceModel": map[string]bool{"supportForward": true}, "imGroupOpenDeliverModel": map[string]string{"robotCode": c.cfg.RobotCode}}
	if err := c.openAPI(ctx, "/v1.0/card/instances/createAndDeliver", body, nil); err != nil {
		return fmt.Errorf("dingtalk: delivering a card: %w", err)
	}
	c.cards.put(track, groupID)
	return nil
}

// cardTap is the SDK's callback for a tap on a card: the answer becomes the
// message the resident could have typed, handled silently by the same
// handlers (first answer counts, windows checked). The card is not changed.
func (c *Channel) cardTap(ctx context.Context, req *card.CardRequest) (*card.CardResponse, error) {
	answer, _ := req.CardActionData.CardPrivateData.Params["answer"].(string)
	group, known := c.cards.get(req.OutTrackId)
	if !known && strings.HasPrefix(req.SpaceId, "cid") {
		group = req.SpaceId // delivered before a restart
	}
	if answer == "" || req.UserId == "" || group == "" {
		raw, _ := json.Marshal(req.CardActionData)
		c.logger.Warn("card tap ignored: no answer, user or group", "track", req.OutTrackId, "data", string(raw))
		return &card.CardResponse{}, nil
	}
	msg := &bot.Message{Channel: Name, GroupID: group, SenderID: req.UserId, Text: answer, MentionsBot: true, Silent: true,
		PlatformMsgID: "card:" + req.OutTrackId + ":" + req.UserId + ":" + answer, Time: c.Now()}
	if _, err := c.accept(ctx, msg); err != nil {
		return nil, err
	}
	return &card.CardResponse{}, nil
}
