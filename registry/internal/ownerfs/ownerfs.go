// Package ownerfs creates directories and files only their owner may read, as
// the registry's data directory needs: its database holds the key that signs
// download grants (#17 finding 5).
package ownerfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of everything the registry creates in its data directory.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// MkdirAll creates dir and any missing parents with mode 0700, whatever the
// umask. Directories that already exist are left as they are.
func MkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // made by a concurrent caller
		}
		return err
	}
	return os.Chmod(dir, DirMode)
}

// CreateFile creates an empty file at path with mode 0600, whatever the umask,
// unless it exists already.
func CreateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Open returns the paths under root (root included) that users other than the
// owner may read, write or enter, in walk order. Only the first max are
// returned (all when max <= 0) with the total count.
func Open(root string, max int) (paths []string, total int, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed while walking
		}
		if fi.Mode().Perm()&0o077 != 0 {
			total++
			if max <= 0 || len(paths) < max {
				paths = append(paths, p)
			}
		}
		return nil
	})
	return paths, total, err
}
