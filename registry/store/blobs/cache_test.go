package blobs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/blobs"
)

func readAll(t *testing.T, b blobs.Blobs, key string) []byte {
	t.Helper()
	a, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer a.Close()
	data, err := io.ReadAll(a)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	// Archives are served with http.ServeContent, which seeks.
	if _, err := a.Seek(0, io.SeekStart); err != nil {
		t.Fatalf("seek %s: %v", key, err)
	}
	again, _ := io.ReadAll(a)
	if !bytes.Equal(data, again) {
		t.Fatalf("%s: second read after seek differs", key)
	}
	return data
}

// newCache returns a Cache of budget bytes in front of files in a new directory.
func newCache(t *testing.T, budget int64) (*blobs.Files, *blobs.Cache) {
	t.Helper()
	files, err := blobs.NewFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := blobs.NewCache(files, budget)
	if err != nil {
		t.Fatal(err)
	}
	return files, c
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	const budget = 8 << 10
	files, c := newCache(t, budget)
	small := bytes.Repeat([]byte("s"), 500)
	large := bytes.Repeat([]byte("L"), budget/8+1) // over the per-archive limit
	if err := c.Put(ctx, "m/small.tar.gz", small); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "m/large.tar.gz", large); err != nil {
		t.Fatal(err)
	}
	if c.Cached("m/small.tar.gz") {
		t.Fatal("Put filled the cache; it should fill on first Open")
	}
	if got := readAll(t, c, "m/small.tar.gz"); !bytes.Equal(got, small) {
		t.Fatalf("small archive: got %d bytes, want %d", len(got), len(small))
	}
	if !c.Cached("m/small.tar.gz") {
		t.Fatal("small archive not cached after Open")
	}
	// Served from memory: the file underneath is gone, the bytes are not.
	if err := files.Delete(ctx, "m/small.tar.gz"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "m/small.tar.gz"); !bytes.Equal(got, small) {
		t.Fatal("cached archive changed")
	}
	if got := readAll(t, c, "m/large.tar.gz"); !bytes.Equal(got, large) {
		t.Fatalf("large archive: got %d bytes, want %d", len(got), len(large))
	}
	if c.Cached("m/large.tar.gz") {
		t.Fatal("archive over an eighth of the budget was cached")
	}
	// Delete through the cache drops the cached copy.
	if err := c.Put(ctx, "m/other.tar.gz", small); err != nil {
		t.Fatal(err)
	}
	readAll(t, c, "m/other.tar.gz")
	if err := c.Delete(ctx, "m/other.tar.gz"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, "m/other.tar.gz"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := c.Open(ctx, "m/missing.tar.gz"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open missing: err = %v, want ErrNotFound", err)
	}
}

func TestCacheBudget(t *testing.T) {
	ctx := context.Background()
	const budget = 16 << 10
	_, c := newCache(t, budget)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = "m/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".tar.gz"
		if err := c.Put(ctx, keys[i], bytes.Repeat([]byte{byte(i)}, 1500)); err != nil {
			t.Fatal(err)
		}
	}
	// Many readers at once, over more archives than fit.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (i*7 + w) % len(keys)
				a, err := c.Open(ctx, keys[k])
				if err != nil {
					t.Error(err)
					return
				}
				data, _ := io.ReadAll(a)
				a.Close()
				if len(data) != 1500 || data[0] != byte(k) {
					t.Errorf("%s: wrong contents", keys[k])
					return
				}
			}
		})
	}
	wg.Wait()
	if got := c.WeightedSize(); got > budget {
		t.Fatalf("cache holds %d bytes, over its %d-byte budget", got, budget)
	}
	if got := c.WeightedSize(); got == 0 {
		t.Fatal("cache holds nothing after 1,600 reads")
	}
}

func TestNewCacheRejectsNonPositive(t *testing.T) {
	files, _ := blobs.NewFiles(t.TempDir())
	if _, err := blobs.NewCache(files, 0); err == nil {
		t.Fatal("NewCache(0) succeeded")
	}
}

// TestCacheInMemory: a cached archive offers its unread bytes (store.InMemory)
// from wherever it was read or sought to, and an archive read from storage
// does not claim to be in memory.
func TestCacheInMemory(t *testing.T) {
	ctx := context.Background()
	_, c := newCache(t, 8<<10)
	data := []byte("0123456789")
	if err := c.Put(ctx, "m/a.tar.gz", data); err != nil {
		t.Fatal(err)
	}
	first, err := c.Open(ctx, "m/a.tar.gz") // fills the cache
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	a, err := c.Open(ctx, "m/a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m, ok := a.(store.InMemory)
	if !ok {
		t.Fatalf("a cached archive (%T) is not store.InMemory", a)
	}
	if got := m.Unread(); string(got) != "0123456789" {
		t.Errorf("Unread before reading: %q", got)
	}
	if _, err := a.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got := m.Unread(); string(got) != "456789" {
		t.Errorf("Unread after seeking to 4: %q", got)
	}
	io.ReadFull(a, make([]byte, 2))
	if got := m.Unread(); string(got) != "6789" {
		t.Errorf("Unread after reading 2 more: %q", got)
	}
	files, _ := newCache(t, 8<<10)
	files.Put(ctx, "m/b.tar.gz", data)
	b, err := files.Open(ctx, "m/b.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, ok := b.(store.InMemory); ok {
		t.Errorf("an archive read from a file (%T) claims to be in memory", b)
	}
}
