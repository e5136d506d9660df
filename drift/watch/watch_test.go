package watch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/drift/terraform"
	"github.com/platdev/plat/internal/testtools"
)

func TestParseConfig(t *testing.T) {
	ok := `interval: 1h
stacks: ["stacks/*/out/*"]
parallel: 4
timeout: 10m
listen: 127.0.0.1:9464
reports: ./drift-reports
kubeconfig: ~/.kube/config
webhooks:
  - url: https://hooks.example.com/T000/B000
`
	c, err := ParseConfig("/etc/plat/watch.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReportsDir() != "/etc/plat/drift-reports" || c.StackTimeout() != 10*time.Minute || c.Parallel != 4 || strings.HasPrefix(c.Kubeconfig, "~") {
		t.Errorf("config %+v", c)
	}
	if _, err := ParseConfig("w.yaml", []byte("cron: \"0 6 * * 1-5\"\nstacks: [a]\n")); err != nil {
		t.Errorf("cron: %v", err)
	}
	bad := map[string]string{
		"intervall: 1h\nstacks: [a]\n":                                       `w.yaml: unknown field "intervall"`,
		"interval: soon\nstacks: [a]\n":                                      `interval "soon": want a positive duration`,
		"interval: -1h\nstacks: [a]\n":                                       `interval "-1h"`,
		"cron: \"61 * * * *\"\nstacks: [a]\n":                                `cron "61 * * * *"`,
		"cron: \"@hourly\"\ninterval: 1h\nstacks: [a]\n":                     "either interval or cron, not both",
		"stacks: [a]\n":                                                      "missing schedule",
		"interval: 1h\n":                                                     "stacks: list at least one glob",
		"interval: 1h\nstacks: [a]\nwebhooks: [{url: ftp://x}]\n":            `webhooks[0].url "ftp://x"`,
		"interval: 1h\nstacks: [a]\nwebhooks: [{url: http://x, token: y}]\n": `unknown field "token"`,
	}
	for in, want := range bad {
		_, err := ParseConfig("w.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

// receiver is a real HTTP webhook endpoint that records what it is sent.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	attempts int
	bodies   []message
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.attempts++
		if r.status < 300 {
			var m message
			if err := json.Unmarshal(b, &m); err != nil || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("bad webhook request: %v %q", err, b)
			}
			r.bodies = append(r.bodies, m)
		}
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) counts() (attempts int, bodies []message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, append([]message(nil), r.bodies...)
}

func tofuEnv(t *testing.T) (bin string, env map[string]string) {
	bin = testtools.Bin(t, "tofu")
	env = map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	delete(env, "TF_PLUGIN_CACHE_DIR")
	env["TF_CLI_CONFIG_FILE"] = testtools.MirrorConfig(t)
	return bin, env
}

func applyStack(t *testing.T, bin string, env map[string]string, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tf := `resource "local_file" "f" {
  filename = "${path.module}/f.txt"
  content  = "declared"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = environ
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tofu %v: %v\n%s", args, err, b)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

// TestWatch runs the service against real tofu stacks, a working webhook
// receiver and one that always answers 500: drift is announced once to the
// working receiver, the failing one is retried with backoff and given up on,
// passes keep running, reports and metrics reflect each stack.
func TestWatch(t *testing.T) {
	bin, env := tofuEnv(t)
	root := t.TempDir()
	applyStack(t, bin, env, filepath.Join(root, "stacks", "a"))
	applyStack(t, bin, env, filepath.Join(root, "stacks", "b"))
	good := newReceiver(t, 200)
	failing := newReceiver(t, 500)
	cfgYAML := "interval: 1s\nstacks: [\"stacks/*\"]\nparallel: 2\ntimeout: 1m\nlisten: 127.0.0.1:0\nreports: ./reports\n" +
		"webhooks:\n  - url: " + failing.URL + "/hook\n  - url: " + good.URL + "/hook\n"
	cfgPath := filepath.Join(root, "watch.yaml")
	os.WriteFile(cfgPath, []byte(cfgYAML), 0o644)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	checker := terraform.New(terraform.Options{Binary: bin, Env: env, TempDir: t.TempDir()})
	defer checker.Close()

	var mu sync.Mutex
	var passes []drift.Report
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Config:      cfg,
			Checkers:    map[drift.Kind]drift.Checker{drift.KindTerraform: checker},
			RetryBase:   20 * time.Millisecond,
			MaxAttempts: 3,
			Listening:   func(a string) { addr <- a },
			PassDone: func(r drift.Report) {
				mu.Lock()
				passes = append(passes, r)
				mu.Unlock()
			},
		})
	}()
	base := "http://" + <-addr
	npasses := func() int { mu.Lock(); defer mu.Unlock(); return len(passes) }

	waitFor(t, "first pass", func() bool { return npasses() >= 1 })
	if body := get(t, base+"/healthz"); body != "ok\n" {
		t.Errorf("healthz: %q", body)
	}
	if _, bodies := good.counts(); len(bodies) != 0 {
		t.Errorf("clean stacks notified: %v", bodies)
	}

	// Drift behind tofu's back in stack a.
	os.Remove(filepath.Join(root, "stacks", "a", "f.txt"))
	waitFor(t, "drift notification", func() bool { _, b := good.counts(); return len(b) >= 1 })
	waitFor(t, "retries of the failing webhook", func() bool { a, _ := failing.counts(); return a >= 3 })
	after := npasses()
	waitFor(t, "two more passes", func() bool { return npasses() >= after+2 })

	_, bodies := good.counts()
	if len(bodies) != 1 || !strings.Contains(bodies[0].Text, "stacks/a") || !strings.Contains(bodies[0].Text, "Drift") ||
		len(bodies[0].Blocks) != 2 || !strings.Contains(bodies[0].Blocks[1].Text.Text, "local_file.f") {
		t.Errorf("webhook messages: %+v", bodies)
	}
	if a, _ := failing.counts(); a != 3 {
		t.Errorf("failing receiver got %d attempts, want 3 (one message, 3 attempts)", a)
	}

	var rep drift.Report
	b, err := os.ReadFile(filepath.Join(root, "reports", "stacks__a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Stacks[0].Status != drift.StatusDrifted || rep.Stacks[0].Dir != "stacks/a" {
		t.Errorf("report for stacks/a: %v %s", err, b)
	}
	if md, err := os.ReadFile(filepath.Join(root, "reports", "stacks__b.md")); err != nil || !strings.Contains(string(md), "clean") {
		t.Errorf("markdown report for stacks/b: %v %s", err, md)
	}

	metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`plat_drift_stack_status{stack="stacks/a",status="drifted"} 1`,
		`plat_drift_stack_status{stack="stacks/b",status="clean"} 1`,
		`plat_drift_stack_drifted_resources{stack="stacks/a"} 1`,
		`plat_drift_check_duration_seconds_count{stack="stacks/b"}`,
		`plat_drift_check_errors_total{stack="stacks/a"} 0`,
		`plat_drift_webhook_failures_total 1`,
		`plat_drift_webhook_retries_total 2`,
		`plat_drift_webhook_deliveries_total 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	// A restart remembers the last reports: unchanged drift is not announced again.
	ctx, cancel = context.WithCancel(context.Background())
	passed := make(chan struct{}, 10)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: checker},
			PassDone: func(drift.Report) { passed <- struct{}{} }})
	}()
	<-passed
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after restart: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, bodies := good.counts(); len(bodies) != 1 {
		t.Errorf("restart re-announced drift: %d messages", len(bodies))
	}
}
