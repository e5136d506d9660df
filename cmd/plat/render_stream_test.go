package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// streamStack is stack i of a tree the stream tests render: four resources,
// terraform, or crossplane for every third stack.
func streamStack(i int, region string) string {
	target := "terraform"
	if i%3 == 2 {
		target = "crossplane"
	}
	return fmt.Sprintf(`apiVersion: plat/v1
kind: Stack
metadata: {name: s%03d, team: team%02d, environment: %s, costCenter: CC-1234}
spec:
  target: %s
  region: %s
  resources:
    - {name: db, template: postgres, with: {size: small, storageGB: 50, backupRetentionDays: 14}}
    - {name: files, template: bucket, with: {expireAfterDays: 30}}
    - {name: jobs, template: queue, with: {maxReceiveCount: 10}}
    - {name: sessions, template: cache, with: {nodes: 2}}
`, i, i%20, []string{"prod", "dev", "staging", "dev"}[i%4], target, region)
}

// writeStreamTree writes n stacks into dir and returns their paths, in order.
func writeStreamTree(t *testing.T, dir string, n int, region string) []string {
	t.Helper()
	var files []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("s%03d.platform.yaml", i))
		if err := os.WriteFile(p, []byte(streamStack(i, region)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	return files
}

// snapshot returns every entry under root: path -> mode and content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		m[filepath.ToSlash(rel)] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func staging(t *testing.T, out string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(out, ".plat-render-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func renderArgs(out string, files []string, extra ...string) []string {
	args := append([]string{"render", "-o", out}, extra...)
	return append(args, files...)
}

