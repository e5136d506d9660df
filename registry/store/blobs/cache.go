package blobs

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/store"
)

// Cache keeps recently served archives in memory in front of another Blobs.
// Module archives are small and immutable (a key is written once, by one
// publish), and `tofu init` fetches the same few over and over, so serving them
// from memory saves an open, a stat and a read per download on files, and a
// round trip per download on a bucket. A deleted key is dropped from the cache.
type Cache struct {
	inner   Blobs
	maxItem int64
	c       *otter.Cache[string, []byte]
}

var _ Blobs = (*Cache)(nil)

// NewCache caches up to maxBytes of archives from inner, evicting the least
// useful first. Archives larger than an eighth of maxBytes are always read from
// inner, so one large module cannot push out the working set.
func NewCache(inner Blobs, maxBytes int64) (*Cache, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("archive cache size must be positive, not %d", maxBytes)
	}
	c, err := otter.New(&otter.Options[string, []byte]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(key string, v []byte) uint32 { return uint32(len(key) + len(v)) },
	})
	if err != nil {
		return nil, err
	}
	return &Cache{inner: inner, maxItem: max(maxBytes/8, 1), c: c}, nil
}

// Put stores data in inner; the cache fills on the first Open.
func (c *Cache) Put(ctx context.Context, key string, data []byte) error {
	c.c.Invalidate(key)
	return c.inner.Put(ctx, key, data)
}

// Open serves key from memory when it can, and otherwise reads it from inner,
// keeping it when it is small enough.
func (c *Cache) Open(ctx context.Context, key string) (store.Archive, error) {
	if data, ok := c.c.GetIfPresent(key); ok {
		return newMemArchive(data), nil
	}
	a, err := c.inner.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	size, err := a.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = a.Seek(0, io.SeekStart)
	}
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("archive %s: %w", key, err)
	}
	if size > c.maxItem {
		return a, nil
	}
	defer a.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(a, data); err != nil {
		return nil, fmt.Errorf("archive %s: %w", key, err)
	}
	c.c.Set(key, data)
	return newMemArchive(data), nil
}

// Delete removes key from inner and from the cache.
func (c *Cache) Delete(ctx context.Context, key string) error {
	err := c.inner.Delete(ctx, key)
	c.c.Invalidate(key)
	return err
}

// Close closes inner.
func (c *Cache) Close() error {
	c.c.InvalidateAll()
	return c.inner.Close()
}

// Cached reports whether key is held in memory (for tests).
func (c *Cache) Cached(key string) bool {
	_, ok := c.c.GetIfPresent(key)
	return ok
}

// WeightedSize is the number of bytes the cache holds, keys included.
func (c *Cache) WeightedSize() uint64 { return c.c.WeightedSize() }

// memArchive is a cached archive: a reader over the cache's own bytes.
type memArchive struct {
	*bytes.Reader
	data []byte
}

func newMemArchive(data []byte) memArchive { return memArchive{bytes.NewReader(data), data} }

func (memArchive) Close() error { return nil }

// Unread implements store.InMemory.
func (a memArchive) Unread() []byte { return a.data[len(a.data)-a.Len():] }

var _ store.InMemory = memArchive{}
