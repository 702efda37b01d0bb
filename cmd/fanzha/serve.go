package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fanzha/bot"
	"fanzha/channels/dingtalk"
	"fanzha/channels/playground"
	"fanzha/channels/wechat"
	"fanzha/config"
	"fanzha/handlers/autoreport"
	"fanzha/handlers/binding"
	"fanzha/handlers/campaign"
	"fanzha/handlers/help"
	"fanzha/handlers/prize"
	"fanzha/handlers/quiz"
	"fanzha/handlers/scamcheck"
	"fanzha/handlers/stats"
	"fanzha/handlers/tips"
	"fanzha/knowledge"
	"fanzha/media"
	"fanzha/report"
	"fanzha/schedule"
	"fanzha/store"
	"fanzha/web"
)

// Main is the running program: everything serve wires together. Tests run
// it in a temporary directory the same way main does.
type Main struct {
	ConfigPath string
	Config     config.Config
	Logger     *slog.Logger

	DB         *store.DB
	Knowledge  *knowledge.Base
	Router     *bot.Router
	Sender     *bot.Sender
	Planner    *tips.Planner
	Quiz       *quiz.Quiz
	Campaigns  *campaign.Planner
	Editor     *knowledge.Editor
	Prizes     *prize.Drawer
	Reporter   *autoreport.Reporter
	Playground *playground.Channel
	Images     *media.Pool
	Reads      *bot.ReadCollector
	HTTP       *http.Server
	// Addr is where the web server listens, known once Run returns.
	Addr string
	// Now is the clock of schedules, quiz windows and messages.
	Now func() time.Time
	// ManualTicks stops the background loop; tests call Tick themselves.
	ManualTicks bool
	sched       *bot.Scheduler

	// replicaID names this process among replicas on one database (host,
	// pid and a random part), as the holder of its leases.
	replicaID string
	// knowledgeRev is the published knowledge revision this replica runs.
	knowledgeRev atomic.Int64
	// replicas is how many replicas shared the send limits at the last
	// count (the scheduler's goroutine only).
	replicas int

	logOut io.Writer
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewMain returns a Main with the default configuration logging to logOut.
func NewMain(logOut io.Writer) *Main {
	cfg := config.Default()
	return &Main{Config: cfg, logOut: logOut, Logger: newLogger(logOut, cfg.LogLevel), Now: time.Now}
}

// ParseFlags reads the command line and loads the configuration it names.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("fanzha", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	fs.StringVar(&m.ConfigPath, "config", os.Getenv("FANZHA_CONFIG"), "YAML configuration file (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(m.ConfigPath, nil)
	if err != nil {
		return err
	}
	m.Config = cfg
	m.Logger = newLogger(m.logOut, cfg.LogLevel)
	return nil
}