// TestRenderLateStackFails: render stages each stack in the output tree as it
// is compiled; a stack that fails after 39 were staged must leave the tree
// byte for byte as it was, with no staging folder, and a render into a
// directory that did not exist must not leave it behind.
func TestRenderLateStackFails(t *testing.T) {
	tmp := t.TempDir()
	const n = 40
	files := writeStreamTree(t, tmp, n, "eu-west-1")
	if code, stderr := renderIn(t, tmp, renderArgs("out", files)...); code != 0 {
		t.Fatalf("render: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(tmp, "out")
	if err := os.WriteFile(filepath.Join(out, "s000", ".terraform.lock.hcl"), []byte("# lock\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	files = writeStreamTree(t, tmp, n, "eu-central-1")
	last := strings.Replace(streamStack(n-1, "eu-central-1"), "template: cache", "template: no-such-template", 1)
	if err := os.WriteFile(files[n-1], []byte(last), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := snapshot(t, tmp)
	for _, parallel := range []string{"1", "2"} {
		code, stderr := renderIn(t, tmp, renderArgs("out", files, "--parallel", parallel)...)
		if code != 1 || !strings.Contains(stderr, "no-such-template") || !strings.Contains(stderr, "plat: nothing written") {
			t.Fatalf("--parallel %s: exit %d, want 1 naming the template\n%s", parallel, code, stderr)
		}
		if got := snapshot(t, tmp); !maps.Equal(got, changed) {
			t.Errorf("--parallel %s: the failed render changed the tree", parallel)
		}
		if p := staging(t, out); len(p) > 0 {
			t.Errorf("--parallel %s: staging left behind: %v", parallel, p)
		}
	}

	if code, stderr := renderIn(t, tmp, renderArgs(filepath.Join("new", "out"), files)...); code != 1 {
		t.Fatalf("render into new/out: exit %d, want 1\n%s", code, stderr)
	}
	if _, err := os.Lstat(filepath.Join(tmp, "new")); err == nil {
		t.Error("a failed render left new/, which did not exist before it")
	}
}

// TestRenderStreamSameBytes: a tree rendered on two workers, each stack
// staged as it is collected, has exactly the files and bytes of a render on
// one worker, and of the stacks' files as the compiler returns them whole.
func TestRenderStreamSameBytes(t *testing.T) {
	tmp := t.TempDir()
	files := writeStreamTree(t, tmp, 150, "eu-west-1")
	for _, parallel := range []string{"1", "2"} {
		if code, stderr := renderIn(t, tmp, renderArgs("out"+parallel, files, "--parallel", parallel)...); code != 0 {
			t.Fatalf("--parallel %s: exit %d\n%s", parallel, code, stderr)
		}
	}
	one, two := snapshot(t, filepath.Join(tmp, "out1")), snapshot(t, filepath.Join(tmp, "out2"))
	if len(one) < 150*4 {
		t.Fatalf("only %d entries rendered", len(one))
	}
	if !maps.Equal(one, two) {
		for p, v := range one {
			if two[p] != v {
				t.Errorf("%s differs between --parallel 1 and 2", p)
			}
		}
		t.Fatalf("--parallel 2 rendered %d entries, --parallel 1 %d", len(two), len(one))
	}

	// --check compares each stack as it is compiled with the tree just written.
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("plat", renderArgs("out2", files, "--check")...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = tmp, &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.Contains(stderr.String(), "is up to date") {
		t.Fatalf("render --check: %v\n%s%s", err, stdout.String(), stderr.String())
	}
}

// TestRenderSignalWhileStaging sends SIGTERM, then SIGINT, to the real plat
// binary while it stages a tree (a staging folder exists, its journal not
// yet): it must exit 1 having removed its staging folder, with the tree as it
// was. A kill -9 there leaves the staging folder, which the next render
// removes.
func TestRenderSignalWhileStaging(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	const n = 300
	files := writeStreamTree(t, tmp, n, "eu-west-1")
	out := filepath.Join(tmp, "out")
	if b, err := exec.Command(plat, renderArgs(out, files)...).CombinedOutput(); err != nil {
		t.Fatalf("render: %v\n%s", err, b)
	}
	before := snapshot(t, out)
	files = writeStreamTree(t, tmp, n, "eu-central-1")

	// interrupt starts a render and sends sig once it is staging; false means
	// the render got past staging first, so the try proves nothing.
	interrupt := func(sig syscall.Signal) (staged bool, code int, stderr string) {
		t.Helper()
		var errb bytes.Buffer
		cmd := exec.Command(plat, renderArgs(out, files)...)
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Millisecond) {
			select {
			case <-done:
				return false, cmd.ProcessState.ExitCode(), errb.String()
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("render never staged\n%s", errb.String())
			}
			p := staging(t, out)
			if len(p) == 1 && len(must(filepath.Glob(filepath.Join(p[0], "new", "s0*")))) > 2 {
				if _, err := os.Lstat(filepath.Join(p[0], "journal")); err == nil {
					continue // swapping: too late
				}
				break
			}
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("render still running 2 minutes after %v", sig)
		}
		return true, cmd.ProcessState.ExitCode(), errb.String()
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		landed := false
		for try := 0; try < 3 && !landed; try++ {
			staged, code, stderr := interrupt(sig)
			if !staged || code == 0 {
				// Finished before the signal was handled: start again from v1.
				if b, err := exec.Command(plat, renderArgs(out, writeStreamTree(t, tmp, n, "eu-west-1"))...).CombinedOutput(); err != nil {
					t.Fatalf("render: %v\n%s", err, b)
				}
				files = writeStreamTree(t, tmp, n, "eu-central-1")
				continue
			}
			landed = true
			if code != 1 || !strings.Contains(stderr, "plat: nothing written") {
				t.Errorf("%v: exit %d, want 1 and nothing written\n%s", sig, code, stderr)
			}
			if p := staging(t, out); len(p) > 0 {
				t.Errorf("%v: staging left behind: %v", sig, p)
			}
			if got := snapshot(t, out); !maps.Equal(got, before) {
				t.Errorf("%v: the interrupted render changed the tree", sig)
			}
		}
		if !landed {
			t.Errorf("%v: no try was interrupted while staging", sig)
		}
	}

	staged, _, _ := interrupt(syscall.SIGKILL)
	if !staged {
		t.Fatal("SIGKILL: the render got past staging")
	}
	if p := staging(t, out); len(p) != 1 {
		t.Fatalf("SIGKILL: want the staging folder left behind, have %v", p)
	}
	if b, err := exec.Command(plat, renderArgs(out, files)...).CombinedOutput(); err != nil {
		t.Fatalf("render after kill -9: %v\n%s", err, b)
	}
	if p := staging(t, out); len(p) > 0 {
		t.Errorf("the render after kill -9 left staging: %v", p)
	}
	if b, err := os.ReadFile(filepath.Join(out, "s000", "main.tf")); err != nil || !strings.Contains(string(b), "eu-central-1") {
		t.Errorf("s000/main.tf after the next render: %v\n%s", err, b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
