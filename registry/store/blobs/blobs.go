// Package blobs stores module archives: in a local directory (files written to a
// temporary name, synced and renamed into place) or in any bucket gocloud.dev/blob
// opens (S3-compatible stores through s3blob).
package blobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	// Registers the s3:// URL scheme.
	_ "gocloud.dev/blob/s3blob"

	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/registry/internal/ownerfs"
	"github.com/platdev/plat/registry/store"
)

// Blobs is an archive store. Put is atomic: after an error or a crash, key is either
// absent or holds the complete data.
type Blobs interface {
	Put(ctx context.Context, key string, data []byte) error
	// Open returns store.ErrNotFound (wrapped) for a missing key.
	Open(ctx context.Context, key string) (store.Archive, error)
	Delete(ctx context.Context, key string) error
	Close() error
}

// Open opens blobs at a URL: s3://bucket?endpoint=...&region=... (credentials from
// the usual AWS environment), or file:///dir or a bare directory path for local files.
func Open(ctx context.Context, u string) (Blobs, error) {
	if strings.Contains(u, "://") && !strings.HasPrefix(u, "file://") {
		b, err := blob.OpenBucket(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("open bucket: %w", err)
		}
		return &Bucket{b: b}, nil
	}
	return NewFiles(strings.TrimPrefix(u, "file://"))
}

// Files keeps archives as files below a directory.
type Files struct{ dir string }

var _ Blobs = (*Files)(nil)

// NewFiles returns a Files rooted at dir, creating it if needed. Directories
// and files it creates are owner-only (0700 and 0600).
func NewFiles(dir string) (*Files, error) {
	if err := ownerfs.MkdirAll(dir); err != nil {
		return nil, err
	}
	return &Files{dir: dir}, nil
}

func (f *Files) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(f.dir, filepath.FromSlash(key)), nil
}

// Put writes data atomically (temporary file, sync, rename), so readers never see
// a partial archive.
func (f *Files) Put(_ context.Context, key string, data []byte) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := ownerfs.MkdirAll(filepath.Dir(p)); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, data, 0o600)
}

// Open opens the archive file for key.
func (f *Files) Open(_ context.Context, key string) (store.Archive, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("archive %s: %w", key, store.ErrNotFound)
	}
	return fh, err
}

// Delete removes key; a missing key is not an error.
func (f *Files) Delete(_ context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Close does nothing.
func (f *Files) Close() error { return nil }

// Bucket keeps archives as objects in a gocloud.dev bucket. An object PUT is
// atomic in S3, so Put writes the final key directly; callers use unique keys.
type Bucket struct{ b *blob.Bucket }

var _ Blobs = (*Bucket)(nil)

// Put uploads data as key.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	return b.b.Upload(ctx, key, bytes.NewReader(data), &blob.WriterOptions{ContentType: "application/gzip"})
}

// Open returns a seekable reader of key.
func (b *Bucket) Open(ctx context.Context, key string) (store.Archive, error) {
	r, err := b.b.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("archive %s: %w", key, store.ErrNotFound)
		}
		return nil, err
	}
	return r, nil
}

// Delete removes key; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := b.b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	return nil
}

// Close closes the bucket.
func (b *Bucket) Close() error { return b.b.Close() }

var _ io.ReadSeekCloser = (*blob.Reader)(nil)
