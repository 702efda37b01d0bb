package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"fanzha/bot"
	"fanzha/handlers/scamcheck"
	"fanzha/knowledge"
	"fanzha/media"
)

// checkResult is one line of `fanzha check --json`.
type checkResult struct {
	Level string `json:"level"` // high, suspicious or none
	// Warn: would the unrequested group warning fire. Frame: scam,
	// education or ordinary.
	Warn       bool    `json:"warn"`
	Frame      string  `json:"frame"`
	FrameScore float64 `json:"frame_score"` // weight of education evidence
	// Confidence: the calibration layer's probability that the structure
	// found is a scam; 0 when nothing was flagged.
	Confidence float64                 `json:"confidence"`
	Parts      []knowledge.PartHit     `json:"parts"`
	Pattern    *knowledge.PatternMatch `json:"pattern,omitempty"`
	Types      []checkType             `json:"types"`
	Phrases    []string                `json:"phrases"`
	Entities   []knowledge.Entity      `json:"entities"`
	Error      string                  `json:"error,omitempty"`
	// With --image: the file, the text read from it and its QR codes.
	File string     `json:"file,omitempty"`
	Read *string    `json:"read,omitempty"`
	QRs  []media.QR `json:"qr,omitempty"`
}

type checkType struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// maxCheckLine bounds one line of batch input; longer lines are reported,
// not truncated silently.
const maxCheckLine = 64 << 10

// runCheck implements `fanzha check "text"` (a verdict a person reads) and
// `fanzha check --json < messages.txt` (one JSON object per input line).
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "read one message per line from stdin, write one JSON object per line")
	dir := fs.String("knowledge", "", "knowledge directory (default: the built-in knowledge)")
	images := fs.Bool("image", false, "the arguments are picture files: read their text and QR codes (tesseract), then check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kb, err := knowledge.Open(*dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	stdout = out
	if *images {
		return checkImages(kb, fs.Args(), *asJSON, stdout, stderr)
	}
	if !*asJSON {
		text := strings.Join(fs.Args(), " ")
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf(`usage: fanzha check "message text"  or  fanzha check --json < messages.txt`)
		}
		fmt.Fprintln(stdout, kb.Check(text).Text())
		return nil
	}
	if os.Getenv("GOGC") == "" {
		// A batch holds little (the knowledge, a few chunks) and allocates
		// a verdict a line: collecting when the heap is nine times what
		// stays, not twice, took a fifth of the CPU off a large batch.
		debug.SetGCPercent(batchGCPercent)
	}
	return checkLines(kb, stdin, stdout, runtime.GOMAXPROCS(0))
}

// batchGCPercent is GOGC for `check --json`.
const batchGCPercent = 800

// checkChunk is how many lines a worker of checkLines takes at a time.
const checkChunk = 512

// checkLines writes a JSON verdict for every non-blank line of in, in the
// order of the lines, checking chunks of lines on workers at once.
func checkLines(kb *knowledge.Base, in io.Reader, out io.Writer, workers int) error {
	type chunk struct {
		lines []string
		out   []byte
		done  chan struct{}
	}
	todo := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	// Output buffers go back to the reader once written, instead of each
	// chunk growing a new one.
	free := make(chan []byte, 2*workers+2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			types := make([]checkType, 0, 8)
			for c := range todo {
				for _, line := range c.lines {
					r := toResultInto(kb.Check(line), types)
					c.out = appendResult(c.out, &r)
					types = r.Types
				}
				close(c.done)
			}
		}()
	}
	// The reader hands chunks out in order; this goroutine writes them in
	// the same order as each is done.
	var readErr error
	go func() {
		defer close(order)
		defer close(todo)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64<<10), maxCheckLine)
		fresh := func() *chunk {
			c := &chunk{lines: make([]string, 0, checkChunk), done: make(chan struct{})}
			select {
			case c.out = <-free:
			default:
			}
			return c
		}
		c := fresh()
		flush := func() {
			todo <- c
			order <- c
			c = fresh()
		}
		for sc.Scan() {
			line := sc.Text()
			if strings.TrimSpace(line) == "" {
				continue
			}
			if c.lines = append(c.lines, line); len(c.lines) == checkChunk {
				flush()
			}
		}
		if len(c.lines) > 0 {
			flush()
		}
		if err := sc.Err(); err != nil {
			readErr = fmt.Errorf("reading messages: %w (one message per line, at most %d bytes)", err, maxCheckLine)
		}
	}()
	var err error
	for c := range order {
		<-c.done
		if err == nil {
			_, err = out.Write(c.out)
		}
		select {
		case free <- c.out[:0]:
		default:
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return readErr
}

func toResult(v knowledge.Verdict) checkResult { return toResultInto(v, nil) }

// toResultInto is toResult with the types in types' backing array, which
// a batch reuses from line to line.
func toResultInto(v knowledge.Verdict, types []checkType) checkResult {
	if types == nil {
		types = make([]checkType, 0, len(v.Types))
	}
	r := checkResult{Level: v.Level.Code(), Warn: v.Warn, Frame: v.Frame, FrameScore: v.FrameScore, Confidence: v.Confidence, Parts: v.Parts, Pattern: v.Pattern,
		Types: types[:0], Phrases: v.Phrases, Entities: v.Entities}
	if r.Parts == nil {
		r.Parts = []knowledge.PartHit{}
	}
	if r.Phrases == nil {
		r.Phrases = []string{}
	}
	if r.Entities == nil {
		r.Entities = []knowledge.Entity{}
	}
	for _, t := range v.Types {
		r.Types = append(r.Types, checkType{ID: t.ID, Name: t.Name, Score: t.Score})
	}
	return r
}

// checkImages implements `fanzha check --image FILE...`: for each picture,
// the text read and the verdict on it (with its QR codes' contents), or a
// JSON object per file with --json. A file that cannot be read is reported
// and the others go on; the command fails if any did.
func checkImages(kb *knowledge.Base, files []string, asJSON bool, stdout, stderr io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: fanzha check --image [--json] picture.png...")
	}
	reader, err := media.NewReader()
	if err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, f := range files {
		res, err := readPicture(reader, f)
		if err != nil {
			failed++
			if asJSON {
				if err := enc.Encode(checkResult{File: f, Error: pictureError(err)}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdout, "== %s\n%s\n\n", f, pictureError(err))
			}
			continue
		}
		v := kb.Check(scamcheck.PictureText(res))
		if asJSON {
			r := toResult(v)
			r.File, r.Read, r.QRs = f, &res.Text, res.QRs
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "== %s\n读到的文字：\n%s\n", f, res.Text)
		for _, q := range res.QRs {
			fmt.Fprintf(stdout, "二维码（%s）：%s\n", q.Kind.Label(), q.Text)
		}
		if res.NoOCR {
			fmt.Fprintln(stdout, "（没有安装 tesseract，只找了二维码）")
		}
		fmt.Fprintf(stdout, "判断：\n%s\n\n", v.Text())
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d pictures could not be read", failed, len(files))
	}
	return nil
}

func readPicture(r *media.Reader, file string) (*media.Result, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return r.Read(context.Background(), data)
}

// pictureError is what the sender would be told, or the error itself when
// it is not meant for a sender (a missing file).
func pictureError(err error) string {
	if bot.ErrorCode(err) == bot.EINTERNAL {
		return err.Error()
	}
	return bot.ErrorMessage(err)
}
