package scamcheck

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"fanzha/bot"
	"fanzha/knowledge"
	"fanzha/media"
)

// ImageReader reads the text and QR codes of a picture; *media.Pool is one.
type ImageReader interface {
	Read(ctx context.Context, data []byte) (*media.Result, error)
}

const (
	// imageTimeout bounds fetching and reading the pictures of one message.
	imageTimeout = 45 * time.Second
	// maxPictures of one message are read; people send one screenshot, or
	// a few pages of one conversation.
	maxPictures = 4
	// excerptRunes of what was read are shown back, so the sender sees it
	// was understood.
	excerptRunes = 60
)

// askForText is the answer when pictures cannot be read here.
const askForText = "我现在还看不了图片。请把图片里的文字复制或打出来发给我，例如：这是诈骗吗 + 文字内容。"

// readPictures fetches and reads the pictures of msg: their text in order
// and their QR codes. Errors with a code are for the sender.
func (h *handler) readPictures(ctx context.Context, ch bot.Channel, msg *bot.Message) (string, []media.QR, bool, error) {
	fetcher, ok := ch.(bot.MediaFetcher)
	if h.Images == nil || !ok {
		return "", nil, true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, imageTimeout)
	defer cancel()
	var texts []string
	var qrs []media.QR
	noOCR := false
	for i, m := range msg.Images() {
		if i == maxPictures {
			break
		}
		data, err := fetcher.FetchMedia(ctx, msg, m, media.DefaultLimits.MaxBytes)
		if err != nil {
			return "", nil, false, err
		}
		res, err := h.Images.Read(ctx, data)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return "", nil, false, bot.Errorf(bot.ECONFLICT, "图片看得太久了，请截取可疑的那一部分再发。")
			}
			return "", nil, false, err
		}
		noOCR = noOCR || res.NoOCR
		if t := withoutQuestions(res.Text); t != "" {
			texts = append(texts, t)
		}
		qrs = append(qrs, res.QRs...)
	}
	return strings.Join(texts, "\n"), qrs, noOCR, nil
}

// checkImages answers an asked check of a picture: what it read, then the
// verdict on the text read, any text sent with it and the QR codes' links.
func (h *handler) checkImages(c *bot.Context, msg *bot.Message, said string) error {
	read, qrs, noOCR, err := h.readPictures(c.Context(), c.Channel(), msg)
	if err != nil {
		return err
	}
	if noOCR && len(qrs) == 0 {
		return bot.Errorf(bot.EINVALID, askForText)
	}
	var prefix strings.Builder
	if read != "" {
		prefix.WriteString("📷 我从图片里读到：“" + excerpt(read, excerptRunes) + "”\n")
	}
	for _, q := range qrs {
		prefix.WriteString("🔳 图中二维码（" + q.Kind.Label() + "）：" + bot.Truncate(q.Text, 120) + "\n")
	}
	text := strings.TrimSpace(strings.Join([]string{read, qrLinks(qrs), strings.TrimSpace(said)}, "\n"))
	if utf8.RuneCountInString(text) < minCheckRunes {
		if noOCR {
			return bot.Errorf(bot.EINVALID, askForText)
		}
		return bot.Errorf(bot.EINVALID, "没能从图片里认出文字。请把可疑内容用文字发给我，或者只截短信、聊天那一部分再发。")
	}
	return h.answer(c, text, prefix.String(), riskyQRs(qrs))
}

// warnImage is the unrequested warning for a picture posted in a group
// that wants warnings: it is read only when a worker is free, and warns
// as for text — or when the picture's text is suspicious and it carries a
// stranger's payment or group-join code.
func (h *handler) warnImage(c *bot.Context) error {
	if c.IsCounsellor() {
		return nil
	}
	read, qrs, _, err := h.readPictures(c.Context(), c.Channel(), c.Message())
	if err != nil {
		c.Logger().Info("picture not read for a warning", "err", err)
		return nil // nobody asked: say nothing
	}
	text := strings.TrimSpace(read + "\n" + qrLinks(qrs))
	if utf8.RuneCountInString(text) < minCheckRunes {
		return nil
	}
	v := h.KB.Check(text)
	if !v.Warn && len(riskyQRs(qrs)) > 0 && v.Level != knowledge.LevelNone && v.Frame != knowledge.FrameEducation {
		v.Warn = true
	}
	return h.warnVerdict(c, v)
}

// qrLinks are the QR codes' contents that the check reads as text: links
// and plain text, one per line.
func qrLinks(qrs []media.QR) string {
	var out []string
	for _, q := range qrs {
		out = append(out, q.Text)
	}
	return strings.Join(out, "\n")
}

// riskyQRs are payment, group-join and add-a-friend codes.
func riskyQRs(qrs []media.QR) []media.QR {
	var out []media.QR
	for _, q := range qrs {
		if q.Kind == media.QRPayment || q.Kind == media.QRGroup || q.Kind == media.QRContact {
			out = append(out, q)
		}
	}
	return out
}

func qrWarning(risky []media.QR) string {
	switch risky[0].Kind {
	case media.QRPayment:
		return "⚠️ 图里有付款/收款二维码：陌生人、“老师”“客服”发来的收款码不要扫，交费请走学校、单位的官方缴费渠道，先打电话向本人核实。"
	case media.QRGroup:
		return "⚠️ 图里有加群二维码：“退款群”“理财群”“福利群”是诈骗常用的第一步，不要扫码进群。"
	}
	return "⚠️ 图里有加好友二维码：不认识的人让你扫码加好友谈钱、谈赔偿，要提高警惕。"
}

// excerpt shortens what was read to n characters on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// PictureText is what the check judges of one picture: its text without
// the questions people asked about it, then its QR codes' contents.
func PictureText(res *media.Result) string {
	return strings.TrimSpace(withoutQuestions(res.Text) + "\n" + qrLinks(res.QRs))
}

// withoutQuestions drops from text read off a chat screenshot what people
// asked about the message ("这是真的吗？", "又是骗人的吧"): the question is
// about the message, not part of it, and a doubt read as the message's own
// words would make a scam look like a warning about one.
func withoutQuestions(read string) string {
	var keep []string
	for _, line := range strings.Split(read, "\n") {
		if hasQuestion(line) {
			line = stripQuestion(line)
			if utf8.RuneCountInString(line) < minCheckRunes {
				continue // the whole line was the question
			}
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
