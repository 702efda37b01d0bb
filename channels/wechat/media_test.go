package wechat

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"fanzha/bot"
)

// sealPicture encrypts a picture as WeCom serves it to a 智能机器人 in the
// callback mode, written out here from the documented scheme rather than
// from the channel's code: AES-256-CBC, key = base64(EncodingAESKey+"="),
// IV = key[:16], PKCS#7 padding to 32 bytes, no prefix.
func sealPicture(t *testing.T, encodingAESKey string, plain []byte) []byte {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		t.Fatalf("key: %d bytes, %v", len(key), err)
	}
	pad := 32 - len(plain)%32
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(buf, buf)
	return buf
}

// picture is a stand-in image file: a JPEG start and n bytes that differ
// from position to position, so a cut or a shift shows.
func picture(n int) []byte {
	b := append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, n)...)
	for i := 4; i < len(b); i++ {
		b[i] = byte(i * 13)
	}
	return b
}

func (h *harness) serve(name string, b []byte) string {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	h.f.media[name] = b
	return h.f.srv.URL + "/media/" + name
}

// seenMessage waits until the handler has run for msgID and returns the
// message it saw.
func (h *harness) seenMessage(t *testing.T, msgID string) bot.Message {
	t.Helper()
	waitFor(t, "message "+msgID, func() bool { return h.times(msgID) == 1 })
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[msgID]
}

func TestGroupMixedWithPicture(t *testing.T) {
	h := start(t)
	img := picture(50 << 10)
	link := h.serve("pic-1", sealPicture(t, botKey, img))
	msg := map[string]any{"msgid": "mixed-1", "aibotid": "aib-1", "chatid": "wrkGroup1", "chattype": "group",
		"from": map[string]string{"userid": "zhangsan"}, "response_url": h.f.srv.URL + "/respond/mixed-1", "msgtype": "mixed",
		"mixed": map[string]any{"msg_item": []any{
			map[string]any{"msgtype": "text", "text": map[string]string{"content": "@反诈助手 这是诈骗吗"}},
			map[string]any{"msgtype": "image", "image": map[string]string{"url": link}},
		}}}
	q, body := h.callback(t, msg, h.now, "n-mixed")
	if status, _ := h.post(t, "/wechat/bot", q, body); status != 200 {
		t.Fatalf("callback: %d", status)
	}
	m := h.seenMessage(t, "mixed-1")
	if m.Text != "这是诈骗吗" || m.GroupID != "wrkGroup1" || m.IsVoice() {
		t.Fatalf("message: %+v", m)
	}
	if imgs := m.Images(); len(imgs) != 1 || imgs[0].Ref != link {
		t.Fatalf("images %+v; want one with Ref %s", imgs, link)
	}
	waitFor(t, "the reply", func() bool { _, _, r := h.f.snapshot(); return len(r) == 1 })
	if _, _, r := h.f.snapshot(); r[0] != "收到：这是诈骗吗" {
		t.Fatalf("reply %q", r[0])
	}

	got, err := h.ch.FetchMedia(context.Background(), &m, m.Media[0], 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, img) {
		t.Fatalf("fetched %d bytes, not the %d-byte picture", len(got), len(img))
	}
}

