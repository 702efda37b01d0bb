// Package config loads fanzha's settings: built-in defaults, then an
// optional YAML file, then FANZHA_* environment variables, validated before
// anything starts. Secrets belong in the environment, never in the repo.
package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"fanzha/bot"
	"fanzha/report"
	"fanzha/schedule"
)

// Config is everything fanzha can be told.
type Config struct {
	// DataDir holds the SQLite database and the install secret.
	DataDir string `yaml:"data_dir"`
	// InstallKey, from FANZHA_INSTALL_KEY only (hex, at least 16 bytes),
	// replaces data_dir/install.key: replicas on one database must share
	// it, and it is a secret.
	InstallKey string `yaml:"-"`
	// Timezone is where schedules and weeks are reckoned.
	Timezone string `yaml:"timezone"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// KnowledgeDir holds the knowledge base's YAML files, reloaded when they
	// change; empty means the copy built into the binary.
	KnowledgeDir string `yaml:"knowledge_dir"`

	Database   Database   `yaml:"database"`
	Web        Web        `yaml:"web"`
	Playground Playground `yaml:"playground"`
	Limits     Limits     `yaml:"limits"`
	Schedule   Schedule   `yaml:"schedule"`
	Quiz       Quiz       `yaml:"quiz"`
	Campaign   Campaign   `yaml:"campaign"`
	Retention  Retention  `yaml:"retention"`
	Score      Score      `yaml:"score"`
	DingTalk   DingTalk   `yaml:"dingtalk"`
	WeChat     WeChat     `yaml:"wechat"`
}

// Database: empty URL keeps everything in one SQLite file in the data
// directory; a postgres:// URL puts it on a PostgreSQL server, which
// several fanzha replicas may share. Keep the password in
// FANZHA_DATABASE_URL, not in the file.
type Database struct {
	URL string `yaml:"url"`
	// MaxConns bounds the connections a replica opens for reading
	// (PostgreSQL only; writes use one more).
	MaxConns int `yaml:"max_conns"`
}

// WeChat switches on the WeCom channel: the 智能机器人 by callback URL
// (bot_token, bot_aes_key) or by long connection (bot_id, bot_secret; no
// public URL needed), appchat posting (corp_*), and the official account
// for 1:1 questions (oa_*). Secrets belong in FANZHA_WECHAT_* variables.
type WeChat struct {
	BotToken    string `yaml:"bot_token"`
	BotAESKey   string `yaml:"bot_aes_key"`
	BotID       string `yaml:"bot_id"`
	BotSecret   string `yaml:"bot_secret"`
	WSURL       string `yaml:"ws_url"` // default wss://openws.work.weixin.qq.com
	CorpID      string `yaml:"corp_id"`
	CorpSecret  string `yaml:"corp_secret"`
	AgentID     string `yaml:"agent_id"`
	OAAppID     string `yaml:"oa_app_id"`
	OAAppSecret string `yaml:"oa_app_secret"`
	OAToken     string `yaml:"oa_token"`
	OAAESKey    string `yaml:"oa_aes_key"`
}

// Enabled reports whether any part of the channel is configured.
func (w WeChat) Enabled() bool { return w.BotToken != "" || w.BotID != "" || w.OAToken != "" }

// DingTalk switches on the DingTalk channel. Keep the secret in the
// environment (FANZHA_DINGTALK_CLIENT_SECRET), not in the file.
type DingTalk struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	RobotCode    string `yaml:"robot_code"` // default: the client ID
	// CardTemplateID: quiz questions, 收到, 我承诺 and surveys as cards with
	// buttons, built on this template (README); empty: text only.
	CardTemplateID string `yaml:"card_template_id"`
	// APIHost replaces https://api.dingtalk.com for the stream gateway and
	// the APIs: a private (专属) DingTalk, or a test's fake.
	APIHost string `yaml:"api_host"`
}

// Enabled reports whether the channel is configured.
func (d DingTalk) Enabled() bool { return d.ClientID != "" || d.ClientSecret != "" }

// Demo reports whether no real channel is configured: the playground is
// all there is, and its groups may stand in for real ones on the admin
// pages.
func (c Config) Demo() bool { return !c.DingTalk.Enabled() && !c.WeChat.Enabled() }

// Loopback reports whether the web server listens on this machine only.
func (c Config) Loopback() bool {
	host, _, err := net.SplitHostPort(c.Web.Addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Campaign is the coverage plan reports measure against.
type Campaign struct {
	// Start ("2026-03-01") is when people reached start to count; empty
	// means since the bot started.
	Start string `yaml:"start"`
	// Targets are the coverage percentages due by the end of each month:
	// {"2026-03": 8, "2026-04": 25}.
	Targets map[string]float64 `yaml:"targets"`
}

// Schedule is about the weekly tips.
type Schedule struct {
	// QuietHours ("22:00-07:00") is when the bot posts nothing on its own;
	// tips due then wait until it ends. Empty: no quiet hours.
	QuietHours string `yaml:"quiet_hours"`
}

// Quiz is about quiz rounds.
type Quiz struct {
	WindowSeconds int `yaml:"window_seconds"` // how long each question takes answers
	Questions     int `yaml:"questions"`      // questions in a round unless the counsellor says
}

// Web is the HTTP server for the admin pages and the playground.
type Web struct {
	Addr string `yaml:"addr"`
	// PublicURL is where people reach the admin pages ("https://fanzha.example.gov.cn"),
	// for the link in scheduled reports; empty leaves the link out.
	PublicURL string `yaml:"public_url"`
	// SecureCookies marks login cookies Secure: set it when the site is
	// reached over HTTPS.
	SecureCookies bool `yaml:"secure_cookies"`
}

// Score is the monthly composite score's weights and thresholds, and when
// cases make a unit 必讲.
type Score struct {
	Coverage       float64 `yaml:"coverage"`
	Tips           float64 `yaml:"tips"`
	Quiz           float64 `yaml:"quiz"`
	Pledge         float64 `yaml:"pledge"`
	App            float64 `yaml:"app"`
	CasePenalty    float64 `yaml:"case_penalty"`
	MaxCasePenalty float64 `yaml:"max_case_penalty"`
	Threshold      float64 `yaml:"threshold"` // bottom three under it are named for 通报
	MustTeachLoss  int64   `yaml:"must_teach_loss"`
	MustTeachCases int     `yaml:"must_teach_cases"`
}

// ScoreWeights are the configured weights of the composite score.
func (c *Config) ScoreWeights() report.ScoreWeights {
	s := c.Score
	return report.ScoreWeights{Coverage: s.Coverage, Tips: s.Tips, Quiz: s.Quiz, Pledge: s.Pledge, App: s.App,
		CasePenalty: s.CasePenalty, MaxCasePenalty: s.MaxCasePenalty, Threshold: s.Threshold}
}

// MustTeach is when cases make a unit 必讲.
func (c *Config) MustTeach() bot.MustTeachRule {
	return bot.MustTeachRule{MinLoss: c.Score.MustTeachLoss, MinCases: c.Score.MustTeachCases}
}

// Retention is how many days data kept only for a feature lives.
type Retention struct {
	PlaygroundDays int `yaml:"playground_days"` // the playground's simulated chats
	SamplesDays    int `yaml:"samples_days"`    // checked messages groups agreed to share
	PostTextDays   int `yaml:"post_text_days"`  // texts of sent posts (quiz results name people)
	ReportDays     int `yaml:"report_days"`     // the text of residents' 举报 (the reported numbers and links stay until unlisted)
}

// Playground is the simulated channel.
type Playground struct {
	Enabled bool `yaml:"enabled"`
}

// Limits bound what the bot sends.
type Limits struct {
	// PostsPerGroupPerMinute is the per-group robot limit of the platforms.
	PostsPerGroupPerMinute int `yaml:"posts_per_group_per_minute"`
	// PostsPerSecond bounds posts over all groups of one channel.
	PostsPerSecond float64 `yaml:"posts_per_second"`
}

// Default returns the configuration that runs with no file and no
// environment: a database in ./data and the playground on localhost.
func Default() Config {
	return Config{
		DataDir:    "./data",
		Timezone:   "Asia/Shanghai",
		LogLevel:   "info",
		Web:        Web{Addr: "127.0.0.1:8080"},
		Playground: Playground{Enabled: true},
		Limits:     Limits{PostsPerGroupPerMinute: 20, PostsPerSecond: 50},
		Schedule:   Schedule{QuietHours: "22:00-07:00"},
		Quiz:       Quiz{WindowSeconds: 60, Questions: 5},
		Retention:  Retention{PlaygroundDays: 7, SamplesDays: 90, PostTextDays: 30, ReportDays: 90},
		Score: Score{Coverage: report.DefaultScoreWeights.Coverage, Tips: report.DefaultScoreWeights.Tips, Quiz: report.DefaultScoreWeights.Quiz,
			Pledge: report.DefaultScoreWeights.Pledge, App: report.DefaultScoreWeights.App, CasePenalty: report.DefaultScoreWeights.CasePenalty,
			MaxCasePenalty: report.DefaultScoreWeights.MaxCasePenalty, Threshold: report.DefaultScoreWeights.Threshold,
			MustTeachLoss: bot.DefaultMustTeach.MinLoss, MustTeachCases: bot.DefaultMustTeach.MinCases},
	}
}

// Load returns the defaults overlaid with the YAML file at path (if path is
// not empty) and then the environment, validated.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file sets nothing
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if env == nil {
		env = os.LookupEnv
	}
	if err := c.applyEnv(env); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// applyEnv overrides fields from FANZHA_* variables.
func (c *Config) applyEnv(env func(string) (string, bool)) error {
	str := map[string]*string{
		"FANZHA_DATA_DIR":                  &c.DataDir,
		"FANZHA_DATABASE_URL":              &c.Database.URL,
		"FANZHA_INSTALL_KEY":               &c.InstallKey,
		"FANZHA_TIMEZONE":                  &c.Timezone,
		"FANZHA_LOG_LEVEL":                 &c.LogLevel,
		"FANZHA_WEB_ADDR":                  &c.Web.Addr,
		"FANZHA_WEB_PUBLIC_URL":            &c.Web.PublicURL,
		"FANZHA_KNOWLEDGE_DIR":             &c.KnowledgeDir,
		"FANZHA_SCHEDULE_QUIET_HOURS":      &c.Schedule.QuietHours,
		"FANZHA_DINGTALK_CLIENT_ID":        &c.DingTalk.ClientID,
		"FANZHA_DINGTALK_CLIENT_SECRET":    &c.DingTalk.ClientSecret,
		"FANZHA_DINGTALK_ROBOT_CODE":       &c.DingTalk.RobotCode,
		"FANZHA_DINGTALK_CARD_TEMPLATE_ID": &c.DingTalk.CardTemplateID,
		"FANZHA_DINGTALK_API_HOST":         &c.DingTalk.APIHost,
		"FANZHA_WECHAT_BOT_TOKEN":          &c.WeChat.BotToken,
		"FANZHA_WECHAT_BOT_AES_KEY":        &c.WeChat.BotAESKey,
		"FANZHA_WECHAT_BOT_ID":             &c.WeChat.BotID,
		"FANZHA_WECHAT_BOT_SECRET":         &c.WeChat.BotSecret,
		"FANZHA_WECHAT_WS_URL":             &c.WeChat.WSURL,
		"FANZHA_WECHAT_CORP_ID":            &c.WeChat.CorpID,
		"FANZHA_WECHAT_CORP_SECRET":        &c.WeChat.CorpSecret,
		"FANZHA_WECHAT_AGENT_ID":           &c.WeChat.AgentID,
		"FANZHA_WECHAT_OA_APP_ID":          &c.WeChat.OAAppID,
		"FANZHA_WECHAT_OA_APP_SECRET":      &c.WeChat.OAAppSecret,
		"FANZHA_WECHAT_OA_TOKEN":           &c.WeChat.OAToken,
		"FANZHA_WECHAT_OA_AES_KEY":         &c.WeChat.OAAESKey,
	}
	for k, p := range str {
		if v, ok := env(k); ok {
			*p = v
		}
	}
	if v, ok := env("FANZHA_PLAYGROUND_ENABLED"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: FANZHA_PLAYGROUND_ENABLED: %q is not true or false", v)
		}
		c.Playground.Enabled = b
	}
	if v, ok := env("FANZHA_LIMITS_POSTS_PER_GROUP_PER_MINUTE"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: FANZHA_LIMITS_POSTS_PER_GROUP_PER_MINUTE: %q is not a number", v)
		}
		c.Limits.PostsPerGroupPerMinute = n
	}
	if v, ok := env("FANZHA_LIMITS_POSTS_PER_SECOND"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("config: FANZHA_LIMITS_POSTS_PER_SECOND: %q is not a number", v)
		}
		c.Limits.PostsPerSecond = f
	}
	return nil
}

// Validate checks every field and names the first one that is wrong.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return fmt.Errorf("config: data_dir must not be empty")
	}
	if u := c.Database.URL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return fmt.Errorf("config: database.url: must start with postgres:// (leave it empty for the SQLite file in data_dir)")
	}
	if h := c.DingTalk.APIHost; h != "" {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("config: dingtalk.api_host: %q must be an http(s) address like https://api.dingtalk.com", h)
		}
	}
	if c.Database.MaxConns < 0 || c.Database.MaxConns > 1000 {
		return fmt.Errorf("config: database.max_conns: %d must be between 1 and 1000 (0: the default, 8)", c.Database.MaxConns)
	}
	if k := c.InstallKey; k != "" {
		if b, err := hex.DecodeString(k); err != nil || len(b) < 16 {
			return fmt.Errorf("config: FANZHA_INSTALL_KEY must be at least 32 hexadecimal digits")
		}
	}
	if c.KnowledgeDir != "" {
		if st, err := os.Stat(c.KnowledgeDir); err != nil || !st.IsDir() {
			return fmt.Errorf("config: knowledge_dir: %q is not a directory", c.KnowledgeDir)
		}
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("config: timezone: %q is not a known time zone", c.Timezone)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level: %q must be debug, info, warn or error", c.LogLevel)
	}
	if _, _, err := net.SplitHostPort(c.Web.Addr); err != nil {
		return fmt.Errorf("config: web.addr: %q is not host:port", c.Web.Addr)
	}
	if c.Limits.PostsPerGroupPerMinute < 1 || c.Limits.PostsPerGroupPerMinute > 20 {
		return fmt.Errorf("config: limits.posts_per_group_per_minute: %d must be between 1 and 20 (the platforms allow 20)", c.Limits.PostsPerGroupPerMinute)
	}
	if _, err := schedule.ParseQuiet(c.Schedule.QuietHours); err != nil {
		return fmt.Errorf("config: schedule.quiet_hours: %q must look like 22:00-07:00", c.Schedule.QuietHours)
	}
	if c.Quiz.WindowSeconds < 10 || c.Quiz.WindowSeconds > 600 {
		return fmt.Errorf("config: quiz.window_seconds: %d must be between 10 and 600", c.Quiz.WindowSeconds)
	}
	for name, v := range map[string]float64{"coverage": c.Score.Coverage, "tips": c.Score.Tips, "quiz": c.Score.Quiz, "pledge": c.Score.Pledge,
		"app": c.Score.App, "case_penalty": c.Score.CasePenalty, "max_case_penalty": c.Score.MaxCasePenalty, "threshold": c.Score.Threshold} {
		if v < 0 || v > 100 {
			return fmt.Errorf("config: score.%s: %g must be between 0 and 100", name, v)
		}
	}
	if c.Score.Coverage+c.Score.Tips+c.Score.Quiz+c.Score.Pledge+c.Score.App <= 0 {
		return fmt.Errorf("config: score: at least one weight must be above 0")
	}
	if c.Score.MustTeachLoss < 0 || c.Score.MustTeachCases < 0 {
		return fmt.Errorf("config: score: must_teach_loss and must_teach_cases cannot be negative")
	}
	for name, d := range map[string]int{"playground_days": c.Retention.PlaygroundDays, "samples_days": c.Retention.SamplesDays, "post_text_days": c.Retention.PostTextDays,
		"report_days": c.Retention.ReportDays} {
		if d < 1 || d > 3650 {
			return fmt.Errorf("config: retention.%s: %d must be between 1 and 3650", name, d)
		}
	}
	if c.Quiz.Questions < 1 || c.Quiz.Questions > bot.MaxQuizQuestions {
		return fmt.Errorf("config: quiz.questions: %d must be between 1 and %d", c.Quiz.Questions, bot.MaxQuizQuestions)
	}
	if c.Campaign.Start != "" {
		if _, err := time.Parse("2006-01-02", c.Campaign.Start); err != nil {
			return fmt.Errorf("config: campaign.start: %q must be a date like 2026-03-01", c.Campaign.Start)
		}
	}
	for month, pct := range c.Campaign.Targets {
		if _, err := time.Parse("2006-01", month); err != nil {
			return fmt.Errorf("config: campaign.targets: %q must be a month like 2026-03", month)
		}
		if pct <= 0 || pct > 100 {
			return fmt.Errorf("config: campaign.targets: %s: %v must be a percentage from 0 to 100", month, pct)
		}
	}
	if c.DingTalk.Enabled() {
		if c.DingTalk.ClientID == "" {
			return fmt.Errorf("config: dingtalk.client_id is empty but dingtalk.client_secret is set")
		}
		if c.DingTalk.ClientSecret == "" {
			return fmt.Errorf("config: dingtalk.client_secret is empty (set FANZHA_DINGTALK_CLIENT_SECRET)")
		}
	}
	if c.WeChat.BotToken != "" && len(c.WeChat.BotAESKey) != 43 {
		return fmt.Errorf("config: wechat.bot_aes_key must be the 43-character EncodingAESKey of the 智能机器人")
	}
	if c.WeChat.BotToken != "" && c.WeChat.BotID != "" {
		return fmt.Errorf("config: wechat.bot_token (callback URL) and wechat.bot_id (long connection) exclude each other: WeCom runs a 智能机器人 one way or the other")
	}
	if (c.WeChat.BotID == "") != (c.WeChat.BotSecret == "") {
		return fmt.Errorf("config: wechat.bot_id and wechat.bot_secret go together (the 智能机器人's long connection)")
	}
	if u := c.WeChat.WSURL; u != "" && !strings.HasPrefix(u, "wss://") && !strings.HasPrefix(u, "ws://127.0.0.1") && !strings.HasPrefix(u, "ws://localhost") {
		return fmt.Errorf("config: wechat.ws_url %q must be a wss:// address", u)
	}
	if (c.WeChat.CorpID == "") != (c.WeChat.CorpSecret == "") {
		return fmt.Errorf("config: wechat.corp_id and wechat.corp_secret go together (appchat posting)")
	}
	if c.Limits.PostsPerSecond < 0 {
		return fmt.Errorf("config: limits.posts_per_second: %v must not be negative", c.Limits.PostsPerSecond)
	}
	return nil
}

// Location returns the configured time zone; Validate has checked it.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
