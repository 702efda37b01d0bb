// Package download reads the pictures platforms link to, bounded in bytes,
// with the answers the channels give the sender when a picture is gone or
// too large.
package download

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"fanzha/bot"
)

// Gone is the answer for a picture the platform no longer has.
func Gone() error { return bot.Errorf(bot.ENOTFOUND, "图片已经过期，请重新发送。") }

// TooLarge refuses a picture over limit bytes, said in whole megabytes.
func TooLarge(limit int64) error {
	return bot.Errorf(bot.ETOOLARGE, "图片太大了（超过 %d MB），请截取可疑的那一部分再发。", max(1, limit>>20))
}

// Bounded GETs url with client and returns at most limit bytes of it. A
// body that is or says it is larger is refused with TooLarge(picture) without
// reading the rest (limit may exceed max by what the platform adds, such
// as cipher padding); HTTP 404 and 410 are Gone. what names the platform
// in other errors.
func Bounded(ctx context.Context, client *http.Client, url, what string, limit, picture int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: picture link: %w", what, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: downloading a picture: %w", what, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, Gone()
	case resp.StatusCode != http.StatusOK:
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%s: downloading a picture: HTTP %d %s", what, resp.StatusCode, bytes.TrimSpace(snippet))
	case resp.ContentLength > limit:
		return nil, TooLarge(picture)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: downloading a picture: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, TooLarge(picture) // the rest is never read
	}
	return b, nil
}
