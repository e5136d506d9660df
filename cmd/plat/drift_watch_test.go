package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/platdev/plat/internal/testtools"
)

var watchListenRE = regexp.MustCompile(`drift watch serving /metrics and /healthz" addr=([0-9.:]+)`)

// TestDriftWatchBinary runs `plat drift watch --config FILE` as users do (the
// real binary: `plat` on PATH is this test binary acting as plat) over two
// stacks applied with real tofu: it serves /healthz and /metrics, writes a
// report per stack, posts one Slack-compatible message to the webhook when a
// stack drifts, and exits 0 on SIGTERM.
func TestDriftWatchBinary(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	tofu := testtools.Bin(t, "tofu")
	root := t.TempDir()
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+testtools.MirrorConfig(t), "CHECKPOINT_DISABLE=1")
	for _, s := range []string{"a", "b"} {
		dir := filepath.Join(root, "stacks", s)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		tf := "resource \"local_file\" \"f\" {\n  filename = \"${path.module}/f.txt\"\n  content  = \"declared\"\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.Command(tofu, args...)
			cmd.Dir, cmd.Env = dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tofu %v: %v\n%s", args, err, out)
			}
		}
	}

	var mu sync.Mutex
	var messages []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		messages = append(messages, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	nmessages := func() int { mu.Lock(); defer mu.Unlock(); return len(messages) }

	config := filepath.Join(root, "watch.yaml")
	yaml := fmt.Sprintf("interval: 1s\nstacks: [\"stacks/*\"]\nparallel: 2\ntimeout: 1m\nlisten: 127.0.0.1:0\nreports: ./reports\nwebhooks:\n  - url: %s/hook\n", hook.URL)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var log testtools.SyncBuffer
	cmd := exec.Command(plat, "drift", "watch", "--config", config, "--tofu", tofu)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	var base string
	waitUntil(t, "the listen address in the log", &log, func() bool {
		if m := watchListenRE.FindStringSubmatch(log.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	})
	report := func(s string) string {
		b, _ := os.ReadFile(filepath.Join(root, "reports", "stacks__"+s+".json"))
		return string(b)
	}
	waitUntil(t, "a clean report for both stacks", &log, func() bool {
		return strings.Contains(report("a"), `"status": "clean"`) && strings.Contains(report("b"), `"status": "clean"`)
	})
	if body := httpGet(t, base+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz: %q", body)
	}
	if n := nmessages(); n != 0 {
		t.Errorf("webhook got %d messages for clean stacks", n)
	}

	// Drift behind tofu's back in stack a.
	if err := os.Remove(filepath.Join(root, "stacks", "a", "f.txt")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the drift message", &log, func() bool { return nmessages() >= 1 })
	waitUntil(t, "a drifted report for stack a", &log, func() bool { return strings.Contains(report("a"), `"status": "drifted"`) })
	var msg struct {
		Text string `json:"text"`
	}
	mu.Lock()
	first := messages[0]
	mu.Unlock()
	if err := json.Unmarshal([]byte(first), &msg); err != nil || !strings.Contains(msg.Text, "stacks/a") {
		t.Errorf("webhook message: %v %s", err, first)
	}
	metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{
		`plat_drift_stack_status{stack="stacks/a",status="drifted"} 1`,
		`plat_drift_stack_status{stack="stacks/b",status="clean"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("plat drift watch after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("plat drift watch did not stop on SIGTERM:\n%s", log.String())
	}
	if n := nmessages(); n != 1 {
		t.Errorf("webhook got %d messages, want 1 (drift is announced once)", n)
	}
}

func waitUntil(t *testing.T, what string, log *testtools.SyncBuffer, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s; plat drift watch logged:\n%s", what, log.String())
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}
