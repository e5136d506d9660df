// Package userfile reads files from a user's tree (stack files, rendered
// manifests, ignore rules, configs, a --catalog directory) without trusting what
// is there: only regular files are read, up to a size limit. A named pipe must
// never block plat, and a symlink to /dev/zero must never exhaust its memory
// (issue 17, finding 4).
//
// Every read first stats the path (following symlinks, so a link to a regular
// file is fine) and refuses anything that is not a regular file without opening
// it. The file is then opened non-blocking and checked again on the open
// descriptor, so a file swapped for a pipe in between cannot block either.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxSize is the limit plat applies to every file it reads from a user's tree:
// stack files, rendered YAML, .platdriftignore and --ignore files, the drift
// watch config, and the files of a --catalog directory. Real ones are a few
// kilobytes; 4 MiB leaves room for generated ones (docs/compiler.md, docs/drift.md).
const MaxSize = 4 << 20

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotRegular means the path is a named pipe, device, socket, directory or
	// other non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge means the file holds more than the limit.
	ErrTooLarge = errors.New("file too large")
)

// Error is a refusal to read Path. Its text is "PATH: not a regular file (named
// pipe)" or "PATH: larger than 4 MiB".
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the reason, which wraps ErrNotRegular or ErrTooLarge.
func (e *Error) Unwrap() error { return e.Err }

// tooLarge is the reason for a file over limit bytes.
type tooLarge struct{ limit int64 }

func (t tooLarge) Error() string        { return "larger than " + Size(t.limit) }
func (t tooLarge) Is(target error) bool { return target == ErrTooLarge }

// Size formats a byte count the way limits are documented: 4 MiB, 512 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// kind names a non-regular file mode for error messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "irregular file"
}

func notRegular(path string, m fs.FileMode) error {
	return &Error{Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(m))}
}

// Check returns nil when path is a regular file (or a symlink to one), an
// *Error wrapping ErrNotRegular when it is something else, and the *fs.PathError
// of os.Stat when it cannot be stat'ed (fs.ErrNotExist and so on). It opens
// nothing.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notRegular(path, fi.Mode())
	}
	return nil
}

// ReadFile reads a regular file of at most MaxSize bytes.
func ReadFile(path string) ([]byte, error) { return Read(path, MaxSize) }

// Read reads the regular file at path, of at most limit bytes. It never blocks on
// a named pipe or device and never reads more than limit+1 bytes. Errors from
// the file system (a missing file: errors.Is(err, fs.ErrNotExist)) are returned
// as they are; a refusal is an *Error wrapping ErrNotRegular or ErrTooLarge.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(path, f, limit)
}

// Open opens the regular file at path for reading, refusing anything else
// without blocking. The caller bounds what it reads (see Read).
func Open(path string) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// Swapped between the stat and the open.
		f.Close()
		return nil, notRegular(path, fi.Mode())
	}
	return f, nil
}

func readAll(path string, f *os.File, limit int64) ([]byte, error) {
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, &Error{Path: path, Err: tooLarge{limit}}
	}
	// Read even when the size said it fits: files in /proc report size 0, and a
	// file may grow while it is read.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &Error{Path: path, Err: tooLarge{limit}}
	}
	return b, nil
}
