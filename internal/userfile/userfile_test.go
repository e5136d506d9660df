package userfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
)

// within fails the test when f has not returned after d: the bugs these tests
// guard against are a read that blocks forever.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still blocked after %s", d)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "platform.yaml")
	if err := os.WriteFile(regular, []byte("apiVersion: plat/v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "x.yaml")
	mkfifo(t, fifo)
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path    string
		want    string // "" means success
		is      error
		content string
	}{
		{path: regular, content: "apiVersion: plat/v1\n"},
		{path: link, content: "apiVersion: plat/v1\n"},
		{path: fifo, want: fifo + ": not a regular file (named pipe)", is: ErrNotRegular},
		{path: zero, want: zero + ": not a regular file (character device)", is: ErrNotRegular},
		{path: dir, want: dir + ": not a regular file (directory)", is: ErrNotRegular},
		{path: big, want: big + ": larger than 100 bytes", is: ErrTooLarge},
		{path: filepath.Join(dir, "missing"), want: "no such file or directory", is: fs.ErrNotExist},
		// /proc files report size 0 yet hold more: the limit still applies.
		{path: "/proc/self/status", want: "/proc/self/status: larger than 100 bytes", is: ErrTooLarge},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			var b []byte
			var err error
			within(t, 5*time.Second, func() { b, err = Read(tc.path, 100) })
			if tc.want == "" {
				if err != nil || string(b) != tc.content {
					t.Fatalf("got %q, %v; want %q", b, err, tc.content)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("got %v; want an error %q matching %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestReadExactLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("a", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p, 100); err != nil || len(b) != 100 {
		t.Fatalf("got %d bytes, %v", len(b), err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{MaxSize: "4 MiB", 512 << 10: "512 KiB", 100: "100 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDirFS(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "postgres"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "platform.cue"), []byte("package platform\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "postgres", "template.cue"), []byte("package postgres\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := DirFS(dir, 100)
	if err := fstest.TestFS(fsys, "platform.cue", "postgres/template.cue"); err != nil {
		t.Fatal(err)
	}

	mkfifo(t, filepath.Join(dir, "queue.cue"))
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.cue")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.cue"), make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]error{"queue.cue": ErrNotRegular, "zero.cue": ErrNotRegular, "big.cue": ErrTooLarge} {
		within(t, 5*time.Second, func() {
			if _, err := fs.ReadFile(fsys, name); !errors.Is(err, want) || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
				t.Errorf("ReadFile %s: %v, want %v naming the file", name, err, want)
			}
			// Through Open, as a reader of fs.FS without ReadFile would.
			f, err := fsys.Open(name)
			if err == nil {
				buf := make([]byte, 1000)
				for err == nil {
					_, err = f.Read(buf)
				}
				f.Close()
			}
			if !errors.Is(err, want) {
				t.Errorf("Open+Read %s: %v, want %v", name, err, want)
			}
		})
	}
	if _, err := fsys.Open("../escape"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open ../escape: %v", err)
	}
}
