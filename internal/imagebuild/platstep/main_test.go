package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The helper re-runs this test binary as the command, exiting with
// PLATSTEP_EXIT, so that no shell is needed.
func TestMain(m *testing.M) {
	if code := os.Getenv("PLATSTEP_EXIT"); code != "" {
		n := map[string]int{"0": 0, "1": 1, "2": 2}[code]
		os.Exit(n)
	}
	os.Exit(m.Run())
}

func self(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestOkCodesAndPassThrough(t *testing.T) {
	for _, tc := range []struct {
		exit, ok string
		want     int
	}{{"2", "0,2", 0}, {"2", "0", 2}, {"1", "0,2", 1}, {"0", "0", 0}} {
		t.Setenv("PLATSTEP_EXIT", tc.exit)
		if got := run([]string{"--ok-codes", tc.ok, "--", self(t)}, io.Discard, io.Discard); got != tc.want {
			t.Errorf("exit %s with --ok-codes %s: %d, want %d", tc.exit, tc.ok, got, tc.want)
		}
	}
}

func TestOnlyIndex(t *testing.T) {
	t.Setenv("PLATSTEP_EXIT", "1")
	t.Setenv("JOB_COMPLETION_INDEX", "3")
	if got := run([]string{"--only-index", "0", "--", self(t)}, io.Discard, io.Discard); got != 0 {
		t.Errorf("index 3 with --only-index 0 ran the command (exit %d)", got)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "0")
	if got := run([]string{"--only-index", "0", "--", self(t)}, io.Discard, io.Discard); got != 1 {
		t.Errorf("index 0 with --only-index 0: exit %d, want the command's 1", got)
	}
}

func TestWaitThenRunAnyway(t *testing.T) {
	dir := t.TempDir()
	present, absent := filepath.Join(dir, "shard-0.json"), filepath.Join(dir, "shard-1.json")
	if err := os.WriteFile(present, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.WriteFile(absent, []byte("{}"), 0o644)
	}()
	if m := waitFor([]string{present, absent}, 5*time.Second, 10*time.Millisecond); len(m) != 0 {
		t.Errorf("still missing %v after the file appeared", m)
	}
	var stderr strings.Builder
	t.Setenv("PLATSTEP_EXIT", "0")
	got := run([]string{"--wait", filepath.Join(dir, "never.json"), "--timeout", "30ms", "--poll", "10ms", "--", self(t)}, io.Discard, &stderr)
	if got != 0 || !strings.Contains(stderr.String(), "never.json") {
		t.Errorf("timeout: exit %d, stderr %q; want the command run and the missing file named", got, stderr.String())
	}
}

func TestNotifyOnDrift(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		got = append(got, m["text"])
	}))
	defer srv.Close()
	report := filepath.Join(t.TempDir(), "merged.md")
	if err := os.WriteFile(report, []byte("# drift: 1 stack"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOOK", srv.URL)
	args := []string{"--ok-codes", "0,2", "--notify-env", "HOOK", "--notify-file", report, "--", self(t)}
	t.Setenv("PLATSTEP_EXIT", "0")
	run(args, io.Discard, io.Discard)
	t.Setenv("PLATSTEP_EXIT", "2")
	if code := run(args, io.Discard, io.Discard); code != 0 {
		t.Errorf("drift with notify: exit %d", code)
	}
	if len(got) != 1 || got[0] != "# drift: 1 stack" {
		t.Errorf("webhook got %q, want the report once (drift only, not clean)", got)
	}
	srv.Close()
	var stderr strings.Builder
	if code := run(args, io.Discard, &stderr); code != 1 || strings.Contains(stderr.String(), srv.URL) {
		t.Errorf("unreachable webhook: exit %d, stderr %q; want 1 without the URL", code, stderr.String())
	}
}
