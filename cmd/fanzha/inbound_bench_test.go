package main

import (
	"bytes"
	"context"
	"fanzha/bot"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPlaygroundInbound posts messages through the playground's HTTP
// API, as residents of 50 groups would, 32 at a time: half are asked scam
// checks (answered, counted), half are chat the bot stays out of. Every
// message is accepted into the inbox, handled and marked done durably
// before its answer returns. It reports messages a second and synced
// commits per message.
func BenchmarkPlaygroundInbound(b *testing.B) {
	m, base, _ := runMain(b, b.TempDir())
	for g := range 50 {
		status, out := call(b, "POST", base+"/playground/groups", mustJSON(map[string]string{"id": fmt.Sprint("g", g), "name": fmt.Sprint("居民群", g)}))
		if status != http.StatusCreated {
			b.Fatalf("creating group: %d %v", status, out)
		}
	}
	texts := []string{"这是诈骗吗 您好，我是淘宝客服，您购买的商品有质量问题，我们将为您办理三倍赔偿，请下载会议App开启屏幕共享",
		"今天下午三点小区停水，大家提前接点水"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
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
				body := mustJSON(map[string]any{"sender_id": fmt.Sprint("u", w), "sender_name": "居民", "text": texts[i%2],
					"msg_id": fmt.Sprint("m", i), "mention": false})
				req, _ := http.NewRequestWithContext(context.Background(), "POST", fmt.Sprintf("%s/playground/groups/g%d/messages", base, i%50), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("message %d: %d", i, resp.StatusCode)
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

// BenchmarkRouterInbound is BenchmarkPlaygroundInbound without HTTP: the
// same messages dispatched in the process through the playground channel,
// so that what the bot itself costs a message is seen apart from the HTTP
// server and client that share its two cores.
func BenchmarkRouterInbound(b *testing.B) {
	m, base, _ := runMain(b, b.TempDir())
	for g := range 50 {
		status, out := call(b, "POST", base+"/playground/groups", mustJSON(map[string]string{"id": fmt.Sprint("g", g), "name": fmt.Sprint("居民群", g)}))
		if status != http.StatusCreated {
			b.Fatalf("creating group: %d %v", status, out)
		}
	}
	texts := []string{"这是诈骗吗 您好，我是淘宝客服，您购买的商品有质量问题，我们将为您办理三倍赔偿，请下载会议App开启屏幕共享",
		"今天下午三点小区停水，大家提前接点水"}
	var next atomic.Int64
	commits := m.DB.Commits()
	ctx := context.Background()
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
				msg := &bot.Message{Channel: "playground", GroupID: fmt.Sprint("g", i%50), GroupName: fmt.Sprint("居民群", i%50),
					SenderID: fmt.Sprint("u", w), SenderName: "居民", Text: texts[i%2], PlatformMsgID: fmt.Sprint("m", i), Time: time.Now()}
				if err := m.Router.Dispatch(ctx, m.Playground, msg); err != nil {
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
