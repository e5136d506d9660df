// Package archive checks uploaded module archives (gzip-compressed tar) before the
// registry stores anything, and packs module directories into archives
// deterministically for plat module publish.
package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/platdev/plat/internal/hclbound"
)

// Sentinel errors; the registry maps ErrInvalid to 400 and ErrTooLarge to 413.
var (
	// ErrInvalid means the archive is not a safe gzip-compressed tar of a module.
	ErrInvalid = errors.New("invalid archive")
	// ErrTooLarge means a size or file-count limit was exceeded.
	ErrTooLarge = errors.New("archive too large")
)

// Limits bound what an archive may hold.
type Limits struct {
	// MaxCompressed bounds the archive as uploaded.
	MaxCompressed int64
	// MaxUnpacked bounds the sum of the file sizes once unpacked.
	MaxUnpacked int64
	// MaxFiles bounds the number of entries (files and directories).
	MaxFiles int
}

// DefaultLimits are generous for Terraform modules and small enough to refuse
// decompression bombs quickly.
var DefaultLimits = Limits{
	MaxCompressed: 20 << 20,
	MaxUnpacked:   200 << 20,
	MaxFiles:      10000,
}

// maxKept bounds each file Validate keeps in memory for documentation, and
// every Terraform file: a larger one is refused, since its nesting is not
// checked and tofu would parse it.
const maxKept = 1 << 20

// Contents is what Validate learned about a valid archive.
type Contents struct {
	// Files lists the regular files, cleaned, in archive order.
	Files []string
	// Unpacked is the total size of the regular files.
	Unpacked int64
	// Root holds the root-level *.tf and *.tf.json files and README files (each
	// at most 1 MiB), keyed by name, for documentation.
	Root map[string][]byte
	// All holds every regular file by name; only for ValidateCatalog.
	All map[string][]byte
	// Archive is the archive to store: the upload itself when every entry
	// already has a normal mode (0755 for directories and executables, 0644 for
	// other files), else the upload rewritten with normal modes.
	Archive []byte
}

// normalMode is the only mode an entry keeps: no setuid, setgid or sticky bits,
// nothing writable by group or others (issue 17, finding 9).
func normalMode(h *tar.Header) int64 {
	if h.Typeflag == tar.TypeDir || h.Mode&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// countingReader fails once more than limit bytes have been read through it, so a
// decompression bomb is refused after reading at most limit bytes of it.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, fmt.Errorf("%w: more than %d bytes once decompressed", ErrTooLarge, c.limit)
	}
	if rem := c.limit - c.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, fmt.Errorf("%w: more than %d bytes once decompressed", ErrTooLarge, c.limit)
	}
	return n, err
}

// Validate checks an uploaded archive without writing anything anywhere: gzip+tar
// only; only regular files and directories; no absolute paths, no "..", no
// duplicates; size and file-count limits; at least one Terraform file at the root;
// no Terraform file over 1 MiB, none nested deeper than hclbound.MaxDepth. File
// modes are normalised in Contents.Archive. Errors wrap ErrInvalid or ErrTooLarge.
func Validate(data []byte, lim Limits) (*Contents, error) { return validate(data, lim, false) }

