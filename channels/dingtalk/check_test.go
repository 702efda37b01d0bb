package dingtalk

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"fanzha/bot"
	"fanzha/handlers/scamcheck"
	"fanzha/knowledge"
	"fanzha/media"
	"fanzha/media/mediatest"
	"fanzha/store"
)

// replyText is the text of the reply the fake received through the
// session webhook of msgID.
func (h *harness) replyText(t *testing.T, msgID string) string {
	t.Helper()
	var text string
	waitFor(t, "the reply to "+msgID, func() bool {
		_, replies, _ := h.f.snapshot()
		for _, r := range replies {
			if r["_webhook"] == msgID {
				text = fmt.Sprint(r)
				return true
			}
		}
		return false
	})
	return text
}

// TestVoiceAndPictureChecked: with the scam check behind the channel, a
// voice clip's transcription is checked and the answer says it was heard
// from a voice message; a picture sent with "这是诈骗吗" in a group is
// downloaded through the robot file API and its QR code's link checked.
func TestVoiceAndPictureChecked(t *testing.T) {
	t.Setenv("FANZHA_OCR", "off") // QR codes need no tesseract
	kb, err := knowledge.Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reader, _ := media.NewReader()
	pool := media.NewPool(reader, 1, 4)
	t.Cleanup(pool.Close)
	h := startRouted(t, "right-secret", 0, func(r *bot.Router, db *store.DB) {
		scamcheck.Register(r, scamcheck.Deps{KB: kb, Groups: db.Groups(), Events: db.Events(), Samples: db.Events(), Images: pool})
	}, nil)
	h.connected(t, 1)

	h.f.mediaMessage("frame-v", "msg-voice", true, "audio", map[string]any{"duration": 6000, "downloadCode": "dl-v",
		"recognition": "喂你好我是市公安局的民警你名下的银行卡涉嫌洗钱现在要把钱转到安全账户配合调查"})
	if got := h.replyText(t, "msg-voice"); !strings.Contains(got, "语音") || !strings.Contains(got, "高风险") {
		t.Fatalf("voice clip: %s", got)
	}

	h.f.mu.Lock()
	h.f.files["dl-qr"] = mediatest.QRPNG("http://etc-renzheng.top/m", 200)
	h.f.mu.Unlock()
	h.f.mediaMessage("frame-p", "msg-pic", false, "richText", map[string]any{"richText": []any{
		map[string]any{"text": " 这是诈骗吗"},
		map[string]any{"type": "picture", "downloadCode": "dl-qr", "pictureDownloadCode": "pic-qr"},
	}})
	if got := h.replyText(t, "msg-pic"); !strings.Contains(got, "二维码（网址）：http://etc-renzheng.top/m") || !strings.Contains(got, "可疑域名") {
		t.Fatalf("picture: %s", got)
	}
}
