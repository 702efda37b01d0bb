package dingtalk

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"

	"fanzha/bot"
)

// seenMessage waits until the handler has run for msgID and returns the
// message it saw.
func (h *harness) seenMessage(t *testing.T, msgID string) bot.Message {
	t.Helper()
	waitFor(t, "message "+msgID, func() bool { return h.ranTimes(msgID) == 1 })
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[msgID]
}

// picture is a stand-in image file: a PNG signature and n bytes that differ
// from position to position, so a cut or a shift shows.
func picture(n int) []byte {
	b := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, n)...)
	for i := 8; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	return b
}

func TestGroupRichTextWithPicture(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	img := picture(30 << 10)
	h.f.mu.Lock()
	h.f.files["dl-code-1"] = img
	h.f.mu.Unlock()

	// In a group a picture reaches the robot only inside richText, next to
	// the @-mention's text.
	h.f.mediaMessage("frame-rt", "msg-rt", false, "richText", map[string]any{"richText": []any{
		map[string]any{"text": " 这是诈骗吗"},
		map[string]any{"type": "picture", "downloadCode": "dl-code-1", "pictureDownloadCode": "pic-code-1"},
	}})
	m := h.seenMessage(t, "msg-rt")
	if m.Text != "这是诈骗吗" || m.GroupID != "cid-group-media" || !m.MentionsBot || m.IsVoice() {
		t.Fatalf("message: %+v", m)
	}
	if imgs := m.Images(); len(imgs) != 1 || imgs[0].Ref != "dl-code-1" {
		t.Fatalf("images %+v; want one with Ref dl-code-1", imgs)
	}
	waitFor(t, "the reply", func() bool { _, r, _ := h.f.snapshot(); return len(r) == 1 })

	got, err := h.ch.FetchMedia(context.Background(), &m, m.Media[0], 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, img) {
		t.Fatalf("fetched %d bytes, not the %d the fake served", len(got), len(img))
	}
	h.f.mu.Lock()
	fetches := h.f.fetches
	h.f.mu.Unlock()
	if len(fetches) != 1 || fetches[0].robot != "ding-robot" || fetches[0].text != "dl-code-1" || fetches[0].token != "tok-1" {
		t.Fatalf("messageFiles/download calls: %+v", fetches)
	}

	// The token was revoked early (another instance fetched a new one): the
	// 401 is answered with a fresh token, once.
	h.f.mu.Lock()
	h.f.tokens = append(h.f.tokens, "tok-elsewhere")
	h.f.mu.Unlock()
	if got, err := h.ch.FetchMedia(context.Background(), &m, m.Media[0], 1<<20); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("after the token was revoked: %d bytes, %v", len(got), err)
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if last := h.f.fetches[len(h.f.fetches)-1]; last.token != "tok-3" {
		t.Fatalf("download with token %s; want a fresh tok-3", last.token)
	}
}

func TestFetchMediaRefusals(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.f.mu.Lock()
	h.f.files["small"] = picture(4096 - 8)     // exactly 4,096 bytes, announced
	h.f.files["announced"] = picture(10 << 10) // Content-Length says it is too large
	h.f.files["streamed"] = picture(3 << 20)   // no Content-Length: found out while reading
	h.f.files["deleted"] = picture(1024)       // the code is good, the file is gone
	h.f.deleted["deleted"] = true
	h.f.mu.Unlock()
	msg := &bot.Message{Channel: Name, PlatformMsgID: "msg-x"}
	tests := []struct {
		ref      string
		max      int64
		code     string // bot error code; "" for success
		contains string // in the error text
	}{
		{"small", 4096, "", ""},
		{"announced", 4096, bot.ETOOLARGE, "图片太大了（超过 1 MB）"},
		{"streamed", 1 << 20, bot.ETOOLARGE, "图片太大了（超过 1 MB）"},
		{"expired-code", 1 << 20, bot.ENOTFOUND, "图片已经过期，请重新发送。"},
		{"deleted", 1 << 20, bot.ENOTFOUND, "图片已经过期，请重新发送。"},
		{"", 1 << 20, bot.EINTERNAL, "no download code"},
	}
	for _, tt := range tests {
		t.Run(cmp.Or(tt.ref, "no ref"), func(t *testing.T) {
			b, err := h.ch.FetchMedia(context.Background(), msg, bot.Media{Kind: bot.MediaImage, Ref: tt.ref}, tt.max)
			if tt.code == "" {
				if err != nil || int64(len(b)) != tt.max {
					t.Fatalf("%d bytes, %v", len(b), err)
				}
				return
			}
			if bot.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.contains) || b != nil {
				t.Fatalf("got %d bytes, %v; want %s with %q", len(b), err, tt.code, tt.contains)
			}
		})
	}

	// Without the permission, the error says what DingTalk said.
	h.f.mu.Lock()
	h.f.denied = true
	h.f.mu.Unlock()
	_, err := h.ch.FetchMedia(context.Background(), msg, bot.Media{Kind: bot.MediaImage, Ref: "small"}, 1<<20)
	if bot.ErrorCode(err) != bot.EINTERNAL || !strings.Contains(err.Error(), "HTTP 403 Forbidden.AccessDenied") {
		t.Fatalf("without permission: %v", err)
	}
}