// validate is Validate; for a catalog (ValidateCatalog) it keeps every file in
// Contents.All and needs no Terraform file.
func validate(data []byte, lim Limits, catalog bool) (*Contents, error) {
	if lim.MaxCompressed > 0 && int64(len(data)) > lim.MaxCompressed {
		return nil, fmt.Errorf("%w: %d bytes compressed, limit %d", ErrTooLarge, len(data), lim.MaxCompressed)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return nil, fmt.Errorf("%w: not gzip-compressed", ErrInvalid)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Tar headers and padding add at most a few KiB per entry on top of the
	// file contents themselves.
	maxFiles := lim.MaxFiles
	if maxFiles <= 0 {
		maxFiles = DefaultLimits.MaxFiles
	}
	maxUnpacked := lim.MaxUnpacked
	if maxUnpacked <= 0 {
		maxUnpacked = DefaultLimits.MaxUnpacked
	}
	cr := &countingReader{r: zr, limit: maxUnpacked + int64(maxFiles+2)*3*512 + 2<<20}
	tr := tar.NewReader(cr)
	c := &Contents{Root: map[string][]byte{}}
	if catalog {
		c.All = map[string][]byte{}
	}
	seen := map[string]bool{}
	entries := 0
	hasTF := false
	normal := true
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, wrapRead(err)
		}
		entries++
		if entries > maxFiles {
			return nil, fmt.Errorf("%w: more than %d entries", ErrTooLarge, maxFiles)
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, err
		}
		if name != "" && h.Mode != normalMode(h) {
			normal = false
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if name == "" {
				continue
			}
		case tar.TypeReg:
			if name == "" {
				return nil, fmt.Errorf("%w: file with an empty name", ErrInvalid)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return nil, fmt.Errorf("%w: %s: links are not allowed", ErrInvalid, short(name))
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, fmt.Errorf("%w: %s: devices and pipes are not allowed", ErrInvalid, short(name))
		default:
			return nil, fmt.Errorf("%w: %s: unsupported entry type %q", ErrInvalid, short(name), h.Typeflag)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s appears twice", ErrInvalid, short(name))
		}
		seen[name] = true
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Size < 0 {
			return nil, fmt.Errorf("%w: %s: negative size", ErrInvalid, short(name))
		}
		c.Unpacked += h.Size
		if c.Unpacked > maxUnpacked {
			return nil, fmt.Errorf("%w: more than %d bytes unpacked", ErrTooLarge, maxUnpacked)
		}
		c.Files = append(c.Files, name)
		root := !strings.Contains(name, "/")
		tf := isTerraform(name)
		if root && tf {
			hasTF = true
		}
		if tf && h.Size > maxKept {
			// Its nesting cannot be checked without parsing it whole, and tofu
			// parses it recursively: too deep, and every tofu init that fetches
			// the module dies of a stack overflow (issue 17, finding 1).
			return nil, fmt.Errorf("%w: %s: %d bytes; Terraform files over 1 MiB are refused", ErrTooLarge, short(name), h.Size)
		}
		keep := root && h.Size <= maxKept && isDocFile(name)
		check := tf
		var dst io.Writer = io.Discard
		var buf bytes.Buffer
		if keep || check || catalog {
			dst = &buf
		}
		if n, err := io.Copy(dst, tr); err != nil {
			return nil, wrapRead(err)
		} else if n != h.Size {
			return nil, fmt.Errorf("%w: %s: truncated", ErrInvalid, short(name))
		}
		if check {
			if err := checkDepth(name, buf.Bytes()); err != nil {
				return nil, err
			}
		}
		if keep {
			c.Root[name] = buf.Bytes()
		}
		if catalog {
			c.All[name] = buf.Bytes()
		}
	}
	// Read what follows the tar end marker too, so the gzip checksum is verified
	// (still through the counting reader).
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, wrapRead(err)
	}
	if !hasTF && !catalog {
		return nil, fmt.Errorf("%w: no Terraform files (*.tf, *.tf.json) at the module root", ErrInvalid)
	}
	c.Archive = data
	if !normal {
		if c.Archive, err = normalise(data); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkDepth refuses a Terraform file nested too deeply for the parsers plat
// and tofu run on it (issue 17, finding 1).
func checkDepth(name string, src []byte) error {
	check := hclbound.CheckHCL
	if strings.HasSuffix(name, ".tf.json") {
		check = hclbound.CheckJSON
	}
	if err := check(name, src, 0); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// normalise rewrites an archive Validate accepted with normal modes, clean
// names, and no owners, timestamps or extended headers, as Pack writes them.
func normalise(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	epoch := time.Unix(0, 0).UTC()
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, wrapRead(err)
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		nh := &tar.Header{Name: name, Typeflag: h.Typeflag, Mode: normalMode(h), ModTime: epoch, Format: tar.FormatPAX}
		if h.Typeflag == tar.TypeDir {
			nh.Name += "/"
		} else {
			nh.Size = h.Size
		}
		if err := tw.WriteHeader(nh); err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeDir {
			if _, err := io.Copy(tw, tr); err != nil {
				return nil, wrapRead(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func isTerraform(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// short shortens a name for an error message, so a huge one is not echoed whole.
func short(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return s
}

func wrapRead(err error) error {
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

func isDocFile(name string) bool {
	return isTerraform(name) || strings.HasPrefix(strings.ToLower(name), "readme")
}

// cleanName checks a tar entry name and returns it without a leading "./" or a
// trailing "/"; the archive root is "".
func cleanName(name string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: entry %q: %s", ErrInvalid, short(name), why)
	}
	switch {
	case len(name) > 1024:
		return bad("name too long")
	case strings.ContainsAny(name, "\x00\\"):
		return bad("name holds a NUL or backslash")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return bad("absolute path")
	}
	n := strings.TrimSuffix(name, "/")
	for strings.HasPrefix(n, "./") {
		n = n[2:]
	}
	if n == "." || n == "" {
		return "", nil
	}
	for _, part := range strings.Split(n, "/") {
		switch part {
		case "..":
			return bad("path escapes the module root")
		case "", ".":
			return bad("path is not clean")
		}
	}
	if path.Clean(n) != n {
		return bad("path is not clean")
	}
	return n, nil
}
