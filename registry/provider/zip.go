package provider

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/dirhash"
)

// Limits bound what one provider archive may hold.
type Limits struct {
	// MaxZip bounds one archive as uploaded.
	MaxZip int64
	// MaxUnpacked bounds the bytes of one archive once decompressed (counted
	// while reading, not taken from the headers, which a zip bomb lies in).
	MaxUnpacked int64
	// MaxEntries bounds the entries (files and directories) of one archive.
	MaxEntries int
	// MaxPlatforms bounds the archives of one version.
	MaxPlatforms int
	// MaxUpload bounds all the archives of one version together.
	MaxUpload int64
}

// DefaultLimits fit the largest public providers (a few hundred MiB per
// platform) and refuse decompression bombs after reading at most MaxUnpacked.
var DefaultLimits = Limits{
	MaxZip:       512 << 20,
	MaxUnpacked:  2 << 30,
	MaxEntries:   64,
	MaxPlatforms: 32,
	MaxUpload:    1 << 30,
}

// Hashes are the checksums of one provider archive in tofu's notation.
type Hashes struct {
	// ZH is "zh:" and the hex SHA-256 of the zip file.
	ZH string
	// H1 is "h1:" and the dirhash (golang.org/x/mod/sumdb/dirhash.Hash1) of
	// the zip's entries: what tofu computes for a zip, and equal to its hash of
	// the unpacked package directory when the zip has no directory entries.
	H1 string
}

// List returns the hashes as a mirror's VERSION.json lists them: h1 first.
func (h Hashes) List() []string { return []string{h.H1, h.ZH} }

// Checked is what Check learned about a valid archive.
type Checked struct {
	Hashes
	// Binary is the name of the provider executable in the zip.
	Binary string
	// Entries is the number of entries; Unpacked the decompressed bytes.
	Entries  int
	Unpacked int64
}

// Check checks that data is a safe provider package of type typ and computes
// its hashes. A safe package is a zip whose entries are regular files or
// directories with clean relative names (no absolute paths, no "..", no
// backslashes, no duplicates, not even up to case), no symbolic links or
// other special files, within l's size and entry limits, with exactly one
// executable named terraform-provider-TYPE... at its root.
func Check(data []byte, typ string, l Limits) (Checked, error) {
	var c Checked
	if int64(len(data)) > l.MaxZip {
		return c, fmt.Errorf("%w: archive of %d bytes exceeds the limit of %d", ErrTooLarge, len(data), l.MaxZip)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return c, fmt.Errorf("%w: not a zip archive: %v", ErrInvalid, err)
	}
	if len(zr.File) > l.MaxEntries {
		return c, fmt.Errorf("%w: %d entries exceed the limit of %d", ErrTooLarge, len(zr.File), l.MaxEntries)
	}
	if len(zr.File) == 0 {
		return c, fmt.Errorf("%w: empty zip archive", ErrInvalid)
	}
	seen := make(map[string]string, len(zr.File))
	names := make([]string, 0, len(zr.File))
	files := make(map[string]*zip.File, len(zr.File))
	prefix := "terraform-provider-" + typ
	for _, f := range zr.File {
		name := f.Name
		if err := checkEntryName(name); err != nil {
			return c, err
		}
		low := strings.ToLower(strings.TrimSuffix(name, "/"))
		if prev, dup := seen[low]; dup {
			return c, fmt.Errorf("%w: entries %q and %q name the same file", ErrInvalid, prev, name)
		}
		seen[low] = name
		mode := f.Mode()
		isDir := strings.HasSuffix(name, "/")
		switch {
		case isDir && mode.IsDir():
			if f.UncompressedSize64 != 0 {
				return c, fmt.Errorf("%w: directory entry %s has contents", ErrInvalid, name)
			}
		case !isDir && mode.IsRegular():
		case mode&fs.ModeSymlink != 0:
			return c, fmt.Errorf("%w: %s is a symbolic link", ErrInvalid, name)
		default:
			return c, fmt.Errorf("%w: %s is not a regular file or directory (mode %v)", ErrInvalid, name, mode)
		}
		if f.Flags&0x1 != 0 {
			return c, fmt.Errorf("%w: %s is encrypted", ErrInvalid, name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return c, fmt.Errorf("%w: %s uses compression method %d; want stored or deflated", ErrInvalid, name, f.Method)
		}
		names = append(names, name)
		files[name] = f
		if !isDir && !strings.Contains(name, "/") && strings.HasPrefix(name, prefix) {
			if c.Binary != "" {
				return c, fmt.Errorf("%w: two provider executables, %s and %s; a package holds one", ErrInvalid, c.Binary, name)
			}
			if mode.Perm()&0o100 == 0 && f.CreatorVersion>>8 == creatorUnix {
				// A Unix-made zip records modes; tofu would unpack a file it cannot run.
				return c, fmt.Errorf("%w: %s is not executable (mode %v)", ErrInvalid, name, mode.Perm())
			}
			c.Binary = name
		}
	}
	if c.Binary == "" {
		return c, fmt.Errorf("%w: no provider executable %s* at the archive's root", ErrInvalid, prefix)
	}
	c.Entries = len(names)
	// The one decompression of every entry is dirhash's own reading, each
	// entry through a counter that stops at what is left of the budget: a zip
	// bomb (a small archive, or overlapping entries, that unpack to far more
	// than the headers say) is refused after MaxUnpacked bytes.
	cr := &budgetReader{left: l.MaxUnpacked}
	h1, err := dirhash.Hash1(names, func(name string) (io.ReadCloser, error) {
		f := files[name]
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		cr.name, cr.r = name, rc
		return struct {
			io.Reader
			io.Closer
		}{cr, rc}, nil
	})
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c.Unpacked = l.MaxUnpacked - cr.left
	c.H1 = h1
	sum := sha256.Sum256(data)
	c.ZH = "zh:" + hex.EncodeToString(sum[:])
	return c, nil
}

// creatorUnix is the "version made by" host of zips made on Unix, whose
// external attributes carry file modes.
const creatorUnix = 3

// budgetReader reads the current entry, failing once the archive's entries
// together exceed the budget.
type budgetReader struct {
	r    io.Reader
	name string
	left int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("%w: %s: more than the limit of bytes once unpacked", ErrTooLarge, b.name)
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%w: %s: %v", ErrInvalid, b.name, err)
	}
	return n, err
}

// maxEntryName bounds an entry's name.
const maxEntryName = 255

// checkEntryName refuses names that would land outside the package directory
// or differ between operating systems: absolute paths, "..", ".", empty
// segments, backslashes, drive letters, control characters, invalid UTF-8.
func checkEntryName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: entry %q: %s", ErrInvalid, name, why) }
	if name == "" || len(name) > maxEntryName {
		return bad("empty or longer than 255 bytes")
	}
	if !utf8.ValidString(name) {
		return bad("not UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control character in name")
		}
	}
	if strings.ContainsAny(name, `\:`) {
		return bad("backslash or colon in name")
	}
	if strings.HasPrefix(name, "/") {
		return bad("absolute path")
	}
	trimmed := strings.TrimSuffix(name, "/")
	if trimmed == "" || path.Clean(trimmed) != trimmed {
		return bad("not a clean relative path")
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == ".." || seg == "." {
			return bad("path escapes the package directory")
		}
	}
	return nil
}
