package media

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"fanzha/bot"
	"fanzha/media/mediatest"
)

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecodeRefusesBadPictures: what people send by mistake or malice gets
// a clear reason, decided on the header before pixels are decoded.
func TestDecodeRefusesBadPictures(t *testing.T) {
	good := pngOf(t, 390, 200)
	tests := []struct {
		name string
		data []byte
		code string
		says string
	}{
		{"zero bytes", nil, bot.EINVALID, "空的"},
		{"not a picture", []byte("%PDF-1.4 this is a document, not a picture"), bot.EINVALID, "认不出"},
		{"truncated", good[:len(good)/2], bot.EINVALID, "损坏"},
		{"20000 × 20000", mediatest.ClaimedPNG(20000, 20000), bot.ETOOLARGE, "20000×20000"},
		{"a very long strip", mediatest.ClaimedPNG(1, 100000), bot.ETOOLARGE, "尺寸太大"},
		{"too many bytes", append(append([]byte{}, good...), make([]byte, 11<<20)...), bot.ETOOLARGE, "10 MB"},
	}
	for _, tt := range tests {
		_, err := Decode(tt.data, DefaultLimits)
		if bot.ErrorCode(err) != tt.code || !strings.Contains(bot.ErrorMessage(err), tt.says) {
			t.Errorf("%s: %v; want %s saying %q", tt.name, err, tt.code, tt.says)
		}
	}
	if img, err := Decode(good, DefaultLimits); err != nil || img.Bounds().Dx() != 390 {
		t.Fatalf("a good PNG: %v", err)
	}
}

// TestQRCodesFoundAndClassified: every QR code in a picture is read, and
// payment and group-join codes are told from links.
func TestQRCodesFoundAndClassified(t *testing.T) {
	r := &Reader{Limits: DefaultLimits, Timeout: time.Second} // no tesseract: QR codes only
	for _, tt := range []struct {
		content string
		kind    QRKind
	}{
		{"http://jf-10086.top/dh?id=8", QRLink},
		{"wxp://f2f0Xy-example", QRPayment},
		{"https://qr.alipay.com/fkx12345example", QRPayment},
		{"https://weixin.qq.com/g/AbCdExample", QRGroup},
		{"https://u.wechat.com/EExample", QRContact},
		{"家长会时间：周五下午三点", QRText},
	} {
		res, err := r.Read(context.Background(), mediatest.QRPNG(tt.content, 240))
		if err != nil {
			t.Fatal(err)
		}
		if !res.NoOCR || len(res.QRs) != 1 || res.QRs[0].Text != tt.content || res.QRs[0].Kind != tt.kind {
			t.Errorf("%q: %+v; want one %s code", tt.content, res, tt.kind)
		}
	}
}

// TestTSVToText: words become lines in reading order, Chinese without the
// spaces tesseract puts between characters, and the phone's status bar,
// time stamps and app labels are dropped.
func TestTSVToText(t *testing.T) {
	rows := []string{"level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"}
	add := func(block, par, line int, top int, conf string, words ...string) {
		for i, w := range words {
			rows = append(rows, strings.Join([]string{"5", "1", itoa(block), itoa(par), itoa(line), itoa(i + 1), "10", itoa(top), "20", "20", conf, w}, "\t"))
		}
	}
	add(1, 1, 1, 5, "90", "9:41", "5G", "87%")
	add(2, 1, 1, 80, "90", "短信/彩信")
	add(2, 2, 1, 110, "88", "昨天", "15:30")
	add(3, 1, 1, 150, "91", "【中国", "XX", "银行】", "尊", "敬", "的", "客户")
	add(3, 1, 2, 180, "91", "请", "登录", "jfdh-bank.top/m", "领取")
	add(4, 1, 1, 400, "20", "@")
	add(5, 1, 1, 500, "95", "按住", "说话")
	got := clean(parseTSV([]byte(strings.Join(rows, "\n")), 400, 1000))
	want := "【中国XX银行】尊敬的客户请登录jfdh-bank.top/m领取"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func itoa(n int) string {
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

// TestPoolTurnsAwayWhenFull: with the one worker busy and the queue full,
// a further picture is refused at once, not queued without bound.
func TestPoolTurnsAwayWhenFull(t *testing.T) {
	block, taken := make(chan struct{}), make(chan struct{})
	p := &Pool{reader: &Reader{Limits: DefaultLimits}, jobs: make(chan *job, 1), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() { // a worker stuck on a slow picture
		defer p.wg.Done()
		j := <-p.jobs
		close(taken)
		<-block
		j.done <- outcome{res: &Result{}}
	}()
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { _, err := p.Read(ctx, nil); first <- err }()
	<-taken
	p.jobs <- &job{ctx: ctx, done: make(chan outcome, 1)} // the queue is full
	if _, err := p.Read(ctx, nil); err != ErrBusy {
		t.Fatalf("full pool: %v; want ErrBusy", err)
	}
	close(block)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	close(p.stop)
	p.wg.Wait()
}

// TestDarkModeInverted: a dark screenshot is turned into dark text on a
// light ground before reading.
func TestDarkModeInverted(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 560, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 560; x++ {
			c := color.RGBA{20, 20, 20, 255}
			if y > 40 && y < 60 && x > 100 && x < 200 {
				c = color.RGBA{230, 230, 230, 255} // the light text
			}
			img.Set(x, y, c)
		}
	}
	g := prepare(img)
	if g.GrayAt(5, 5).Y < 200 || g.GrayAt(150, 50).Y > 60 {
		t.Fatalf("not inverted: ground %d, text %d", g.GrayAt(5, 5).Y, g.GrayAt(150, 50).Y)
	}
}

// requireOCR skips without tesseract unless FANZHA_REQUIRE_OCR is set (CI
// sets it: there a missing tesseract is a failure).
func requireOCR(t testing.TB) *Reader {
	t.Helper()
	r, err := NewReader()
	if err != nil {
		if _, lerr := exec.LookPath("tesseract"); lerr != nil && !required() {
			t.Skip("tesseract not installed: ", err)
		}
		t.Fatal(err)
	}
	return r
}

func required() bool { return os.Getenv("FANZHA_REQUIRE_OCR") != "" }
