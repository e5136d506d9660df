package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBounded runs the real plat binary with args in dir, with its address space
// capped (so a read of /dev/zero fails instead of filling the machine's memory)
// and killed after limit. It returns the exit code, stdout, stderr and how long
// it took.
func runBounded(t *testing.T, dir string, limit time.Duration, env []string, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", `ulimit -v 4194304 && exec "$@"`, "sh", plat}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("plat %s still running after %s (killed)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), limit, stdout.String(), stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String(), took
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// TestDriftCheckSpecialFiles: named pipes and a link to /dev/zero in stack
// directories used to block plat drift check forever (before --timeout applied,
// and SIGTERM was then ignored) or exhaust memory (issue 17, finding 4). Each is
// now an error for its stack, at once; the pass finishes and exits 1.
func TestDriftCheckSpecialFiles(t *testing.T) {
	root := t.TempDir()
	mkfifo(t, filepath.Join(root, "pipe-yaml", "x.yaml"))
	writeFile(t, filepath.Join(root, "pipe-ignore", "main.tf"), "")
	mkfifo(t, filepath.Join(root, "pipe-ignore", ".platdriftignore"))
	mkfifo(t, filepath.Join(root, "pipe-tf", "main.tf"))
	symlink(t, "/dev/zero", filepath.Join(root, "zero-yaml", "x.yaml"))
	writeFile(t, filepath.Join(root, "big-yaml", "x.yaml"), "apiVersion: v1\nkind: ConfigMap\n#"+strings.Repeat("x", 4<<20)+"\n")
	mkfifo(t, filepath.Join(root, "ignore.fifo"))

	code, stdout, stderr, took := runBounded(t, root, 20*time.Second, []string{"PLAT_TF_BINARY=/nonexistent/tofu"},
		"drift", "check", "-q", "--timeout", "5s", "pipe-yaml", "pipe-ignore", "pipe-tf", "zero-yaml", "big-yaml")
	if code != 1 {
		t.Errorf("exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	if took > 5*time.Second {
		t.Errorf("took %s, more than the per-stack timeout", took)
	}
	for _, want := range []string{
		"pipe-yaml/x.yaml: not a regular file (named pipe)",
		"pipe-ignore/.platdriftignore: not a regular file (named pipe)",
		"pipe-tf/main.tf: not a regular file (named pipe)",
		"zero-yaml/x.yaml: not a regular file (character device)",
		"big-yaml/x.yaml: larger than 4 MiB",
		"5 stacks: 0 drifted (0 resources), 0 clean, 5 errors",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}

	code, _, stderr, _ = runBounded(t, root, 20*time.Second, nil, "drift", "check", "-q", "--ignore", "ignore.fifo", "pipe-yaml")
	if code != 1 || !strings.Contains(stderr, "ignore.fifo: not a regular file (named pipe)") {
		t.Errorf("--ignore FIFO: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestDriftCheckSpecialTofuFiles: the files tofu itself reads from a stack
// (variable files, local state, the lock file, .terraform's backend state and
// workspace) must be regular too. A named pipe there blocked the stack's tofu
// until --timeout; a terraform.tfvars link to /dev/zero made tofu fill memory
// until it died, its stack trace pasted into the report.
func TestDriftCheckSpecialTofuFiles(t *testing.T) {
	root := t.TempDir()
	var dirs, wants []string
	for i, c := range []struct {
		file string
		pipe bool
	}{
		{"terraform.tfvars", true}, {"terraform.tfvars.json", false}, {"prod.auto.tfvars", false},
		{"x.auto.tfvars.json", true}, {"terraform.tfstate", true}, {".terraform.lock.hcl", true},
		{".terraform/terraform.tfstate", true}, {".terraform/environment", false},
	} {
		dir := fmt.Sprintf("s%d", i)
		writeFile(t, filepath.Join(root, dir, "main.tf"), "")
		kind := "character device"
		if c.pipe {
			mkfifo(t, filepath.Join(root, dir, c.file))
			kind = "named pipe"
		} else {
			symlink(t, "/dev/zero", filepath.Join(root, dir, c.file))
		}
		dirs = append(dirs, dir)
		wants = append(wants, dir+"/"+c.file+": not a regular file ("+kind+")")
	}
	code, stdout, stderr, _ := runBounded(t, root, 20*time.Second, []string{"PLAT_TF_BINARY=/nonexistent/tofu"},
		append([]string{"drift", "check", "-q", "--timeout", "5s"}, dirs...)...)
	if code != 1 {
		t.Errorf("exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	for _, want := range wants {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestValidateSpecialFiles: validate and render refuse a stack file or catalog
// file that is a named pipe or a link to /dev/zero, quickly and clearly (exit 2,
// an I/O error), instead of blocking or exhausting memory.
func TestValidateSpecialFiles(t *testing.T) {
	root := t.TempDir()
	symlink(t, "/dev/zero", filepath.Join(root, "zero", "platform.yaml"))
	mkfifo(t, filepath.Join(root, "pipe", "platform.yaml"))
	writeFile(t, filepath.Join(root, "big", "platform.yaml"), "#"+strings.Repeat("x", 4<<20)+"\n")
	writeFile(t, filepath.Join(root, "ok", "platform.yaml"), "apiVersion: plat/v1\n")
	mkfifo(t, filepath.Join(root, "catalog", "platform.cue"))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "zero/platform.yaml"}, "zero/platform.yaml: not a regular file (character device)"},
		{[]string{"validate", "zero"}, "zero/platform.yaml: not a regular file (character device)"},
		{[]string{"validate", "pipe"}, "pipe/platform.yaml: not a regular file (named pipe)"},
		{[]string{"validate", "big"}, "big/platform.yaml: larger than 4 MiB"},
		{[]string{"render", "-f", "zero/platform.yaml", "-o", "out"}, "zero/platform.yaml: not a regular file (character device)"},
		{[]string{"validate", "--catalog", "catalog", "ok"}, "catalog/platform.cue: not a regular file (named pipe)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr, took := runBounded(t, root, 20*time.Second, nil, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q; stderr:\n%.2000s", code, tc.want, stderr)
			}
			if took > 5*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

// TestDriftCheckSIGTERM: SIGTERM during a pass ends plat drift check (exit 1),
// even when tofu ignores the interrupt it is sent: it is killed after its grace
// and the stack reported as an error. Stacks with special files beside it do not
// hold the pass either (they once blocked it, and SIGTERM with it).
func TestDriftCheckSIGTERM(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	started := filepath.Join(root, "started")
	// A tofu that ignores SIGINT and never finishes.
	writeFile(t, filepath.Join(root, "bin", "tofu"), "#!/bin/sh\n"+
		"trap '' INT\ntouch "+started+"\nwhile :; do sleep 1; done\n")
	if err := os.Chmod(filepath.Join(root, "bin", "tofu"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "hang", "main.tf"), "")
	mkfifo(t, filepath.Join(root, "pipe", "x.yaml"))

	cmd := exec.Command(plat, "drift", "check", "-q", "--tofu", "./bin/tofu", "--parallel", "2", "pipe", "hang")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tofu never started\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want status 1", err)
		}
		// tofu gets 10s to release its lock before it is killed.
		if took := time.Since(sent); took > 20*time.Second {
			t.Errorf("exited %s after SIGTERM", took)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("plat drift check still running 45s after SIGTERM\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	for _, want := range []string{"pipe/x.yaml: not a regular file (named pipe)", "hang: error", "terminated signal received"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
}
