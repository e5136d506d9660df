package userfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DirFS is like os.DirFS(dir) for a directory of the user's (a --catalog
// directory): every file it opens or reads must be a regular file of at most
// limit bytes, so a named pipe or a link to a device in it fails at once with
// an *Error instead of blocking or filling memory. Directories list and stat as
// usual.
func DirFS(dir string, limit int64) fs.FS { return &dirFS{dir: dir, limit: limit} }

type dirFS struct {
	dir   string
	limit int64
}

var (
	_ fs.ReadFileFS = (*dirFS)(nil)
	_ fs.ReadDirFS  = (*dirFS)(nil)
	_ fs.StatFS     = (*dirFS)(nil)
)

func (d *dirFS) join(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return filepath.Join(d.dir, filepath.FromSlash(name)), nil
}

// Open opens a directory, or a regular file whose reads stop with an *Error
// wrapping ErrTooLarge past the limit.
func (d *dirFS) Open(name string) (fs.File, error) {
	full, err := d.join("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(full)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return os.Open(full)
	}
	f, err := Open(full)
	if err != nil {
		return nil, err
	}
	return &limitedFile{File: f, path: full, limit: d.limit, left: d.limit}, nil
}

// ReadFile reads a regular file of at most the limit.
func (d *dirFS) ReadFile(name string) ([]byte, error) {
	full, err := d.join("read", name)
	if err != nil {
		return nil, err
	}
	return Read(full, d.limit)
}

// ReadDir lists a directory, sorted by name.
func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	full, err := d.join("readdir", name)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(full)
}

// Stat stats a file, following symlinks.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	full, err := d.join("stat", name)
	if err != nil {
		return nil, err
	}
	return os.Stat(full)
}

// limitedFile is a regular file that yields at most limit bytes.
type limitedFile struct {
	*os.File
	path  string
	limit int64
	left  int64
}

func (f *limitedFile) Read(p []byte) (int, error) {
	if int64(len(p)) > f.left+1 {
		p = p[:f.left+1]
	}
	n, err := f.File.Read(p)
	f.left -= int64(n)
	if f.left < 0 {
		return 0, &Error{Path: f.path, Err: tooLarge{f.limit}}
	}
	if err == io.EOF {
		return n, io.EOF
	}
	return n, err
}
