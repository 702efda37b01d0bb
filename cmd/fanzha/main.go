// Command fanzha runs the anti-fraud group bot.
//
//	fanzha [serve]     run the bot: every configured channel plus the web pages
//	fanzha migrate     bring the database schema up to date and exit
//	fanzha check       check a message against the knowledge base (--json: a batch from stdin)
//	fanzha admin create -username NAME [-role admin|counsellor] [-org UNIT] < password
//	fanzha version     print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo

	"fanzha/bot"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fanzha:", exitMessage(err))
		os.Exit(1)
	}
}

// exitMessage is what the command line says about err: the user-facing
// words of a bot error (not "fanzha: conflict: …"), the error otherwise.
func exitMessage(err error) string {
	var e *bot.Error
	if errors.As(err, &e) && e.Code != bot.EINTERNAL {
		return e.Message
	}
	return err.Error()
}

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintln(stdout, usage)
			return nil
		}
	}
	switch cmd {
	case "serve":
		m := NewMain(stdout)
		if err := m.ParseFlags(args, stderr); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		m.Logger.Info("shutting down")
		return m.Close()
	case "migrate":
		m := NewMain(stdout)
		if err := m.ParseFlags(args, stderr); err != nil {
			return err
		}
		if err := m.openDB(ctx); err != nil {
			return err
		}
		defer m.Close()
		v, err := m.DB.Version(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "数据库已是最新版本（第 %d 版）。\n", v)
		return nil
	case "check":
		return runCheck(args, stdin, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args, stdin, stdout, stderr)
	case "draw":
		return runDraw(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "fanzha", version)
		return nil
	case "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("没有 %q 这个命令\n%s", cmd, usage)
}

const usage = `用法：fanzha [命令] [参数]

命令：
  serve     运行机器人（默认）：所有已配置的渠道、体验场和管理后台
  migrate   把数据库升级到最新版本后退出
  check     判断一条消息："fanzha check 文本"，或 fanzha check --json < 每行一条的文件
  admin     后台账号：fanzha admin create|list|passwd|disable|enable|token|revoke（fanzha admin 查看用法）
  draw      核对一次有奖问答抽奖：fanzha draw verify 抽奖编号
  version   显示版本

serve 和 migrate 的参数：
  -config 路径   YAML 配置文件（可选；也可用环境变量 FANZHA_CONFIG）`

// newLogger returns a JSON slog logger at the configured level.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
