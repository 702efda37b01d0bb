package dingtalk

import (
	"fmt"
	"log/slog"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
)

// sdkLogger routes the SDK's log lines into slog. The SDK logs every
// reconnect attempt and every frame at debug level; only warnings and
// errors are kept.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Debugf(string, ...any)       {}
func (s sdkLogger) Infof(f string, a ...any)    { s.l.Debug(fmt.Sprintf(f, a...)) }
func (s sdkLogger) Warningf(f string, a ...any) { s.l.Warn(fmt.Sprintf(f, a...)) }
func (s sdkLogger) Errorf(f string, a ...any)   { s.l.Error(fmt.Sprintf(f, a...)) }
func (s sdkLogger) Fatalf(f string, a ...any)   { s.l.Error(fmt.Sprintf(f, a...)) }

// SetSDKLogger sends the SDK's warnings and errors to l. The SDK keeps its
// logger in an unsynchronised global: call this once, before any client
// starts.
func SetSDKLogger(l *slog.Logger) {
	logger.SetLogger(sdkLogger{l.With("channel", Name, "source", "sdk")})
}
