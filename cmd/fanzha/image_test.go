package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fanzha/bot"
	"fanzha/media/mediatest"
)

// sayPictures posts a message with pictures, as the playground page does.
func sayPictures(t *testing.T, base, group, sender, msgID, text string, mention bool, pictures ...[]byte) (int, []string) {
	t.Helper()
	var enc []string
	for _, p := range pictures {
		enc = append(enc, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(p))
	}
	status, out := call(t, "POST", base+"/playground/groups/"+group+"/messages", mustJSON(map[string]any{
		"sender_id": sender, "sender_name": sender, "text": text, "msg_id": msgID, "mention": mention, "images": enc}))
	return status, replyTexts(status, out)
}

func wantReply(t *testing.T, what string, status int, replies []string, wants ...string) {
	t.Helper()
	if len(replies) != 1 {
		t.Fatalf("%s: %d %q; want one reply", what, status, replies)
	}
	for _, w := range wants {
		if !strings.Contains(replies[0], w) {
			t.Errorf("%s: reply lacks %q:\n%s", what, w, replies[0])
		}
	}
}

// TestQRCodeInAPicture: the link in a QR code is read and checked; once
// the link is on the verified blocklist, the same picture is high risk; a
// stranger's payment code is suspicious on its own. No picture bytes stay
// in the database.
func TestQRCodeInAPicture(t *testing.T) {
	t.Setenv("FANZHA_OCR", "off") // QR codes need no tesseract
	dir := t.TempDir()
	m, base, _ := runMain(t, dir)
	createGroup(t, base, "g1", "幸福社区居民群")
	link := "http://jf-10086.top/dh"
	poster := mediatest.QRPNG(link, 240)

	status, replies := sayPictures(t, base, "g1", "zhang", "p1", "这是诈骗吗", true, poster)
	wantReply(t, "QR link", status, replies, "二维码（网址）："+link, "可疑域名的链接 "+link, "96110")
	if strings.Contains(replies[0], "已被核实") {
		t.Fatalf("an unlisted link called verified:\n%s", replies[0])
	}

	it, ok := bot.NormalizeItem("", link)
	if !ok {
		t.Fatalf("%s is not an item", link)
	}
	if err := m.DB.Crowd().Confirm(context.Background(), bot.ListedItem{Item: it, ScamType: "phishing_sms", Source: "review"}, 0); err != nil {
		t.Fatal(err)
	}
	status, replies = sayPictures(t, base, "g1", "zhang", "p2", "这是诈骗吗", true, poster)
	wantReply(t, "blocklisted QR link", status, replies, "已被核实为诈骗", "不要点链接")

	status, replies = sayPictures(t, base, "g1", "li", "p3", "", true, mediatest.QRPNG("wxp://f2f0Xy-example", 240))
	wantReply(t, "payment code", status, replies, "付款/收款二维码", "官方缴费渠道")

	db := openRaw(t, dir)
	var levels []string
	rows, err := db.Query(`SELECT level FROM events WHERE kind = 'scam_check' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l string
		rows.Scan(&l)
		levels = append(levels, l)
	}
	rows.Close()
	if strings.Join(levels, ",") != "none,high,suspicious" {
		t.Errorf("checks counted as %v; want none (a link alone), high (listed), suspicious (a payment code)", levels)
	}
	if where := findText(t, db, "jf-10086"); where != "" && !strings.HasPrefix(where, "playground") {
		t.Errorf("the QR code's content kept in %s", where)
	}
}

// TestBadPicturesInChat: broken, empty, huge and non-picture files get a
// clear answer and the bot goes on answering.
func TestBadPicturesInChat(t *testing.T) {
	t.Setenv("FANZHA_OCR", "off")
	_, base, _ := runMain(t, t.TempDir())
	createGroup(t, base, "g1", "幸福社区居民群")
	good := mediatest.QRPNG("http://a.example.top/x", 120)
	for i, tt := range []struct {
		name string
		data []byte
		says string
	}{
		{"zero bytes", []byte{}, "空的"},
		{"not a picture", []byte("PK\x03\x04 a zip file"), "认不出"},
		{"truncated", good[:len(good)/3], "损坏"},
		{"20000 × 20000", mediatest.ClaimedPNG(20000, 20000), "尺寸太大"},
	} {
		status, replies := sayPictures(t, base, "g1", "zhang", fmt.Sprint("bad", i), "这是诈骗吗", true, tt.data)
		wantReply(t, tt.name, status, replies, tt.says)
	}
	status, replies := sayPictures(t, base, "g1", "zhang", "big", "这是诈骗吗", true, make([]byte, 11<<20))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(strings.Join(replies, ""), "太大") {
		t.Errorf("an 11 MB picture: %d %q", status, replies)
	}
	status, replies = sayPictures(t, base, "g1", "zhang", "ok", "这是诈骗吗", true, good)
	wantReply(t, "after the bad ones", status, replies, "二维码")
}

// TestScreenshotChecked reads a real screenshot with tesseract: asked with
// the picture, or the picture first and the question after, the answer
// shows what was read and the verdict. Without OCR the bot asks for the
// text instead.
func TestScreenshotChecked(t *testing.T) {
	if _, err := exec.LookPath("tesseract"); err != nil && os.Getenv("FANZHA_REQUIRE_OCR") == "" {
		t.Skip("tesseract not installed")
	}
	shot, err := os.ReadFile("../../media/testdata/shots/" + phishingShot)
	if err != nil {
		t.Fatal(err)
	}
	_, base, _ := runMain(t, t.TempDir())
	createGroup(t, base, "g1", "幸福社区居民群")
	status, replies := sayPictures(t, base, "g1", "zhang", "s1", "这是诈骗吗", true, shot)
	wantReply(t, "asked with the picture", status, replies, "我从图片里读到", "高风险")

	if status, replies := sayPictures(t, base, "g1", "li", "s2", "", false, shot); status != 200 || len(replies) != 0 {
		t.Fatalf("a picture nobody asked about was answered: %d %q", status, replies)
	}
	status, replies, _ = say(t, base, "g1", "li", "s3", "这是诈骗吗？")
	wantReply(t, "picture first, asked after", status, replies, "我从图片里读到", "高风险")

	t.Setenv("FANZHA_OCR", "off")
	_, base2, _ := runMain(t, t.TempDir())
	createGroup(t, base2, "g1", "幸福社区居民群")
	status, replies = sayPictures(t, base2, "g1", "zhang", "s1", "这是诈骗吗", true, shot)
	wantReply(t, "without OCR", status, replies, "看不了图片", "文字")
}

// phishingShot is a screenshot of an ETC phishing SMS in the test set.
const phishingShot = "09_sms_light_390.jpg"

// TestPictureFromThePlaygroundPage: in the browser, a resident picks a
// picture with the 📷 button and asks; the bot's answer shows what it read.
func TestPictureFromThePlaygroundPage(t *testing.T) {
	exe := chromium(t)
	t.Setenv("FANZHA_OCR", "off")
	_, base, _ := runMain(t, t.TempDir())
	poster := filepath.Join(t.TempDir(), "poster.png")
	if err := os.WriteFile(poster, mediatest.QRPNG("wxp://f2f0Xy-example", 200), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, exe)
	var chat string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/playground/"),
		chromedp.WaitVisible(`#newgroup input[name="name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#newgroup input[name="name"]`, "三年级二班家长群", chromedp.ByQuery),
		chromedp.Click(`#newgroup button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#groups li.on`, chromedp.ByQuery),
		chromedp.SetUploadFiles(`#say input[name="pics"]`, []string{poster}, chromedp.ByQuery),
		chromedp.SendKeys(`#say input[name="text"]`, "这是诈骗吗", chromedp.ByQuery),
		chromedp.Click(`#say button`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class,"bot")][contains(., "收款二维码")]`, chromedp.BySearch),
		chromedp.Text("#chat", &chat, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(chat, "[图片] 这是诈骗吗") {
		t.Errorf("the chat does not show the picture was sent:\n%s", chat)
	}
}
