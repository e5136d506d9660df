// Package memfs is a read-only fs.FS over files held in memory, for archives
// that are checked and read without touching the disk. (testing/fstest.MapFS
// does the same, but it is a test helper and product packages do not link test
// harnesses.)
package memfs

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// FS maps slash-separated paths (fs.ValidPath, no leading "/") to file
// contents. Directories are implied by the paths of the files below them.
type FS map[string][]byte

var (
	_ fs.ReadFileFS = FS(nil)
	_ fs.ReadDirFS  = FS(nil)
	_ fs.StatFS     = FS(nil)
)

// Open opens a file or an implied directory.
func (m FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m[name]; ok {
		return &file{info: info{name: path.Base(name), size: int64(len(data)), mode: 0o444}, r: bytes.NewReader(data)}, nil
	}
	entries, ok := m.entries(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &dir{info: info{name: path.Base(name), mode: fs.ModeDir | 0o555}, entries: entries}, nil
}

// ReadFile returns a copy of a file's contents.
func (m FS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, ok := m[name]
	if !ok {
		if _, isDir := m.entries(name); isDir {
			return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
		}
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(data), nil
}

// ReadDir lists an implied directory, sorted by name.
func (m FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	entries, ok := m.entries(name)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return entries, nil
}

// Stat describes a file or an implied directory.
func (m FS) Stat(name string) (fs.FileInfo, error) {
	f, err := m.Open(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err.(*fs.PathError).Err}
	}
	return f.Stat()
}

// entries lists what is directly below dir, and whether dir exists (the root
// always does).
func (m FS) entries(dir string) ([]fs.DirEntry, bool) {
	prefix := ""
	if dir != "." {
		prefix = dir + "/"
	}
	seen := map[string]fs.DirEntry{}
	for name, data := range m {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		rest := name[len(prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seen[rest[:i]] = fs.FileInfoToDirEntry(info{name: rest[:i], mode: fs.ModeDir | 0o555})
		} else {
			seen[rest] = fs.FileInfoToDirEntry(info{name: rest, size: int64(len(data)), mode: 0o444})
		}
	}
	if len(seen) == 0 && dir != "." {
		return nil, false
	}
	out := make([]fs.DirEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, true
}

type info struct {
	name string
	size int64
	mode fs.FileMode
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.mode.IsDir() }
func (i info) Sys() any           { return nil }

type file struct {
	info info
	r    *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *file) Close() error               { return nil }

type dir struct {
	info    info
	entries []fs.DirEntry
	off     int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *dir) Close() error { return nil }

// ReadDir lists the directory's entries n at a time, as fs.ReadDirFile says.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