func TestFetchMediaRefusals(t *testing.T) {
	h := start(t)
	const max = 4096
	exact := sealPicture(t, botKey, picture(max-4))
	tampered := append([]byte(nil), exact...)
	tampered[len(tampered)-1] ^= 0x5a // the padding no longer checks
	flipped := append([]byte(nil), exact...)
	flipped[len(flipped)-40] ^= 0x01 // the last block decrypts to garbage
	links := map[string]string{
		"exactly max":             h.serve("exact", exact),
		"one byte over, padded":   h.serve("over", sealPicture(t, botKey, picture(max-3))),
		"announced too large":     h.serve("announced", sealPicture(t, botKey, picture(10<<10))),
		"streamed too large":      h.serve("streamed", sealPicture(t, botKey, picture(3<<20))),
		"tampered padding":        h.serve("tampered", tampered),
		"tampered ciphertext":     h.serve("flipped", flipped),
		"truncated":               h.serve("truncated", exact[:len(exact)-7]),
		"not encrypted":           h.serve("plain", picture(max-4)),
		"other key":               h.serve("otherkey", sealPicture(t, keyA, picture(max-4))),
		"empty":                   h.serve("empty", nil),
		"WeCom refuses":           h.serve("refused", []byte(`{"errcode":40007,"errmsg":"invalid media_id"}`)),
		"gone":                    h.f.srv.URL + "/media/never-served",
		"no URL":                  "",
		"not an http URL":         "file:///etc/passwd",
		"streamed, under 3 MB ok": h.serve("big-ok", sealPicture(t, botKey, picture(2<<20))),
	}
	tests := []struct {
		name     string
		max      int64
		code     string // bot error code; "" for success
		contains string
	}{
		{"exactly max", max, "", ""},
		{"one byte over, padded", max, bot.ETOOLARGE, "图片太大了（超过 1 MB）"},
		{"announced too large", max, bot.ETOOLARGE, "图片太大了（超过 1 MB）"},
		{"streamed too large", 2 << 20, bot.ETOOLARGE, "图片太大了（超过 2 MB）"},
		{"streamed, under 3 MB ok", 3 << 20, "", ""},
		{"tampered padding", max, bot.EINTERNAL, "bad padding"},
		{"tampered ciphertext", max, bot.EINTERNAL, "bad padding"},
		{"truncated", max, bot.EINTERNAL, "whole number of AES blocks"},
		{"not encrypted", max, bot.EINTERNAL, "does not decrypt"},
		{"other key", max, bot.EINTERNAL, "does not decrypt"},
		{"empty", max, bot.EINTERNAL, "does not decrypt"},
		{"WeCom refuses", max, bot.EINTERNAL, "errcode 40007"},
		{"gone", max, bot.ENOTFOUND, "图片已经过期，请重新发送。"},
		{"no URL", max, bot.EINTERNAL, "no usable URL"},
		{"not an http URL", max, bot.EINTERNAL, "no usable URL"},
	}
	msg := &bot.Message{Channel: Name, PlatformMsgID: "m-x"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := h.ch.FetchMedia(context.Background(), msg, bot.Media{Kind: bot.MediaImage, Ref: links[tt.name]}, tt.max)
			if tt.code == "" {
				if err != nil || !bytes.HasPrefix(b, []byte{0xff, 0xd8}) {
					t.Fatalf("%d bytes, %v", len(b), err)
				}
				return
			}
			if bot.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.contains) || b != nil {
				t.Fatalf("got %d bytes, %v; want %s with %q", len(b), err, tt.code, tt.contains)
			}
		})
	}
}

