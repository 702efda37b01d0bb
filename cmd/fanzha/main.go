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
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fanzha:", err)
		}
		os.Exit(1)
	}
}

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
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
	case "version":
		fmt.Fprintln(stdout, "fanzha", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: fanzha [command] [flags]

commands:
  serve     run the bot (default)
  migrate   bring the database schema up to date
  check     check "text", or --json < messages.txt (one message per line)
  admin     admin create -username NAME [-role admin|counsellor] [-org UNIT] < password
  version   print the version

flags of serve and migrate:
  -config path   YAML configuration file (optional)`

// newLogger returns a JSON slog logger at the configured level.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
