package bot_test

import (
	"context"
	"testing"
	"time"

	"fanzha/bot"
)

func TestThrottleHoldsBackOneGroupOnly(t *testing.T) {
	rec := &recorder{}
	ch := bot.Throttle(rec, 20, 0) // 20 a minute: a burst of 5, then one every 3 s
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := ch.Post(ctx, "g1", bot.Post{Text: "tip"}); err != nil {
			t.Fatal(err)
		}
	}
	// The limiter knows at once that the sixth post needs ~3 s; with less
	// time than that it refuses instead of sending over the limit.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := ch.Post(short, "g1", bot.Post{Text: "tip"}); err == nil {
		t.Fatal("sixth post in a burst went out at once; the per-group limit is not applied")
	}
	if err := ch.Post(short, "g2", bot.Post{Text: "tip"}); err != nil {
		t.Fatalf("another group was held back too: %v", err)
	}
	if len(rec.posts) != 6 {
		t.Fatalf("posts sent = %d; want 6", len(rec.posts))
	}
}
