// Package media reads what people forward as pictures: it decodes an image
// within limits, finds QR codes in it and reads its text with tesseract, so
// that the scam check can judge a screenshot as it judges typed text.
//
// Nothing here stores an image: bytes come in, text and QR contents go out.
package media

import (
	"bytes"
	"image"
	_ "image/gif" // pictures people forward: GIF, JPEG, PNG, WebP, BMP
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"

	"fanzha/bot"
)

// Limits bound what is decoded. They are checked on the header, before a
// single pixel is decoded, so a small file that claims to be enormous (a
// decompression bomb) costs nothing.
type Limits struct {
	MaxBytes  int64 // file size
	MaxPixels int   // width × height
	MaxSide   int   // longest side, for long scrolling screenshots
}

// DefaultLimits fit any phone screenshot, including long scrolling ones
// (1080 × 12,000), and refuse anything much larger.
var DefaultLimits = Limits{MaxBytes: 10 << 20, MaxPixels: 16_000_000, MaxSide: 16_000}

// Decode checks data against lim and decodes it. Its errors are shown to
// the person who sent the picture.
func Decode(data []byte, lim Limits) (image.Image, error) {
	if len(data) == 0 {
		return nil, bot.Errorf(bot.EINVALID, "这张图片是空的，请重新发送。")
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, bot.Errorf(bot.ETOOLARGE, "图片太大了（超过 %d MB），请截取可疑的那一部分再发。", lim.MaxBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "认不出这张图片（支持 JPG、PNG、GIF、WebP），请换成截图再发。")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide ||
		cfg.Width*cfg.Height > lim.MaxPixels {
		return nil, bot.Errorf(bot.ETOOLARGE, "图片尺寸太大了（%d×%d），请截取可疑的那一部分再发。", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "图片不完整或已损坏，请重新发送。")
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, bot.Errorf(bot.EINVALID, "图片不完整或已损坏，请重新发送。")
	}
	return img, nil
}
