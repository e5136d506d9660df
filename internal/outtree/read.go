package outtree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSymlink is returned by ReadFile for a symbolic link where a file or a
// directory is expected; ErrNotRegular for anything else that is not a regular
// file (a FIFO, a device, a directory); ErrTooLarge for a file over the limit.
var (
	ErrSymlink    = errors.New("is a symlink")
	ErrNotRegular = errors.New("is not a regular file")
	ErrTooLarge   = errors.New("is too large")
)

// ReadFile reads root/rel, rel with forward slashes, without following a
// symbolic link in any element of rel (root itself, given by the user, may be
// one), and reads only a regular file of at most max bytes. It never opens a
// FIFO or device for reading, so it cannot block or read without end.
func ReadFile(root, rel string, max int64) ([]byte, error) {
	if !fs.ValidPath(rel) || rel == "." {
		return nil, fmt.Errorf("%s: not a relative path", rel)
	}
	elems := strings.Split(rel, "/")
	p := root
	for i, e := range elems {
		p = filepath.Join(p, e)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		last := i == len(elems)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, &PathError{Path: p, Err: ErrSymlink, Want: want(last)}
		case !last && !fi.IsDir():
			return nil, &PathError{Path: p, Err: ErrNotRegular, Want: "a directory", Kind: kindOf(fi.Mode())}
		case last && !fi.Mode().IsRegular():
			return nil, &PathError{Path: p, Err: ErrNotRegular, Want: "a regular file", Kind: kindOf(fi.Mode())}
		}
	}
	f, err := openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &PathError{Path: p, Err: ErrTooLarge, Want: fmt.Sprintf("at most %d bytes", max)}
	}
	return b, nil
}

func want(last bool) string {
	if last {
		return "a regular file"
	}
	return "a directory"
}

// PathError says what was found at Path instead of what was wanted.
type PathError struct {
	Path string
	Err  error
	// Want is what should be there ("a regular file").
	Want string
	// Kind is what is there, when Err is ErrNotRegular ("a FIFO").
	Kind string
}

// Error reads like "out/checkout/outputs.tf: is a symlink, expected a regular file".
func (e *PathError) Error() string {
	return filepath.ToSlash(e.Path) + ": " + e.What()
}

// What is Error without the path.
func (e *PathError) What() string {
	switch {
	case errors.Is(e.Err, ErrTooLarge):
		return "is too large, expected " + e.Want
	case e.Kind != "":
		return "is " + e.Kind + ", expected " + e.Want
	}
	return e.Err.Error() + ", expected " + e.Want
}

func (e *PathError) Unwrap() error { return e.Err }

// openRegular opens p for reading, refusing a symlink (O_NOFOLLOW) and,
// after opening without blocking, anything but a regular file.
func openRegular(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow, 0)
	if err != nil {
		if isLoop(err) {
			return nil, &PathError{Path: p, Err: ErrSymlink, Want: "a regular file"}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &PathError{Path: p, Err: ErrNotRegular, Want: "a regular file", Kind: kindOf(fi.Mode())}
	}
	return f, nil
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a file"
	}
	return "a special file"
}