// openDB opens and migrates the database in the data directory.
func (m *Main) openDB(ctx context.Context) error {
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	secret, err := installSecret(filepath.Join(m.Config.DataDir, "install.key"), m.Config.InstallKey)
	if err != nil {
		return err
	}
	where := filepath.Join(m.Config.DataDir, "fanzha.db")
	if m.Config.Database.URL != "" {
		where = m.Config.Database.URL
	}
	db, err := store.Open(where, secret)
	if err != nil {
		return err
	}
	db.SetMaxConns(m.Config.Database.MaxConns)
	m.DB = db
	host, _ := os.Hostname()
	var tag [4]byte
	rand.Read(tag[:])
	m.replicaID = fmt.Sprintf("%s-%d-%x", host, os.Getpid(), tag)
	db.Now = m.Now
	day := 24 * time.Hour
	r := m.Config.Retention
	db.Retention = store.Retention{Playground: time.Duration(r.PlaygroundDays) * day, Samples: time.Duration(r.SamplesDays) * day,
		PostTexts: time.Duration(r.PostTextDays) * day, Reports: time.Duration(r.ReportDays) * day}
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		m.Logger.Info("database migrated", "applied", n)
	}
	if err := db.CheckSecret(ctx); err != nil {
		return err
	}
	if db.Postgres() {
		// Replicas keep one set of roll-ups: one with another time zone
		// or campaign start would rebuild them under the others.
		same, err := db.RollupsKeptFor(ctx, m.Config.Location(), m.campaign().Start)
		if err != nil {
			return err
		}
		if live, err := db.Leases().Live(ctx, "replica:", m.Now()); err != nil {
			return err
		} else if !same && live > 0 {
			return fmt.Errorf("%d other replica(s) on this database keep the figures with another timezone or campaign.start; give every replica the same configuration, or stop them all to change it", live)
		}
	}
	// Reports read roll-ups kept in their time zone and, for reach since
	// the campaign began, from its start; a new zone or start rebuilds
	// them once.
	if rebuilt, err := db.SetRollupZone(ctx, m.Config.Location()); err != nil {
		return err
	} else if rebuilt {
		m.Logger.Info("group roll-ups built", "zone", m.Config.Location().String())
	}
	if rebuilt, err := db.SetReachEpoch(ctx, m.campaign().Start); err != nil {
		return err
	} else if rebuilt {
		m.Logger.Info("reach roll-up rebuilt from the campaign's start", "start", m.Config.Campaign.Start)
	}
	return nil
}

// installSecret reads the per-install key that pseudonymises member IDs,
// creating it on first start. Losing it splits every member in two, so it
// lives beside the database and is never regenerated if present.
func installSecret(path, fromEnv string) ([]byte, error) {
	if fromEnv != "" {
		return hex.DecodeString(fromEnv) // checked by config.Validate
	}
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("install key %s is damaged; restore it from backup", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing install key: %w", err)
	}
	return key, nil
}

// buildRouter registers every feature and the middleware all messages pass.
func (m *Main) buildRouter() (*bot.Router, error) {
	loc := m.Config.Location()
	quiet, err := schedule.ParseQuiet(m.Config.Schedule.QuietHours)
	if err != nil {
		return nil, err
	}
	m.Planner = &tips.Planner{Groups: m.DB.Groups(), Outbox: m.DB.Outbox(), Content: m.Knowledge.Content, Loc: loc, Quiet: quiet,
		Priority: m.mustTeach}
	m.Quiz = &quiz.Quiz{Store: m.DB.Quiz(), Groups: m.DB.Groups(), Quiet: quiet, Content: m.Knowledge.Content, Now: m.Now, Loc: loc,
		Window: time.Duration(m.Config.Quiz.WindowSeconds) * time.Second, Questions: m.Config.Quiz.Questions, Stale: staleRound}
	m.Prizes = &prize.Drawer{Prizes: m.DB.Prizes(), Groups: m.DB.Groups(), Units: m.DB.Stats(), Quiz: m.DB.Quiz(), Quiet: quiet, Loc: loc}
	m.Reporter = &autoreport.Reporter{Reports: m.DB.Cases(), Groups: m.DB.Groups(), Stats: m.DB.Stats(), Cases: m.DB.Cases(), Outbox: m.DB.Outbox(),
		Campaign: m.campaign, KindName: m.Knowledge.TypeName, Loc: loc, BaseURL: m.Config.Web.PublicURL, Now: m.Now}
	m.Campaigns = &campaign.Planner{Campaigns: m.DB.Campaigns(), Groups: m.DB.Groups(), Units: m.DB.Stats(), Outbox: m.DB.Outbox(), Quiet: quiet, Loc: loc}
	r := bot.NewRouter(m.Logger)
	r.UseStandard(m.DB.Stores())
	binding.RegisterWith(r, &binding.Binding{Groups: m.DB.Groups(), Counsellors: m.DB.Accounts(), Sandbox: playground.Name})
	quiz.Register(r, m.Quiz)                                                                                // before the scam check, so "A" is an answer
	campaign.Register(r, &campaign.Answers{Campaigns: m.DB.Campaigns(), Outbox: m.DB.Outbox(), Now: m.Now}) // so is "已安装"
	scamcheck.Register(r, scamcheck.Deps{KB: m.Knowledge, Groups: m.DB.Groups(), Events: m.DB.Events(), Samples: m.DB.Events(), Now: m.Now,
		Crowd: m.DB.Crowd(), History: m.DB.Events(), Images: m.imageReader()})
	tips.Register(r, &tips.Commands{Planner: m.Planner, Now: m.Now})
	autoreport.Register(r, m.Reporter)
	stats.Register(r, &stats.Stats{Groups: m.DB.Groups(), Accounts: m.DB.Accounts(), Now: m.Now, Loc: loc,
		Week: func(ctx context.Context, scope report.Scope, ws time.Time) (*report.Report, error) {
			return report.Week(ctx, report.Source{Groups: m.DB.Groups(), Stats: m.DB.Stats()}, scope, ws, m.campaign())
		}})
	help.Register(r) // last: its help text lists everything registered before
	return r, nil
}

