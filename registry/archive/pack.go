package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// DefaultExcludes are the gitignore-style patterns Pack always applies:
// Terraform's working directory and state, VCS metadata, and the files that
// usually hold secrets (variable values, environment files, crash logs with
// their request bodies, saved plans with variable values and state, CLI
// configuration and credentials with tokens). Issue 17, finding 15.
var DefaultExcludes = []string{
	".git/", ".terraform/", ".terraform.d/", "*.tfstate*", "tfplan", "*.tfplan",
	"*.tfvars", "*.tfvars.json", ".env", ".env.*", ".envrc",
	"crash.log", "crash.*.log", ".terraformrc", "terraform.rc", "credentials.tfrc.json",
}

// IgnoreFile is the file in a module directory whose patterns (gitignore syntax,
// as tofu's .terraformignore) Pack applies after DefaultExcludes, so a
// "!name" line can bring a default exclusion back on purpose.
const IgnoreFile = ".terraformignore"

// maxIgnoreFile bounds IgnoreFile.
const maxIgnoreFile = 1 << 20

// Packed is a packed module.
type Packed struct {
	// Archive is the gzip-compressed tar.
	Archive []byte
	// Excluded lists what was left out, slash-separated and relative to the
	// module directory, directories with a trailing "/", in walk order.
	Excluded []string
}

// ignoreMatcher reads dir's IgnoreFile (a regular file, if there is one) after
// DefaultExcludes.
func ignoreMatcher(dir string) (gitignore.Matcher, error) {
	var ps []gitignore.Pattern
	for _, p := range DefaultExcludes {
		ps = append(ps, gitignore.ParsePattern(p, nil))
	}
	path := filepath.Join(dir, IgnoreFile)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return gitignore.NewMatcher(ps), nil
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s: not a regular file", IgnoreFile)
	case fi.Size() > maxIgnoreFile:
		return nil, fmt.Errorf("%s: larger than %d bytes", IgnoreFile, maxIgnoreFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, nil))
	}
	return gitignore.NewMatcher(ps), nil
}

// Pack packs the module in dir; see PackModule.
func Pack(dir string) ([]byte, error) {
	p, err := PackModule(dir)
	if err != nil {
		return nil, err
	}
	return p.Archive, nil
}

// PackModule packs the module in dir as a gzip-compressed tar, leaving out what
// DefaultExcludes and dir's IgnoreFile match. The output depends only on file
// names, contents and executable bits: entries are sorted, and carry no
// timestamps, owners or other modes. Symbolic links and special files are errors.
func PackModule(dir string) (*Packed, error) {
	// WalkDir does not descend into a root that is a symbolic link: pack the
	// directory it names (links below the root stay errors).
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return nil, err
		}
	}
	ignore, err := ignoreMatcher(dir)
	if err != nil {
		return nil, err
	}
	packed := &Packed{}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	epoch := time.Unix(0, 0).UTC()
	var unpacked int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if ignore.Match(strings.Split(rel, "/"), d.IsDir()) {
			if d.IsDir() {
				packed.Excluded = append(packed.Excluded, rel+"/")
				return filepath.SkipDir
			}
			packed.Excluded = append(packed.Excluded, rel)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{Name: rel, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case d.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, rel+"/", 0o755
			return tw.WriteHeader(h)
		case info.Mode().IsRegular():
			// Stop before reading more than Validate would accept, rather than
			// holding all of a huge directory in memory first.
			if unpacked += info.Size(); unpacked > DefaultLimits.MaxUnpacked {
				return fmt.Errorf("%w: more than %d MiB of files (at %s)", ErrTooLarge, DefaultLimits.MaxUnpacked>>20, rel)
			}
			if buf.Len() > int(DefaultLimits.MaxCompressed) {
				return fmt.Errorf("%w: more than %d MiB compressed (at %s)", ErrTooLarge, DefaultLimits.MaxCompressed>>20, rel)
			}
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, info.Size(), 0o644
			if info.Mode()&0o111 != 0 {
				h.Mode = 0o755
			}
		default:
			return fmt.Errorf("%s: only regular files and directories can be published (found %s)", rel, info.Mode().Type())
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, f)
		if err == nil && n != info.Size() {
			err = fmt.Errorf("%s changed while being packed", rel)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	packed.Archive = buf.Bytes()
	return packed, nil
}
