package watch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
)

// hangingHook is a webhook endpoint that accepts a request and never answers
// until the test ends; entered receives one value per request.
func hangingHook(t *testing.T) (url string, entered chan struct{}) {
	entered = make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL, entered
}

// recordingHook answers 200 and passes every message it gets to the channel.
func recordingHook(t *testing.T) (url string, got chan message) {
	got = make(chan message, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("bad webhook body %q: %v", b, err)
		}
		got <- m
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func watchConfig(t *testing.T, hooks ...string) *Config {
	t.Helper()
	root := t.TempDir()
	for _, st := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(root, "stacks", st), 0o755)
		os.WriteFile(filepath.Join(root, "stacks", st, "main.tf"), []byte("# stack\n"), 0o644)
	}
	y := "interval: 1h\nstacks: [\"stacks/*\"]\nlisten: 127.0.0.1:0\nreports: ./reports\nwebhooks:\n"
	for _, h := range hooks {
		y += "  - url: " + h + "/hook\n"
	}
	cfg, err := ParseConfig(filepath.Join(root, "watch.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var driftedChecker = drift.CheckerFunc(func(_ context.Context, dir string) drift.StackReport {
	return drift.StackReport{Status: drift.StatusDrifted, Resources: []drift.ResourceDrift{{Address: "local_file.f", Action: drift.ActionDeleted}}}
})

func waitMessage(t *testing.T, got chan message, what string) message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no message (delivery is held up)", what)
		return message{}
	}
}

// TestWebhookDeliveryIndependent has a webhook that hangs listed before one
// that answers: the answering one gets both messages while the hanging one is
// still inside its first attempt, and shutdown does not wait for it forever.
func TestWebhookDeliveryIndependent(t *testing.T) {
	deadURL, entered := hangingHook(t)
	goodURL, got := recordingHook(t)
	cfg := watchConfig(t, deadURL, goodURL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: driftedChecker},
			Client: &http.Client{}, RetryBase: time.Millisecond, MaxAttempts: 3})
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the hanging webhook was never called")
	}
	stacks := map[string]bool{}
	for range 2 {
		m := waitMessage(t, got, "answering webhook")
		stacks[m.stack] = true
		if !strings.Contains(m.Text, "Drift in") {
			t.Errorf("message %q", m.Text)
		}
	}
	if len(entered) != 0 {
		t.Errorf("the hanging webhook got %d more requests while its first hangs", len(entered))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return: shutdown waits on the hanging webhook")
	}
}

// TestWebhookQueueDropsOldest fills one webhook's queue past its bound: the
// oldest messages are dropped and counted, the rest go out in order, and
// stop drains them.
func TestWebhookQueueDropsOldest(t *testing.T) {
	url, got := recordingHook(t)
	s, err := newService(Options{Config: watchConfig(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	c := s.out.couriers[0]
	c.cap = 3
	for _, st := range []string{"s1", "s2", "s3", "s4", "s5"} {
		s.out.send(message{Text: st, stack: st})
	}
	if n := counter(t, s, "plat_drift_webhook_dropped_total"); n != 2 {
		t.Errorf("dropped %v, want 2", n)
	}
	s.out.start(context.Background())
	s.out.stop(context.Background())
	close(got)
	var order []string
	for m := range got {
		order = append(order, m.Text)
	}
	if strings.Join(order, ",") != "s3,s4,s5" {
		t.Errorf("delivered %v, want s3,s4,s5", order)
	}
	if n := counter(t, s, "plat_drift_webhook_deliveries_total"); n != 3 {
		t.Errorf("sent %v, want 3", n)
	}
}

// TestWebhookStopDeadline stops while a webhook hangs with messages queued:
// stop returns once its deadline is done, and the messages left are counted
// as dropped.
func TestWebhookStopDeadline(t *testing.T) {
	url, entered := hangingHook(t)
	s, err := newService(Options{Config: watchConfig(t, url), Client: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	s.out.start(context.Background())
	for _, st := range []string{"s1", "s2", "s3"} {
		s.out.send(message{Text: st, stack: st})
	}
	<-entered
	deadline, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.out.stop(deadline); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned before its deadline while a message was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("stop did not return after its deadline")
	}
	if d, f := counter(t, s, "plat_drift_webhook_dropped_total"), counter(t, s, "plat_drift_webhook_failures_total"); d != 2 || f != 1 {
		t.Errorf("dropped %v (want 2 queued), failed %v (want 1 in flight)", d, f)
	}
	s.out.send(message{Text: "late"}) // after stop: ignored, no panic
}

// counter reads a counter of s's registry by name.
func counter(t *testing.T, s *service, name string) float64 {
	t.Helper()
	mfs, err := s.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
