package serve_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// TestDataDirOwnerOnly opens a store the way `token create` and `serve` do on a
// data directory made with a plain mkdir (0755), publishes a version, and
// checks that every file plat made (registry.db, its -wal and -shm, archives) is
// owner-only and that the open data directory is reported (#17 finding 5).
func TestDataDirOwnerOnly(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()
	// token create: metadata only.
	st, err := serve.OpenStore(ctx, serve.StoreConfig{DataDir: data, Log: lg}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, hash, _ := auth.NewToken()
	if err := st.CreateToken(ctx, store.Token{Hash: hash, Namespace: "acme", Scope: store.ScopePublish, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// serve: metadata and archives, kept open while the files are checked so
	// that SQLite's -wal and -shm exist.
	st, err = serve.OpenStore(ctx, serve.StoreConfig{DataDir: data, Log: lg}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := registry.NewService(ctx, st, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tok := &store.Token{Namespace: "acme", Scope: store.ScopePublish}
	k := store.Key{Ref: store.Ref{Namespace: "acme", Name: "network", System: "aws"}, Version: "1.0.0"}
	if _, err := svc.Publish(ctx, tok, k, bytes.NewReader(module(t))); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == data {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		seen[filepath.Base(rel)] = true
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", rel, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"registry.db", "registry.db-wal", "registry.db-shm", "archives"} {
		if !seen[name] {
			t.Errorf("%s not found in the data directory (found %v)", name, seen)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), data) {
		t.Errorf("no warning naming the group/world-accessible data directory; logs:\n%s", logs.String())
	}
}

// TestDataDirCreatedOwnerOnly checks that a data directory plat creates itself
// is owner-only and draws no warning.
func TestDataDirCreatedOwnerOnly(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new", "data")
	var logs bytes.Buffer
	st, err := serve.OpenStore(context.Background(), serve.StoreConfig{DataDir: data, Log: slog.New(slog.NewTextHandler(&logs, nil))}, false)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", got)
	}
	if logs.Len() > 0 {
		t.Errorf("unexpected logs:\n%s", logs.String())
	}
}

// module returns a small valid module archive.
func module(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("variable \"name\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := archive.Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