func TestVoiceAndPictureInPrivateChat(t *testing.T) {
	h := start(t)
	sent := 0
	single := func(id, msgtype string, body map[string]any) {
		t.Helper()
		sent++
		msg := map[string]any{"msgid": id, "aibotid": "aib-1", "chattype": "single", "from": map[string]string{"userid": "lisi"},
			"response_url": h.f.srv.URL + "/respond/" + id, "msgtype": msgtype}
		for k, v := range body {
			msg[k] = v
		}
		q, b := h.callback(t, msg, h.now, fmt.Sprint("n-", sent)) // a redelivery has its own nonce
		if status, _ := h.post(t, "/wechat/bot", q, b); status != 200 {
			t.Fatalf("%s callback: %d", id, status)
		}
	}
	const said = "你好我是公安局的民警你涉嫌洗钱"
	single("voice-1", "voice", map[string]any{"voice": map[string]string{"content": said}})
	single("voice-2", "voice", map[string]any{"voice": map[string]string{"content": ""}})
	single("image-1", "image", map[string]any{"image": map[string]string{"url": "https://wework.qpic.cn/pic-1"}})
	single("file-1", "file", map[string]any{"file": map[string]string{"url": "https://wework.qpic.cn/file-1"}})

	m := h.seenMessage(t, "voice-1")
	if m.Text != said || !m.IsVoice() || !m.Direct {
		t.Fatalf("voice: %+v", m)
	}
	if want := []bot.Media{{Kind: bot.MediaVoice, Transcript: said}}; !reflect.DeepEqual(m.Media, want) {
		t.Fatalf("voice media %+v; want %+v", m.Media, want)
	}
	m = h.seenMessage(t, "voice-2")
	if want := []bot.Media{{Kind: bot.MediaVoice}}; m.Text != "" || !reflect.DeepEqual(m.Media, want) {
		t.Fatalf("voice without transcription: %+v", m)
	}
	m = h.seenMessage(t, "image-1")
	if want := []bot.Media{{Kind: bot.MediaImage, Ref: "https://wework.qpic.cn/pic-1"}}; m.Text != "" || !reflect.DeepEqual(m.Media, want) {
		t.Fatalf("picture: %+v", m)
	}
	// Files are still not for the bot; the redelivered voice is handled once.
	single("voice-1", "voice", map[string]any{"voice": map[string]string{"content": said}})
	single("after", "voice", map[string]any{"voice": map[string]string{"content": "帮助"}})
	h.seenMessage(t, "after")
	if h.times("file-1") != 0 || h.times("voice-1") != 1 {
		t.Fatalf("file handled %d times, redelivered voice %d times", h.times("file-1"), h.times("voice-1"))
	}
}

// TestToMessageMixed: text items joined, the mention stripped from the
// first, at most bot.MaxMedia pictures.
func TestToMessageMixed(t *testing.T) {
	h := start(t)
	twelve := strings.Repeat(`{"msgtype":"image","image":{"url":"https://p/x"}},`, 12)
	tests := []struct {
		name, items string
		wantText    string
		wantImages  int
	}{
		{"mention alone in the first item", `{"msgtype":"text","text":{"content":"@反诈助手"}},{"msgtype":"image","image":{"url":"https://p/1"}},` +
			`{"msgtype":"text","text":{"content":"对方让我先交保证金"}}`, "对方让我先交保证金", 1},
		{"mention with a four-per-em space", `{"msgtype":"text","text":{"content":"@反诈助手\u2005这是诈骗吗 "}},{"msgtype":"text","text":{"content":" 真的吗"}}`,
			"这是诈骗吗\n真的吗", 0},
		{"a later mention is the sender's", `{"msgtype":"text","text":{"content":"@反诈助手"}},{"msgtype":"image","image":{"url":"https://p/1"}},` +
			`{"msgtype":"text","text":{"content":"@张三 发的这个是真的吗"}}`, "@张三 发的这个是真的吗", 1},
		{"only pictures", `{"msgtype":"image","image":{"url":"https://p/1"}},{"msgtype":"image","image":{"url":"https://p/2"}}`, "", 2},
		{"twelve pictures", strings.TrimSuffix(twelve, ","), "", bot.MaxMedia},
		{"an image without url", `{"msgtype":"text","text":{"content":"看看"}},{"msgtype":"image","image":{}}`, "看看", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cb callback
			if err := json.Unmarshal([]byte(`{"msgid":"m","chattype":"group","msgtype":"mixed","mixed":{"msg_item":[`+tt.items+`]}}`), &cb); err != nil {
				t.Fatal(err)
			}
			m := h.ch.toMessage(&cb)
			if m.Text != tt.wantText || len(m.Images()) != tt.wantImages || len(m.Media) != tt.wantImages {
				t.Fatalf("text %q, media %+v; want %q, %d images", m.Text, m.Media, tt.wantText, tt.wantImages)
			}
		})
	}
}
