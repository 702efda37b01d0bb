package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/draw"

	"fanzha/bot"
)

// The tesseract command-line program does the reading, not a cgo binding
// (gosseract): a crash, a hang or a memory blow-up on a hostile picture
// stays in a child process that the timeout kills, the bot builds without
// tesseract's headers, and a machine without tesseract still runs the bot
// (pictures are then answered with a request for the text). The cost is a
// process start per picture, about 0.1 s of the second a picture takes.

// Result is what was read from one picture.
type Result struct {
	Text  string `json:"text"` // in reading order, phone UI noise removed
	QRs   []QR   `json:"qr,omitempty"`
	Width int    `json:"width"`
	// Height of the picture in pixels.
	Height int `json:"height"`
	// NoOCR: text could not be read because OCR is not installed; QR codes
	// were still looked for.
	NoOCR bool `json:"no_ocr,omitempty"`
}

// Reader reads pictures. The zero value is not usable; see NewReader.
type Reader struct {
	Limits  Limits
	Timeout time.Duration // per picture, for tesseract
	bin     string        // tesseract's path; "" when not installed
	langs   string
}

// NewReader finds tesseract and its Simplified Chinese data. It returns a
// working Reader either way; the error says why text cannot be read, for
// the start-up log. FANZHA_OCR=off in the environment turns reading off,
// for a machine too small for it.
func NewReader() (*Reader, error) {
	r := &Reader{Limits: DefaultLimits, Timeout: 20 * time.Second}
	if os.Getenv("FANZHA_OCR") == "off" {
		return r, errors.New("FANZHA_OCR=off: pictures are searched for QR codes only, their text is not read")
	}
	bin, err := exec.LookPath("tesseract")
	if err != nil {
		return r, errors.New("tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim); pictures will be answered with a request for the text")
	}
	out, err := exec.Command(bin, "--list-langs").CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("tesseract --list-langs: %v", err)
	}
	langs := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		langs[l] = true
	}
	if !langs["chi_sim"] {
		return r, errors.New("tesseract has no Simplified Chinese data (Debian: apt-get install tesseract-ocr-chi-sim); pictures will be answered with a request for the text")
	}
	// chi_sim alone: it reads Latin letters and digits too, and with
	// +eng tesseract now and then reads a whole Chinese line as English.
	r.bin, r.langs = bin, "chi_sim"
	return r, nil
}

// OCR reports whether text can be read (tesseract is there).
func (r *Reader) OCR() bool { return r.bin != "" }

// Read decodes data within the limits, finds its QR codes and reads its
// text. Errors with a bot code are for the sender.
func (r *Reader) Read(ctx context.Context, data []byte) (*Result, error) {
	img, err := Decode(data, r.Limits)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	res := &Result{Width: b.Dx(), Height: b.Dy(), QRs: findQRs(img)}
	if r.bin == "" {
		res.NoOCR = true
		return res, nil
	}
	gray := prepare(img)
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, "stdin", "stdout", "-l", r.langs, "--psm", "3", "tsv")
	// One thread per picture: the pool decides how many run at once.
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.Stdin = bytes.NewReader(pgm(gray))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, bot.Errorf(bot.EINTERNAL, "media: tesseract took longer than %s", r.Timeout)
		}
		return nil, fmt.Errorf("media: tesseract: %v: %s", err, firstLine(errOut.String()))
	}
	res.Text = clean(parseTSV(out.Bytes(), gray.Bounds().Dx(), gray.Bounds().Dy()))
	return res, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// Pictures are scaled towards targetWidth, within these bounds.
var (
	targetWidth        = 560.0
	minScale, maxScale = 0.5, 2.0
)

// prepare turns a picture into what tesseract reads best: grey, dark text
// on a light ground (dark mode is inverted), and scaled so that the text of
// a 390-px phone screenshot is about 30 px high.
func prepare(img image.Image) *image.Gray {
	g := toGray(img)
	var sum uint64
	for _, p := range g.Pix {
		sum += uint64(p)
	}
	if n := len(g.Pix); n > 0 && sum/uint64(n) < 110 {
		for i, p := range g.Pix {
			g.Pix[i] = 255 - p
		}
	}
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	scale := targetWidth / float64(w)
	scale = max(minScale, min(maxScale, scale))
	if scale > 0.9 && scale < 1.1 {
		return g
	}
	sw, sh := int(float64(w)*scale), int(float64(h)*scale)
	if sw*sh > 40_000_000 { // a long screenshot scaled up: keep memory bounded
		return g
	}
	dst := image.NewGray(image.Rect(0, 0, sw, sh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), g, g.Bounds(), draw.Src, nil)
	return dst
}

// toGray converts to 8-bit grey, with fast paths for what JPEG and PNG
// decode to.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], m.Y[(y+b.Min.Y-m.Rect.Min.Y)*m.YStride+(b.Min.X-m.Rect.Min.X):])
		}
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				p := row[x*4 : x*4+4]
				// Transparent pixels are the page behind: white.
				a := uint32(p[3])
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				g.Pix[y*g.Stride+x] = uint8((l*a + 255*(255-a)) / 255)
			}
		}
	case *image.RGBA:
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				p := row[x*4 : x*4+4]
				a := uint32(p[3])
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16 // premultiplied
				g.Pix[y*g.Stride+x] = uint8(min(255, l+(255-a)))
			}
		}
	default:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				g.Pix[y*g.Stride+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
	}
	return g
}

// pgm encodes g as a binary PGM: leptonica reads it from stdin, and it
// costs no compression.
func pgm(g *image.Gray) []byte {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	head := "P5\n" + strconv.Itoa(w) + " " + strconv.Itoa(h) + "\n255\n"
	out := make([]byte, 0, len(head)+w*h)
	out = append(out, head...)
	for y := 0; y < h; y++ {
		out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
	}
	return out
}
