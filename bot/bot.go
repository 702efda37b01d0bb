// Package bot is fanzha's platform-neutral core: the message and group types,
// the Channel interface every platform implements, the Router with its
// middleware, and the service interfaces handlers depend on.
//
// It imports nothing of fanzha's own and nothing platform-specific; channels,
// handlers and storage all depend on it, never the reverse.
package bot

import (
	"context"
	"time"
	"unicode/utf8"
)

// Message is one incoming chat message, already translated from the platform's
// payload.
type Message struct {
	Channel       string    `json:"channel"`         // "playground", "dingtalk", "wechat"
	GroupID       string    `json:"group_id"`        // platform conversation/chat ID; empty for 1:1
	GroupName     string    `json:"group_name"`      // as the platform reports it
	SenderID      string    `json:"sender_id"`       // raw platform user ID; pseudonymised before storage
	SenderName    string    `json:"sender_name"`     // display name, optional
	Text          string    `json:"text"`            // plain text, @-mention of the bot removed
	MentionsBot   bool      `json:"mentions_bot"`    // the bot was @-mentioned
	Direct        bool      `json:"direct"`          // a 1:1 chat rather than a group
	PlatformMsgID string    `json:"platform_msg_id"` // the platform's ID, the dedupe key
	Time          time.Time `json:"time"`
	// ReplyHandle is the channel's way back to this conversation (a DingTalk
	// sessionWebhook), valid until ReplyExpires. It travels with the message
	// so a reply after a restart can still use it; the inbox forgets it with
	// the text once the message is handled.
	ReplyHandle  string    `json:"reply_handle,omitempty"`
	ReplyExpires time.Time `json:"reply_expires,omitempty"`
	// Media are the pictures and voice clips the message carries. A voice
	// clip's platform transcription is also its Text, so every feature
	// reads it as typed; a picture's text is read only when someone asks.
	Media []Media `json:"media,omitempty"`
	// Silent marks an action taken on the platform rather than a message
	// typed (a 👍 or 👎 on a reply): handled as its Text, never answered.
	Silent bool `json:"silent,omitempty"`
}

// MediaKind says what a Media is.
type MediaKind string

const (
	MediaImage MediaKind = "image"
	MediaVoice MediaKind = "voice"
)

// Media is a picture or voice clip attached to a message. It never holds
// the bytes: Ref is the channel's handle to fetch them (a DingTalk download
// code, a WeCom URL, a playground upload), kept in the inbox with the text
// and forgotten with it.
type Media struct {
	Kind MediaKind `json:"kind"`
	Ref  string    `json:"ref,omitempty"`
	// Transcript is the platform's own speech recognition of a voice clip.
	Transcript string `json:"transcript,omitempty"`
}

// Images returns the pictures msg carries.
func (m *Message) Images() []Media {
	var out []Media
	for _, x := range m.Media {
		if x.Kind == MediaImage {
			out = append(out, x)
		}
	}
	return out
}

// IsVoice reports whether msg's text is a platform transcription of speech.
func (m *Message) IsVoice() bool {
	for _, x := range m.Media {
		if x.Kind == MediaVoice {
			return true
		}
	}
	return false
}

// MediaFetcher is a Channel that can download the media of its messages.
// FetchMedia returns at most max bytes; a larger file is refused with
// ETOOLARGE without reading the rest, a file the platform no longer has
// with ENOTFOUND.
type MediaFetcher interface {
	FetchMedia(ctx context.Context, msg *Message, m Media, max int64) ([]byte, error)
}

// Key is the dedupe key of a message: platform message IDs are unique only
// within their channel.
func (m *Message) Key() string { return m.Channel + ":" + m.PlatformMsgID }

// Reply is what the bot says back to a message.
type Reply struct {
	Text string
	// AtSender asks the channel to @-mention the asker where the platform can.
	AtSender bool
}

// Post is a message the bot sends to a group on its own: a scheduled tip, a
// quiz question, a warning.
type Post struct {
	Kind string // "tip", "quiz", "warning", ...
	Text string
	// Choices are the answers the post asks for, each as a person would
	// type it ("A", "对", "收到", "2"). A channel with buttons shows them as
	// buttons whose tap arrives as that text; others leave them in Text.
	Choices []string
}

// Channel is one chat platform. A channel turns platform payloads into
// Messages and hands them to the Handler given to Start; it sends what
// handlers say back.
type Channel interface {
	// Name is the channel's stable identifier, stored with groups and members.
	Name() string
	// Start receives messages until ctx is done, passing each to h. It
	// returns nil after ctx is cancelled and an error if it cannot run.
	Start(ctx context.Context, h Handler) error
	// Reply answers msg in the conversation it came from.
	Reply(ctx context.Context, msg *Message, r Reply) error
	// Post sends p to a group, identified by its platform ID.
	Post(ctx context.Context, groupID string, p Post) error
}

// Truncate cuts s to at most n bytes on a character boundary, marking the
// cut: platforms refuse messages over their size limits.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Handler receives messages from a channel. The Router is the Handler of
// every channel.
type Handler interface {
	Dispatch(ctx context.Context, ch Channel, msg *Message) error
}
