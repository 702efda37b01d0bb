package media

import (
	"context"
	"testing"
	"time"

	"fanzha/media/mediatest"
)

// FuzzRead: no picture, however broken, panics the decoder or the QR
// reader, or gets past the limits. (Text reading is tesseract's, in its
// own process; this covers what runs inside the bot.)
func FuzzRead(f *testing.F) {
	f.Add(mediatest.QRPNG("http://a.top/x", 60))
	f.Add(mediatest.ClaimedPNG(20000, 20000))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe0})
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte{})
	r := &Reader{Limits: Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 4096}, Timeout: time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := r.Read(context.Background(), data)
		if err == nil && (res.Width*res.Height > r.Limits.MaxPixels || res.Width > r.Limits.MaxSide || res.Height > r.Limits.MaxSide) {
			t.Fatalf("%d×%d got past the limits", res.Width, res.Height)
		}
	})
}