// HTTP limits: a client that sends its request slowly, or never reads the
// answer, does not hold a connection for long; no route takes a body
// larger than maxRequestBody (callbacks and forms are a few kilobytes).
const (
	readTimeout    = 30 * time.Second
	writeTimeout   = 2 * time.Minute // the largest export of a district
	idleTimeout    = 2 * time.Minute
	maxRequestBody = 1 << 20
)

// imageQueue bounds the pictures waiting to be read; beyond it senders are
// asked to try again in a minute or two.
const imageQueue = 32

// maxPictureBody bounds a playground message, which may carry pictures.
const maxPictureBody = 16 << 20

// limitBodies refuses bodies over maxRequestBody, and over maxPictureBody
// for playground messages.
func limitBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int64(maxRequestBody)
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/playground/") && strings.HasSuffix(r.URL.Path, "/messages") {
			n = maxPictureBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}

// imageReader is the picture pool, or nil (pictures answered with a
// request for the text) when none was started.
func (m *Main) imageReader() scamcheck.ImageReader {
	if m.Images == nil {
		return nil
	}
	return m.Images
}

// staleRound: a quiz round whose open question closed longer ago than this
// (the bot was down) is ended with its scores rather than resumed.
const staleRound = 10 * time.Minute

// Intervals of the scheduled work; the quiz and the sender run every tick.
const (
	tickEvery  = time.Second
	planEvery  = 30 * time.Second // plan tip slots, start scheduled quizzes
	pruneEvery = time.Hour        // forget old message IDs and sessions
	readEvery  = 10 * time.Minute // ask DingTalk who read the campaign posts
)

// scheduler is the scheduled work, in the order it runs each tick.
func (m *Main) scheduler() *bot.Scheduler {
	s := &bot.Scheduler{Logger: m.Logger, Interval: tickEvery, Jobs: []*bot.Job{
		{Name: "planning tips", Every: planEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := m.Planner.Tick(ctx, now)
			return err
		}},
		{Name: "planning campaigns", Every: planEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := m.Campaigns.Tick(ctx, now)
			return err
		}},
		{Name: "prize draws", Every: planEvery, Run: m.Prizes.Tick},
		{Name: "scheduled reports", Every: planEvery, Run: m.Reporter.Tick},
		{Name: "starting scheduled quizzes", Every: planEvery, Run: func(ctx context.Context, now time.Time) error {
			return m.Quiz.TickSchedule(ctx, now, m.DB.Groups())
		}},
		{Name: "pruning", Every: pruneEvery, Run: func(ctx context.Context, now time.Time) error {
			n, err := m.DB.Prune(ctx)
			if n > 0 {
				m.Logger.Info("pruned old message IDs and sessions", "rows", n)
			}
			return err
		}},
		{Name: "read receipts", Every: readEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := m.Reads.Tick(ctx, now)
			return err
		}},
		{Name: "quiz", Run: m.Quiz.Tick},
		{Name: "sending posts", Everywhere: true, Run: func(ctx context.Context, now time.Time) error {
			_, err := m.Sender.Tick(ctx, now)
			return err
		}},
	}}
	if m.DB.Postgres() {
		// Replicas may share the database: planning, quiz timers, draws
		// and reports run on the one replica holding each job's lease;
		// every replica sends, claiming post by post. What a dead replica
		// held comes back when its claims lapse.
		s.Leases, s.Holder = m.DB.Leases(), m.replicaID
		s.Jobs = append(s.Jobs,
			&bot.Job{Name: "recovering the outbox", Every: time.Minute, Run: m.Sender.Recover},
			&bot.Job{Name: "sharing the send limits", Every: replicaEvery, Everywhere: true, Run: m.shareLimits},
			&bot.Job{Name: "installing published knowledge", Every: knowledgeEvery, Everywhere: true, Run: m.installPublishedKnowledge},
			&bot.Job{Name: "replaying unfinished messages", Every: time.Minute, Run: func(ctx context.Context, now time.Time) error {
				for _, ch := range m.Sender.Channels {
					if _, err := m.Router.Replay(ctx, ch, m.DB.Inbox()); err != nil {
						return err
					}
				}
				return nil
			}})
	}
	return s
}

