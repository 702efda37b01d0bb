package bot

import (
	"context"
	"time"
)

// PlaygroundChannel is the name of the simulated browser channel: its
// groups are a sandbox, never counted where a real channel runs.
const PlaygroundChannel = "playground"

// TranscriptLine is one line of a simulated group's chat in the playground.
type TranscriptLine struct {
	ID         int64     `json:"id"`
	GroupID    string    `json:"group_id"`
	GroupName  string    `json:"group_name,omitempty"`
	SenderID   string    `json:"sender_id,omitempty"`
	SenderName string    `json:"sender_name,omitempty"`
	FromBot    bool      `json:"from_bot"`
	MsgID      string    `json:"msg_id,omitempty"`
	Mentions   bool      `json:"mentions_bot,omitempty"`
	Kind       string    `json:"kind,omitempty"` // for bot posts: "tip", "quiz_question", ...
	Text       string    `json:"text"`
	Time       time.Time `json:"time"`
}

// Transcript stores the playground's simulated chats.
type Transcript interface {
	// AppendLine stores l, setting its ID and Time, and reports false if a
	// line with the same non-empty MsgID is already in the group.
	AppendLine(ctx context.Context, l *TranscriptLine) (bool, error)
	Lines(ctx context.Context, groupID string, after int64, limit int) ([]TranscriptLine, error)
}
