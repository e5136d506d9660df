package crd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadDirSpecialFiles: a named pipe or a link to /dev/zero in a --crds
// directory fails at once with a clear error instead of blocking or filling
// memory (issue 17, finding 4).
func TestLoadDirSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "not a regular file"},
		{"devzero", func(p string) error { return os.Symlink("/dev/zero", p) }, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.make(filepath.Join(dir, "x.yaml")); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := LoadDir(dir)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("LoadDir: got %v, want an error containing %q", err, tc.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("LoadDir blocked on a special file")
			}
		})
	}
}
