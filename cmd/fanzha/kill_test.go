package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startBinary runs the built fanzha in dir and waits until it answers.
func startBinary(t *testing.T, bin, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FANZHA_DATA_DIR="+filepath.Join(dir, "data"), "FANZHA_WEB_ADDR="+addr)
	startProcess(t, "fanzha", cmd)
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond) // waiting for start-up, not timing anything
	}
	t.Fatal("fanzha did not start")
	return nil
}

// startProcess starts cmd, kills it when the test ends, and shows the end
// of what it printed if the test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) {
	t.Helper()
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			out := logs.String()
			t.Logf("%s output:\n%s", name, out[max(0, len(out)-4000):])
		}
	})
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSIGKILLLosesNothingAcknowledged kills the real process with SIGKILL
// after messages were acknowledged, restarts it, and checks that every
// acknowledged message and binding is still there and that redeliveries are
// still recognised.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fanzha")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cmd := startBinary(t, bin, dir, addr)
	base := "http://" + addr
	createGroup(t, base, "g1", "幸福社区居民群")
	say(t, base, "g1", "wang", "bind", "绑定 幸福社区")
	const n = 20
	for i := 0; i < n; i++ {
		if status, replies, _ := say(t, base, "g1", fmt.Sprintf("r%d", i), fmt.Sprintf("m%d", i), "帮助"); status != 200 || len(replies) != 1 {
			t.Fatalf("message %d: %d %q", i, status, replies)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	startBinary(t, bin, dir, addr)
	if got := boundTo(t, base, "幸福社区居民群"); got != "幸福社区" {
		t.Fatalf("binding lost on SIGKILL: %q", got)
	}
	_, out := call(t, "GET", base+"/playground/groups/g1/messages", nil)
	var said, answered int
	for _, l := range out["messages"].([]any) {
		l := l.(map[string]any)
		if l["from_bot"] == true {
			answered++
		} else if strings.HasPrefix(fmt.Sprint(l["msg_id"]), "m") {
			said++
		}
	}
	if said != n || answered != n+1 {
		t.Fatalf("after SIGKILL the chat has %d messages and %d answers; want %d and %d", said, answered, n, n+1)
	}
	for i := 0; i < n; i++ {
		if _, replies, dup := say(t, base, "g1", fmt.Sprintf("r%d", i), fmt.Sprintf("m%d", i), "帮助"); !dup || len(replies) != 0 {
			t.Fatalf("redelivery of m%d after SIGKILL was handled again: %q", i, replies)
		}
	}
}