// Every replicaEvery a replica renews its presence (a lease that lapses
// after replicaTTL) and counts the others, to take its share of the
// platforms' send limits.
const (
	replicaEvery = 10 * time.Second
	replicaTTL   = 30 * time.Second
)

// shareLimits divides the send limits by the replicas present.
func (m *Main) shareLimits(ctx context.Context, now time.Time) error {
	leases := m.DB.Leases()
	if _, err := leases.Lease(ctx, "replica:"+m.replicaID, m.replicaID, replicaTTL, now); err != nil {
		return err
	}
	n, err := leases.Live(ctx, "replica:", now)
	if err != nil {
		return err
	}
	if n != m.replicas {
		m.Logger.Info("send limits shared among replicas", "replicas", n)
		m.replicas = n
	}
	m.Sender.Limits.Share(n, now)
	return nil
}

// knowledgeEvery is how often a replica looks for knowledge another one
// published.
const knowledgeEvery = 5 * time.Second

// installPublishedKnowledge installs the knowledge another replica
// published, if it is newer than what this one runs. Knowledge that does
// not load is logged and skipped; the current stays.
func (m *Main) installPublishedKnowledge(ctx context.Context, _ time.Time) error {
	rev, files, by, err := m.DB.PublishedKnowledge(ctx, m.knowledgeRev.Load())
	if err != nil || rev == 0 {
		return err
	}
	m.knowledgeRev.Store(rev)
	if by == m.replicaID {
		return nil
	}
	if err := m.Editor.Install(files); err != nil {
		m.Logger.Error("knowledge published by another replica not installed", "revision", rev, "by", by, "err", err)
		return nil
	}
	m.Logger.Info("installed knowledge published by another replica", "revision", rev, "by", by)
	return nil
}

// Tick does the scheduled work due at now: plans tips, moves quiz rounds
// on, and sends what the outbox owes. The background loop calls it every
// second; tests call it with their own clock.
func (m *Main) Tick(ctx context.Context, now time.Time) error { return m.sched.Tick(ctx, now) }

