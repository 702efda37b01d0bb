package media

import (
	"image"
	"strings"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
)

// QRKind says what a QR code leads to. Payment and group-join codes matter
// on their own: a stranger's collection code or an invitation to "join the
// refund group" is how many scams take the money or the victim.
type QRKind string

const (
	QRLink    QRKind = "link"    // a web address
	QRPayment QRKind = "payment" // pays someone: WeChat Pay, Alipay, UnionPay
	QRGroup   QRKind = "group"   // joins a chat group (WeChat, QQ, DingTalk)
	QRContact QRKind = "contact" // adds a person as a friend
	QRText    QRKind = "text"    // anything else
)

// QR is one decoded QR code.
type QR struct {
	Text string `json:"text"`
	Kind QRKind `json:"kind"`
}

// Label is the kind in words, for replies.
func (k QRKind) Label() string {
	switch k {
	case QRPayment:
		return "付款/收款码"
	case QRGroup:
		return "加群二维码"
	case QRContact:
		return "加好友二维码"
	case QRLink:
		return "网址"
	}
	return "文字"
}

// qrPrefixes classify a QR code's content by how the platforms' own codes
// begin. Matched lower-case, longest first is not needed: no prefix is a
// prefix of another kind's.
var qrPrefixes = []struct {
	prefix string
	kind   QRKind
}{
	{"wxp://", QRPayment},
	{"https://wx.tenpay.com/", QRPayment},
	{"https://payapp.weixin.qq.com/", QRPayment},
	{"https://qr.alipay.com/", QRPayment},
	{"alipays://", QRPayment},
	{"https://qr.95516.com/", QRPayment},
	{"https://weixin.qq.com/g/", QRGroup},
	{"https://qm.qq.com/", QRGroup},
	{"https://jq.qq.com/", QRGroup},
	{"https://qr.dingtalk.com/action/joingroup", QRGroup},
	{"dingtalk://dingtalkclient/action/joingroup", QRGroup},
	{"https://u.wechat.com/", QRContact},
	{"https://weixin.qq.com/r/", QRContact},
	{"https://qr.dingtalk.com/user/", QRContact},
}

// ClassifyQR says what a QR code's content is.
func ClassifyQR(text string) QRKind {
	t := strings.ToLower(strings.TrimSpace(text))
	for _, p := range qrPrefixes {
		if strings.HasPrefix(t, p.prefix) {
			return p.kind
		}
	}
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "www.") {
		return QRLink
	}
	return QRText
}

// maxQRs bounds the codes taken from one picture.
const maxQRs = 8

// findQRs decodes every QR code in img. A picture without one is not an
// error; neither is a code too damaged to read.
func findQRs(img image.Image) []QR {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	results, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
	if err != nil {
		return nil
	}
	var out []QR
	seen := map[string]bool{}
	for _, r := range results {
		t := strings.TrimSpace(r.GetText())
		if t == "" || seen[t] || len(out) == maxQRs {
			continue
		}
		seen[t] = true
		out = append(out, QR{Text: t, Kind: ClassifyQR(t)})
	}
	return out
}
