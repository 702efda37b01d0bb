package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fanzha/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsNeedNoFile(t *testing.T) {
	c, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./data" || c.Web.Addr != "127.0.0.1:8080" || c.Timezone != "Asia/Shanghai" || !c.Playground.Enabled {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFileThenEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fanzha.yaml")
	os.WriteFile(path, []byte("data_dir: /srv/fanzha\nweb:\n  addr: 0.0.0.0:9000\n"), 0o600)
	c, err := config.Load(path, env(map[string]string{"FANZHA_WEB_ADDR": "127.0.0.1:9100", "FANZHA_PLAYGROUND_ENABLED": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/fanzha" || c.Web.Addr != "127.0.0.1:9100" || c.Playground.Enabled {
		t.Fatalf("got %+v", c)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(s string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", n))
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	tests := []struct {
		file string
		env  map[string]string
		want string
	}{
		{file: write("timezone: Mars/Olympus\n"), want: "timezone"},
		{file: write("web:\n  addr: nonsense\n"), want: "web.addr"},
		{file: write("limits:\n  posts_per_group_per_minute: 60\n"), want: "posts_per_group_per_minute"},
		{file: write("log_level: loud\n"), want: "log_level"},
		{file: write("schedule:\n  quiet_hours: late\n"), want: "schedule.quiet_hours"},
		{file: write("quiz:\n  window_seconds: 1\n"), want: "quiz.window_seconds"},
		{file: write("campaign:\n  targets: {\"2026-03\": 180}\n"), want: "campaign.targets"},
		{file: write("campaign:\n  start: March\n"), want: "campaign.start"},
		{file: write("data_dri: x\n"), want: "data_dri"}, // a typo is not silently ignored
		{env: map[string]string{"FANZHA_PLAYGROUND_ENABLED": "ja"}, want: "FANZHA_PLAYGROUND_ENABLED"},
		{file: filepath.Join(dir, "missing.yaml"), want: "missing.yaml"},
		{env: map[string]string{"FANZHA_KNOWLEDGE_DIR": filepath.Join(dir, "nope")}, want: "knowledge_dir"},
		{env: map[string]string{"FANZHA_DINGTALK_CLIENT_ID": "ding123"}, want: "dingtalk.client_secret"},
		{env: map[string]string{"FANZHA_WECHAT_BOT_TOKEN": "tok", "FANZHA_WECHAT_BOT_AES_KEY": "short"}, want: "wechat.bot_aes_key"},
	}
	for _, tt := range tests {
		_, err := config.Load(tt.file, env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s, %v) = %v; want an error naming %q", tt.file, tt.env, err, tt.want)
		}
	}
}

func TestDemoAndLoopback(t *testing.T) {
	c := config.Default()
	if !c.Demo() || !c.Loopback() {
		t.Fatalf("the default config: demo %v, loopback %v; want both", c.Demo(), c.Loopback())
	}
	c.WeChat.BotToken = "t"
	c.Web.Addr = "0.0.0.0:8080"
	if c.Demo() || c.Loopback() {
		t.Fatalf("with WeCom on 0.0.0.0: demo %v, loopback %v; want neither", c.Demo(), c.Loopback())
	}
	for addr, want := range map[string]bool{"localhost:8080": true, "[::1]:80": true, "10.0.0.5:8080": false, ":8080": false} {
		c.Web.Addr = addr
		if c.Loopback() != want {
			t.Errorf("Loopback(%s) = %v", addr, !want)
		}
	}
}