func TestVoiceMessages(t *testing.T) {
	h := start(t, "right-secret", 0)
	h.connected(t, 1)
	const said = "你好我是公安局的民警你涉嫌洗钱"
	// Voice reaches the robot only in 1:1 chats.
	h.f.mediaMessage("frame-v1", "msg-voice", true, "audio", map[string]any{"duration": 4000, "downloadCode": "dl-voice-1", "recognition": said})
	h.f.mediaMessage("frame-v2", "msg-mute", true, "audio", map[string]any{"duration": 2500, "downloadCode": "dl-voice-2"})

	m := h.seenMessage(t, "msg-voice")
	if m.Text != said || !m.IsVoice() || !m.Direct || len(m.Images()) != 0 {
		t.Fatalf("transcribed voice: %+v", m)
	}
	if want := []bot.Media{{Kind: bot.MediaVoice, Transcript: said}}; !reflect.DeepEqual(m.Media, want) {
		t.Fatalf("media %+v; want %+v", m.Media, want)
	}
	m = h.seenMessage(t, "msg-mute")
	if m.Text != "" || !m.IsVoice() {
		t.Fatalf("voice without transcription: %+v", m)
	}
	if want := []bot.Media{{Kind: bot.MediaVoice}}; !reflect.DeepEqual(m.Media, want) {
		t.Fatalf("media %+v; want %+v", m.Media, want)
	}
}

// TestToMessageMedia: how each content shape becomes text and media, as the
// SDK hands it over (content decoded into maps, or sometimes a string).
func TestToMessageMedia(t *testing.T) {
	decoded := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	img := func(refs ...string) []bot.Media {
		var out []bot.Media
		for _, r := range refs {
			out = append(out, bot.Media{Kind: bot.MediaImage, Ref: r})
		}
		return out
	}
	var many []any
	var nine []string
	for i := 0; i < 12; i++ {
		many = append(many, map[string]any{"type": "picture", "downloadCode": fmt.Sprint("c", i)})
		if i < bot.MaxMedia {
			nine = append(nine, fmt.Sprint("c", i))
		}
	}
	tests := []struct {
		name, msgtype, text string
		content             any
		wantText            string
		wantMedia           []bot.Media
	}{
		{"picture", "picture", "", decoded(`{"downloadCode":"d1","pictureDownloadCode":"p1"}`), "", img("d1")},
		{"picture with pictureDownloadCode only", "picture", "", decoded(`{"pictureDownloadCode":"p1"}`), "", img("p1")},
		{"picture content in a string", "picture", "", `{"downloadCode":"d1"}`, "", img("d1")},
		{"richText text parts joined", "richText", "", decoded(`{"richText":[{"text":" 这是诈骗吗 "},{"type":"picture","downloadCode":"d1"},{"text":"对方说先交保证金"},{"pictureDownloadCode":"p2"}]}`),
			"这是诈骗吗\n对方说先交保证金", img("d1", "p2")},
		{"richText at most MaxMedia pictures", "richText", "", map[string]any{"richText": append([]any{map[string]any{"text": "看看"}}, many...)}, "看看", img(nine...)},
		{"audio", "audio", "", decoded(`{"duration":"4000","downloadCode":"v1","recognition":" 你涉嫌洗钱 "}`), "你涉嫌洗钱", []bot.Media{{Kind: bot.MediaVoice, Transcript: "你涉嫌洗钱"}}},
		{"audio with unreadable content", "audio", "", "not json", "", []bot.Media{{Kind: bot.MediaVoice}}},
		{"file: as before", "file", "", decoded(`{"downloadCode":"f1","fileName":"a.apk"}`), "", nil},
		{"text: as before", "text", " 帮助", nil, "帮助", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &chatbot.BotCallbackDataModel{MsgId: "m1", ConversationId: "cid-1", ConversationType: "2", IsInAtList: true,
				Msgtype: tt.msgtype, Content: tt.content, Text: chatbot.BotCallbackDataTextModel{Content: tt.text}}
			m, err := toMessage(d)
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tt.wantText || !reflect.DeepEqual(m.Media, tt.wantMedia) {
				t.Fatalf("text %q, media %+v; want %q, %+v", m.Text, m.Media, tt.wantText, tt.wantMedia)
			}
		})
	}
	// A picture whose content cannot be read is malformed: ACKed, ignored.
	if _, err := toMessage(&chatbot.BotCallbackDataModel{MsgId: "m2", ConversationId: "cid-1", Msgtype: "picture"}); err == nil {
		t.Fatal("a picture without content was accepted")
	}
}
