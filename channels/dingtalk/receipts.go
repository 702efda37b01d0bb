package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"fanzha/bot"
)

// Read receipts and recall of the robot's own group posts (the OpenAPI, not
// the stream):
//
//   - POST /v1.0/robot/groupMessages/query {"processQueryKey" (what the
//     send answered), "openConversationId", "robotCode", "maxResults" (≤
//     200), "nextToken"} → {"readUserIds", "hasMore", "nextToken",
//     "sendStatus"}: who has read the post, a page at a time;
//   - POST /v1.0/robot/groupMessages/recall {"openConversationId",
//     "robotCode", "processQueryKeys"} → {"successResult", "failedResult"}:
//     takes posts back, within 24 hours of sending.

// maxReadPages bounds the pages of readers fetched for one post (200 each:
// far more than any group has members).
const maxReadPages = 50

// openAPI calls an OpenAPI path with the app's access token, fetching a new
// token once if the one in hand was revoked early.
func (c *Channel) openAPI(ctx context.Context, path string, body, out any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		err = c.call(ctx, c.cfg.OpenAPIHost+path, map[string]string{"x-acs-dingtalk-access-token": token}, body, out)
		var se *sendError
		if errors.As(err, &se) && se.status == http.StatusUnauthorized && attempt == 0 {
			continue
		}
		return err
	}
}

// PostForReceipt is Post, returning the post's processQueryKey: what
// Readers and Recall take. It implements bot.ReceiptPoster. A card has no
// processQueryKey ("").
func (c *Channel) PostForReceipt(ctx context.Context, groupID string, p bot.Post) (string, error) {
	if n := len(p.Choices); c.cfg.CardTemplateID != "" && n > 0 && n <= maxCardChoices {
		return "", c.postCard(ctx, groupID, p)
	}
	return c.post(ctx, groupID, p)
}

// Readers returns the platform IDs of the group members who have read the
// post with receipt, every page of them. It implements bot.ReadTracker.
func (c *Channel) Readers(ctx context.Context, groupID, receipt string) ([]string, error) {
	var readers []string
	next := ""
	for page := 0; page < maxReadPages; page++ {
		body := map[string]any{"processQueryKey": receipt, "openConversationId": groupID, "robotCode": c.cfg.RobotCode, "maxResults": 200}
		if next != "" {
			body["nextToken"] = next
		}
		var out struct {
			ReadUserIDs []string `json:"readUserIds"`
			HasMore     bool     `json:"hasMore"`
			NextToken   string   `json:"nextToken"`
		}
		if err := c.openAPI(ctx, "/v1.0/robot/groupMessages/query", body, &out); err != nil {
			return nil, fmt.Errorf("dingtalk: readers of a post: %w", err)
		}
		readers = append(readers, out.ReadUserIDs...)
		if !out.HasMore || out.NextToken == "" {
			return readers, nil
		}
		next = out.NextToken
	}
	return readers, nil
}

// Recall takes the robot's posts with receipts back from the group. The
// platform allows it within 24 hours of sending. It implements
// bot.ReadTracker.
func (c *Channel) Recall(ctx context.Context, groupID string, receipts []string) error {
	var out struct {
		Failed map[string]string `json:"failedResult"`
	}
	err := c.openAPI(ctx, "/v1.0/robot/groupMessages/recall",
		map[string]any{"openConversationId": groupID, "robotCode": c.cfg.RobotCode, "processQueryKeys": receipts}, &out)
	if err != nil {
		return fmt.Errorf("dingtalk: recalling posts: %w", err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("dingtalk: %d of %d posts not recalled: %v", len(out.Failed), len(receipts), out.Failed)
	}
	return nil
}
