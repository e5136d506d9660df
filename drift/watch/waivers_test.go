package watch

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/drift"
)

const waiverStack = `apiVersion: plat/v1
kind: Stack
metadata: {name: site, team: web, environment: dev, costCenter: CC-1000}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: assets
      template: bucket
      with: {public: true}
    - name: logs
      template: bucket
      with: {public: true}
  waivers:
    - guardrail: bucket.public-needs-waiver
      resource: assets
      reason: public website assets
      owner: alice@example.com
      expires: 2027-01-31
    - guardrail: bucket.public-needs-waiver
      resource: logs
      reason: public logs
      owner: alice@example.com
      expires: 2099-01-31
`

// renderWaiverStack renders waiverStack as plat render -f platform.yaml -o
// out would in dir, and returns the stack directory.
func renderWaiverStack(t *testing.T, dir string, now time.Time) string {
	t.Helper()
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: []byte(waiverStack)}}, Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := os.WriteFile(filepath.Join(dir, "platform.yaml"), []byte(waiverStack), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files() {
		p := filepath.Join(dir, "out", filepath.FromSlash(f.Path))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "out", "site")
}

// TestWatchWaivers runs the service over a rendered stack whose stack file
// has one waiver running out in 5 days and one far away: the first is
// announced once, restarts included; both are in the expiry metric.
func TestWatchWaivers(t *testing.T) {
	now := time.Date(2027, 1, 26, 9, 30, 0, 0, time.UTC)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "stacks", "site"), 0o755)
	renderWaiverStack(t, filepath.Join(root, "stacks", "site"), now)
	hook := newReceiver(t, 200)
	cfgPath := filepath.Join(root, "watch.yaml")
	os.WriteFile(cfgPath, []byte("interval: 1h\nstacks: [\"stacks/*/out/*\"]\nlisten: 127.0.0.1:0\nreports: ./reports\nwebhooks:\n  - url: "+hook.URL+"/hook\n"), 0o644)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	clean := drift.CheckerFunc(func(context.Context, string) drift.StackReport { return drift.StackReport{Status: drift.StatusClean} })

	run := func() string {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr := make(chan string, 1)
		passed := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{Config: cfg, Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: clean},
				Now: func() time.Time { return now }, Listening: func(a string) { addr <- a },
				PassDone: func(drift.Report) { passed <- struct{}{} }})
		}()
		base := "http://" + <-addr
		<-passed
		metrics := get(t, base+"/metrics")
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		return metrics
	}

	metrics := run()
	for _, want := range []string{
		`plat_drift_waiver_expiry_timestamp_seconds{guardrail="bucket.public-needs-waiver",resource="assets",stack="stacks/site/out/site"} ` + unixText(2027, 2, 1),
		`plat_drift_waiver_expiry_timestamp_seconds{guardrail="bucket.public-needs-waiver",resource="logs",stack="stacks/site/out/site"} ` + unixText(2099, 2, 1),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(metrics, "waiver"))
		}
	}
	waitFor(t, "waiver message", func() bool { _, b := hook.counts(); return len(b) >= 1 })
	_, bodies := hook.counts()
	want := ":hourglass_flowing_sand: The waiver of `bucket.public-needs-waiver` for `assets` in `stacks/site/out/site` (`stacks/site/platform.yaml:19:16`) runs out after `2027-01-31` (5 days left): fix the resource or renew the waiver"
	if len(bodies) != 1 || bodies[0].Text != want {
		t.Fatalf("webhook messages %+v\nwant one: %s", bodies, want)
	}

	// A restart remembers what was announced.
	run()
	time.Sleep(100 * time.Millisecond)
	if _, bodies := hook.counts(); len(bodies) != 1 {
		t.Errorf("restart announced the waiver again: %+v", bodies)
	}

	// Once it has run out, the same waiver is not announced again either;
	// a renewed one is, when its new date comes near.
	now = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	b, _ := os.ReadFile(filepath.Join(root, "stacks", "site", "platform.yaml"))
	os.WriteFile(filepath.Join(root, "stacks", "site", "platform.yaml"), []byte(strings.Replace(string(b), "2027-01-31", "2027-03-10", 1)), 0o644)
	run()
	waitFor(t, "renewed waiver message", func() bool { _, b := hook.counts(); return len(b) >= 2 })
	if _, bodies := hook.counts(); len(bodies) != 2 || !strings.Contains(bodies[1].Text, "runs out after `2027-03-10` (9 days left)") {
		t.Errorf("messages after renewal %+v", bodies)
	}
}

func TestWaiverMessageExpired(t *testing.T) {
	sw := stackWaiver{stack: "stacks/a", file: "a/platform.yaml", Waiver: compiler.Waiver{Guardrail: "org.budget", Expires: "2027-01-31", Line: 3, Col: 4}}
	ends, _ := sw.Ends()
	m := waiverMessage(sw, ends, ends)
	want := ":x: The waiver of `org.budget` for the stack in `stacks/a` (`a/platform.yaml:3:4`) expired on `2027-01-31` and no longer counts: fix the resource or renew the waiver"
	if m.Text != want || len(m.Blocks) != 1 {
		t.Errorf("got %+v\nwant %s", m, want)
	}
}

func TestConfigWaiverWarning(t *testing.T) {
	c, err := ParseConfig("w.yaml", []byte("interval: 1h\nstacks: [a]\n"))
	if err != nil || c.waiverWarning != compiler.DefaultWaiverWarning {
		t.Fatalf("default: %v %v", c, err)
	}
	c, err = ParseConfig("w.yaml", []byte("interval: 1h\nstacks: [a]\nwaiverWarning: 30d\n"))
	if err != nil || c.waiverWarning != 30*24*time.Hour {
		t.Fatalf("30d: %v %v", c, err)
	}
	if _, err := ParseConfig("w.yaml", []byte("interval: 1h\nstacks: [a]\nwaiverWarning: soon\n")); err == nil || !strings.Contains(err.Error(), `waiverWarning: waiver warning "soon"`) {
		t.Errorf("bad value: %v", err)
	}
}

// unixText is a day's Unix time as the Prometheus text format writes it.
func unixText(y int, m time.Month, d int) string {
	return strconv.FormatFloat(float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()), 'g', -1, 64)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