// Run opens the database, starts every configured channel and the web
// server, and returns once they are running.
func (m *Main) Run(ctx context.Context) error {
	if err := m.openDB(ctx); err != nil {
		return err
	}
	// Edits from the web live in the data folder's copy of the knowledge,
	// made at the first edit; a configured knowledge_dir is edited in place.
	kdir := m.Config.KnowledgeDir
	edited := filepath.Join(m.Config.DataDir, "knowledge")
	if kdir == "" {
		if entries, err := os.ReadDir(edited); err == nil && len(entries) > 0 {
			kdir = edited
		}
	}
	kb, err := knowledge.Open(kdir, m.Logger)
	if err != nil {
		return fmt.Errorf("knowledge base: %w", err)
	}
	m.Knowledge = kb
	m.Editor = &knowledge.Editor{Base: kb, Dir: edited, History: filepath.Join(m.Config.DataDir, "knowledge-history"), Now: m.Now}
	if m.Config.KnowledgeDir != "" {
		m.Editor.Dir = m.Config.KnowledgeDir
	}
	if m.DB.Postgres() {
		// Replicas share what admins edit: an edit is published in the
		// database and every other replica installs it within seconds.
		m.Editor.Changed = func(files map[string][]byte) error {
			rev, err := m.DB.PublishKnowledge(context.Background(), files, m.replicaID)
			if err == nil {
				m.knowledgeRev.Store(rev)
			}
			return err
		}
		if err := m.installPublishedKnowledge(ctx, time.Time{}); err != nil {
			return err
		}
	}
	reader, err := media.NewReader()
	if err != nil {
		m.Logger.Warn("pictures cannot be read: they are answered with a request for the text", "why", err)
	}
	m.Images = media.NewPool(reader, 0, imageQueue)
	if m.Router, err = m.buildRouter(); err != nil {
		return err
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.reloadKnowledge(ctx)
	}()
	mounts := map[string]http.Handler{}
	channels := map[string]bot.Channel{}

	if m.Config.Playground.Enabled {
		m.Playground = playground.New(m.DB.Transcript(), m.DB.Groups(), m.Logger)
		m.Playground.Now = m.Now
		if err := m.startChannel(ctx, m.Playground, channels); err != nil {
			return err
		}
		mounts["/playground/"] = m.Playground.Handler()
		if !m.Config.Loopback() {
			// Reachable from other machines: only behind an admin login.
			mounts["/playground/"] = web.LoginRequired(m.DB.Accounts(), mounts["/playground/"])
			m.Logger.Info("playground channel on, behind admin login (web.addr is not loopback)")
		} else {
			m.Logger.Info("playground channel on")
		}
	} else {
		m.Logger.Info("playground channel off")
	}

	if err := m.startDingTalk(ctx, channels); err != nil {
		return err
	}
	if err := m.startWeChat(ctx, channels, mounts); err != nil {
		return err
	}

	quiet := m.Planner.Quiet
	loc := m.Config.Location()
	m.Sender = &bot.Sender{
		Outbox: m.DB.Outbox(), Channels: channels, Logger: m.Logger, Replicas: m.DB.Postgres(),
		Limits: bot.NewPostLimiter(m.Config.Limits.PostsPerGroupPerMinute, m.Config.Limits.PostsPerSecond),
		// Tips wait out the quiet hours; a quiz someone started goes on.
		Hold: func(p *bot.OutboxPost, now time.Time) bool {
			return (p.Kind == tips.KindTip || p.Kind == tips.KindTipExtra) && quiet.At(now.In(loc))
		},
	}
	if err := m.Sender.Recover(ctx, m.Now()); err != nil {
		return fmt.Errorf("recovering the outbox: %w", err)
	}
	m.Reads = &bot.ReadCollector{Store: m.DB.Outbox(), Outbox: m.DB.Outbox(), Channels: channels, Logger: m.Logger}
	m.sched = m.scheduler()
	if !m.ManualTicks {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.sched.Run(ctx, m.Now)
		}()
	}

	srv := &web.Server{Ping: m.DB.Ping, Groups: m.DB.Groups(), Stats: m.DB.Stats(), Units: m.DB.Stats(), Outbox: m.DB.Outbox(), Accounts: m.DB.Accounts(), Events: m.DB.Events(),
		Campaigns: m.DB.Campaigns(), Tokens: m.DB.Accounts(), Review: m.DB.Crowd(), Prizes: m.DB.Prizes(), Cases: m.DB.Cases(), Reports: m.DB.Cases(), MustTeach: m.Config.MustTeach(), Weights: m.Config.ScoreWeights(), Editor: m.Editor, PlanCampaigns: func(ctx context.Context) error { _, err := m.Campaigns.Tick(ctx, m.Now()); return err },
		Knowledge: m.Knowledge, Loc: loc, Campaign: m.campaign(), Logger: m.Logger, Now: m.Now,
		RecallCampaign: func(ctx context.Context, id int64) (int, error) { return m.Reads.Recall(ctx, id, m.Now()) },
		SecureCookies:  m.Config.Web.SecureCookies, OpenGroupsAPI: m.Config.Playground.Enabled && m.Config.Demo() && m.Config.Loopback(), LoopbackOnly: m.Config.Loopback(), Mounts: mounts}
	ln, err := net.Listen("tcp", m.Config.Web.Addr)
	if err != nil {
		return fmt.Errorf("web server: %w", err)
	}
	m.Addr = ln.Addr().String()
	m.HTTP = &http.Server{Handler: limitBodies(srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.HTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("web server stopped", "err", err)
		}
	}()
	m.Logger.Info("fanzha running", "version", version, "web", "http://"+m.Addr+"/", "data_dir", m.Config.DataDir,
		"database", m.DB.Where(), "replica", m.replicaID)
	return nil
}

