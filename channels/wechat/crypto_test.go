package wechat

import (
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"
)

// WeCom's published known-answer vectors (shared/platforms/wecom.md).
const (
	tokenA   = "QDG6eK"
	keyA     = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	corpA    = "wx5823bf96d3bd56c7"
	encryptA = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
	tokenB   = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
	keyB     = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
	corpB    = "ww1436e0e65a779aee"
	echoB    = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)

func TestKnownAnswerVectorA(t *testing.T) {
	if !verify(tokenA, "1409659813", "1372623149", encryptA, "477715d11cdb4164915debcba66cb864d751f3e6") {
		t.Fatal("vector A: msg_signature does not verify")
	}
	if verify(tokenA, "1409659813", "1372623149", encryptA, "477715d11cdb4164915debcba66cb864d751f3e7") {
		t.Fatal("vector A: a wrong signature verifies")
	}
	msg, rid, err := decrypt(keyA, encryptA)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<Content><![CDATA[hello]]></Content>", "<MsgId>4561255354251345929</MsgId>", "<AgentID>218</AgentID>"} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("vector A decrypts to %q; lacks %s", msg, want)
		}
	}
	if rid != corpA {
		t.Errorf("receive-id %q; want %q", rid, corpA)
	}
	// The SDK agrees.
	_, sdkMsg, err := util.DecryptMsg(corpA, encryptA, keyA)
	if err != nil || string(sdkMsg) != string(msg) {
		t.Fatalf("SDK DecryptMsg: %q, %v", sdkMsg, err)
	}
	// URL check of the same key.
	echo, _, err := decrypt(keyA, "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")
	if err != nil || string(echo) != "1616140317555161061" {
		t.Fatalf("vector A echostr: %q, %v", echo, err)
	}
}

func TestKnownAnswerVectorB(t *testing.T) {
	if !verify(tokenB, "1476416373", "47744683", echoB, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb") {
		t.Fatal("vector B: URL-check signature does not verify")
	}
	echo, rid, err := decrypt(keyB, echoB)
	if err != nil || string(echo) != "1288432023552776189" || rid != corpB {
		t.Fatalf("vector B echostr: %q %q %v", echo, rid, err)
	}
}

// The 智能机器人 uses an empty receive-id, which the SDK's DecryptMsg
// refuses; ours opens what the SDK's EncryptMsg seals.
func TestDecryptEmptyReceiveIDAgainstSDK(t *testing.T) {
	plain := `{"msgid":"m1","chatid":"wrk123","text":{"content":"@反诈助手 帮助"}}`
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), "", keyB)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := util.DecryptMsg("", string(enc), keyB); err == nil {
		t.Log("note: the SDK's DecryptMsg now accepts an empty receive-id")
	}
	msg, rid, err := decrypt(keyB, string(enc))
	if err != nil || string(msg) != plain || rid != "" {
		t.Fatalf("decrypt: %q %q %v", msg, rid, err)
	}
	for _, bad := range []string{"", "!!!not base64", "AAAA", strings.Repeat("A", 44)} {
		if _, _, err := decrypt(keyB, bad); err == nil {
			t.Errorf("decrypt(%q) succeeded", bad)
		}
	}
}
