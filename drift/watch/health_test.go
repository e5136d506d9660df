package watch

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
)

// TestHealthzUnhealthy: /healthz used to say ok while no pass ever completed (a
// pass blocked on a named pipe; issue 17, finding 4). It now answers 503 with a
// reason when the running pass exceeds its bound, and when no pass has completed
// by the time the schedule and that bound allow; it recovers once passes complete.
func TestHealthzUnhealthy(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "stacks", "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "stacks", "a", "main.tf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(root, "watch.yaml")
	if err := os.WriteFile(cfgPath, []byte("interval: 1h\nstacks: [\"stacks/*\"]\nparallel: 1\ntimeout: 1m\nlisten: 127.0.0.1:0\nreports: ./reports\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var offset time.Duration // the service's clock runs this far ahead
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	advance := func(d time.Duration) { mu.Lock(); offset += d; mu.Unlock() }

	started := make(chan struct{}, 10)
	release := make(chan struct{})
	checker := drift.CheckerFunc(func(ctx context.Context, _ string) drift.StackReport {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return drift.StackReport{}
	})
	passed := make(chan struct{}, 10)
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Config:    cfg,
			Checkers:  map[drift.Kind]drift.Checker{drift.KindTerraform: checker},
			Listening: func(a string) { addr <- a },
			PassDone:  func(drift.Report) { passed <- struct{}{} },
			Now:       now,
		})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()
	base := "http://" + <-addr
	healthz := func() (int, string) {
		t.Helper()
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	<-started
	if code, body := healthz(); code != 200 || body != "ok\n" {
		t.Errorf("healthz during a young pass: %d %q", code, body)
	}
	// One stack, parallel 1, timeout 1m: the pass may take 1m plus the grace.
	advance(2 * time.Hour)
	if code, body := healthz(); code != 503 || !strings.Contains(body, "drift pass running for 2h0m") || !strings.Contains(body, "longer than its bound of 1m30s") {
		t.Errorf("healthz during a stuck pass: %d %q", code, body)
	}

	close(release)
	<-passed
	if code, body := healthz(); code != 200 || body != "ok\n" {
		t.Errorf("healthz after a pass completed: %d %q", code, body)
	}
	// The next pass is due an hour after the last; allow the larger of another
	// interval or the pass bound: unhealthy after 2h without a completed pass.
	advance(119 * time.Minute)
	if code, body := healthz(); code != 200 {
		t.Errorf("healthz 1h59m after the last pass: %d %q", code, body)
	}
	advance(2 * time.Minute)
	if code, body := healthz(); code != 503 || !strings.Contains(body, "no drift pass completed since") {
		t.Errorf("healthz 2h1m after the last pass: %d %q", code, body)
	}
}