// startChannel handles the messages of ch that an earlier process accepted
// but did not finish, then starts ch receiving, and adds it to channels
// for the outbox.
func (m *Main) startChannel(ctx context.Context, ch bot.Channel, channels map[string]bot.Channel) error {
	channels[ch.Name()] = ch
	if n, err := m.Router.Replay(ctx, ch, m.DB.Inbox()); err != nil {
		return fmt.Errorf("replaying %s messages: %w", ch.Name(), err)
	} else if n > 0 {
		m.Logger.Info("replayed unfinished messages", "channel", ch.Name(), "count", n)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := ch.Start(ctx, m.Router); err != nil {
			m.Logger.Error("channel stopped", "channel", ch.Name(), "err", err)
		}
	}()
	// A channel that can tell when it takes messages (the playground) is
	// waited for, so that Run returns with it answering.
	if r, ok := ch.(interface{ Ready() <-chan struct{} }); ok {
		select {
		case <-r.Ready():
		case <-ctx.Done():
		}
	}
	return nil
}

// sdkLoggerOnce: the DingTalk SDK's logger is an unsynchronised global.
var sdkLoggerOnce sync.Once

// startDingTalk starts the DingTalk channel when it is configured, after
// handling what an earlier process accepted but did not finish.
func (m *Main) startDingTalk(ctx context.Context, channels map[string]bot.Channel) error {
	cfg := m.Config.DingTalk
	if !cfg.Enabled() {
		m.Logger.Info("dingtalk channel off (set FANZHA_DINGTALK_CLIENT_ID and FANZHA_DINGTALK_CLIENT_SECRET to switch it on)")
		return nil
	}
	sdkLoggerOnce.Do(func() { dingtalk.SetSDKLogger(m.Logger) })
	ch, err := dingtalk.New(dingtalk.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RobotCode: cfg.RobotCode,
		CardTemplateID: cfg.CardTemplateID, OpenAPIHost: cfg.APIHost},
		m.DB.Inbox(), m.Logger)
	if err != nil {
		return err
	}
	ch.Now = m.Now
	ch.OnRemoved = m.markRemoved(dingtalk.Name)
	if err := m.startChannel(ctx, ch, channels); err != nil {
		return err
	}
	m.Logger.Info("dingtalk channel on", "client_id", cfg.ClientID)
	return nil
}

