package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fanzha/bot"
)

// inboundTexts are what the residents send: half asked scam checks
// (answered, counted), half chat the bot stays out of.
var inboundTexts = []string{"这是诈骗吗 您好，我是淘宝客服，您购买的商品有质量问题，我们将为您办理三倍赔偿，请下载会议App开启屏幕共享",
	"今天下午三点小区停水，大家提前接点水"}

// benchInbound starts the bot with 50 playground groups and sends b.N
// messages from 32 residents at once through send (writer w, message i);
// it reports messages a second and synced commits per message.
func benchInbound(b *testing.B, send func(m *Main, base string, w int, i int64) error) {
	m, base, _ := runMain(b, b.TempDir())
	for g := range 50 {
		status, out := call(b, "POST", base+"/playground/groups", mustJSON(map[string]string{"id": fmt.Sprint("g", g), "name": fmt.Sprint("居民群", g)}))
		if status != http.StatusCreated {
			b.Fatalf("creating group: %d %v", status, out)
		}
	}
	var next atomic.Int64
	commits := m.DB.Commits()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := send(m, base, w, i); err != nil {
					b.Errorf("message %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(m.DB.Commits()-commits)/float64(b.N), "commits/msg")
}

// BenchmarkPlaygroundInbound posts messages through the playground's HTTP
// API, as residents of 50 groups would, 32 at a time. Every message is
// accepted into the inbox, handled and marked done durably before its
// answer returns.
func BenchmarkPlaygroundInbound(b *testing.B) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	benchInbound(b, func(_ *Main, base string, w int, i int64) error {
		body := mustJSON(map[string]any{"sender_id": fmt.Sprint("u", w), "sender_name": "居民", "text": inboundTexts[i%2],
			"msg_id": fmt.Sprint("m", i), "mention": false})
		req, _ := http.NewRequestWithContext(context.Background(), "POST", fmt.Sprintf("%s/playground/groups/g%d/messages", base, i%50), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// BenchmarkRouterInbound is BenchmarkPlaygroundInbound without HTTP: the
// same messages dispatched in the process through the playground channel,
// so that what the bot itself costs a message is seen apart from the HTTP
// server and client that share its two cores.
func BenchmarkRouterInbound(b *testing.B) {
	ctx := context.Background()
	benchInbound(b, func(m *Main, _ string, w int, i int64) error {
		msg := &bot.Message{Channel: "playground", GroupID: fmt.Sprint("g", i%50), GroupName: fmt.Sprint("居民群", i%50),
			SenderID: fmt.Sprint("u", w), SenderName: "居民", Text: inboundTexts[i%2], PlatformMsgID: fmt.Sprint("m", i), Time: time.Now()}
		return m.Router.Dispatch(ctx, m.Playground, msg)
	})
}
