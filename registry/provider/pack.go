package provider

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// zipTime is the modification time of every entry Zip writes: zip's epoch,
// so the same files always give the same bytes (and the same zh: hash).
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip packs the unpacked provider package in dir (the OS_ARCH directory of a
// filesystem mirror) deterministically: regular files only, sorted by name,
// without directory entries (so the zip's h1: hash is the directory's), mode
// 0755 for executables and 0644 for the rest, one fixed timestamp, deflated.
// A symbolic link or special file is an error naming it.
func Zip(dir string, l Limits) ([]byte, error) {
	type file struct{ rel, abs string }
	var files []file
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: %w: a symbolic link; copy the file it names instead", p, ErrInvalid)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: %w: not a regular file", p, ErrInvalid)
		}
		if err := checkEntryName(rel); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if len(files) >= l.MaxEntries {
			return fmt.Errorf("%s: %w: more than %d files", dir, ErrTooLarge, l.MaxEntries)
		}
		files = append(files, file{rel, p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b file) int {
		if a.rel < b.rel {
			return -1
		}
		if a.rel > b.rel {
			return 1
		}
		return 0
	})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		fi, err := os.Stat(f.abs)
		if err != nil {
			return nil, err
		}
		total += fi.Size()
		if total > l.MaxUnpacked {
			return nil, fmt.Errorf("%s: %w: more than %d bytes", dir, ErrTooLarge, l.MaxUnpacked)
		}
		data, err := os.ReadFile(f.abs)
		if err != nil {
			return nil, err
		}
		mode := fs.FileMode(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		h := &zip.FileHeader{Name: f.rel, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