// startWeChat starts the WeCom channel when it is configured and mounts
// its callback URLs (/wechat/bot, /wechat/oa) on the web server.
func (m *Main) startWeChat(ctx context.Context, channels map[string]bot.Channel, mounts map[string]http.Handler) error {
	w := m.Config.WeChat
	if !w.Enabled() {
		m.Logger.Info("wechat channel off (set FANZHA_WECHAT_BOT_TOKEN and FANZHA_WECHAT_BOT_AES_KEY to switch it on)")
		return nil
	}
	ch, err := wechat.New(wechat.Config{BotToken: w.BotToken, BotAESKey: w.BotAESKey, CorpID: w.CorpID, CorpSecret: w.CorpSecret,
		AgentID: w.AgentID, OAAppID: w.OAAppID, OAAppSecret: w.OAAppSecret, OAToken: w.OAToken, OAAESKey: w.OAAESKey,
		BotID: w.BotID, BotSecret: w.BotSecret, WSURL: w.WSURL, Leases: m.DB.Leases()},
		m.DB.Inbox(), m.DB.Groups(), m.Logger)
	if err != nil {
		return err
	}
	ch.Now = m.Now
	if err := m.startChannel(ctx, ch, channels); err != nil {
		return err
	}
	mounts["/wechat/"] = ch.Handler()
	m.Logger.Info("wechat channel on", "bot_callback", w.BotToken != "", "bot_long_connection", w.BotID != "", "appchat", w.CorpID != "",
		"official_account", w.OAToken != "")
	return nil
}

// markRemoved records that the platform says the bot left a group, so no
// more tips are planned for it until someone there speaks to the bot again.
func (m *Main) markRemoved(channel string) func(ctx context.Context, groupID string) {
	return func(ctx context.Context, groupID string) {
		gs, err := m.DB.Groups().FindGroups(ctx, bot.GroupFilter{Channel: channel, PlatformID: groupID})
		if err != nil || len(gs) == 0 {
			return
		}
		removed := true
		if _, err := m.DB.Groups().UpdateGroup(ctx, gs[0].ID, bot.GroupUpdate{Removed: &removed}); err != nil {
			m.Logger.Error("marking group removed", "group", groupID, "err", err)
			return
		}
		m.Logger.Warn("the bot was removed from a group; its posts stop", "channel", channel, "group", gs[0].Name)
	}
}

// campaign is the coverage plan of the configuration.
func (m *Main) campaign() report.Campaign {
	c := report.Campaign{Targets: m.Config.Campaign.Targets, Now: m.Now, Official: !m.Config.Demo()}
	if m.Config.Campaign.Start != "" {
		c.Start, _ = time.ParseInLocation("2006-01-02", m.Config.Campaign.Start, m.Config.Location()) // validated
	}
	return c
}

// mustTeach names the scam types group g must be taught first: those of
// the 必讲 flags on its unit and the units above it.
func (m *Main) mustTeach(ctx context.Context, g *bot.Group) (map[string]bool, error) {
	if g.OrgUnit == nil {
		return nil, nil
	}
	flags, err := m.DB.Cases().MustTeach(ctx)
	if err != nil || len(flags) == 0 {
		return nil, err
	}
	units, err := m.DB.Stats().OrgUnits(ctx)
	if err != nil {
		return nil, err
	}
	parent := map[int64]int64{}
	for _, u := range units {
		parent[u.ID] = u.ParentID
	}
	out := map[string]bool{}
	for u, hops := g.OrgUnit.ID, 0; u != 0 && hops <= len(units); u, hops = parent[u], hops+1 {
		for _, t := range flags[u] {
			out[t] = true
		}
	}
	return out, nil
}

// reloadKnowledge reloads the knowledge base on SIGHUP and, when it comes
// from a directory, whenever its files change. A broken edit is refused
// with a log line naming file and line; the previous knowledge stays.
func (m *Main) reloadKnowledge(ctx context.Context) {
	go m.Knowledge.Watch(ctx.Done(), 5*time.Second)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = m.Knowledge.Reload() // logged by Reload
		}
	}
}

// Close stops the web server and channels, letting requests in flight
// finish, then closes the database.
func (m *Main) Close() error {
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.HTTP.Shutdown(ctx)
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Images != nil {
		m.Images.Close()
	}
	if m.DB != nil {
		if m.DB.Postgres() {
			// Leaving: the others take this replica's share of the send
			// limits at their next count, not after the lease lapses.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = m.DB.Leases().Release(ctx, "replica:"+m.replicaID, m.replicaID)
			cancel()
		}
		return m.DB.Close()
	}
	return nil
}
