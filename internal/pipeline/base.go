package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/userfile"
)

// ErrBase is returned when --base names neither a directory nor a git
// revision.
var ErrBase = errors.New("not a directory or a git revision")

// BaseStacks reads the base version of the stack files under paths, for the
// cost delta of a review: base is a directory holding the same relative paths
// (a checkout of the target branch), or a git revision whose files are read
// with git archive. A path missing from the base is a stack being added and is
// skipped. Sources are named BASE:PATH.
func BaseStacks(ctx context.Context, base string, paths []string) ([]compiler.Source, error) {
	if st, err := os.Stat(base); err == nil && st.IsDir() {
		var roots []string
		for _, p := range paths {
			if filepath.IsAbs(p) {
				return nil, fmt.Errorf("--base %s: %s is absolute; give paths relative to the working directory", base, p)
			}
			bp := filepath.Join(base, p)
			if _, err := os.Stat(bp); err == nil {
				roots = append(roots, bp)
			}
		}
		files, err := FindStacks(roots)
		if err != nil {
			return nil, err
		}
		var out []compiler.Source
		for _, f := range files {
			b, err := userfile.ReadFile(f)
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(base, f)
			out = append(out, compiler.Source{Name: filepath.ToSlash(base) + ":" + filepath.ToSlash(rel), Data: b})
		}
		return out, nil
	}
	return gitStacks(ctx, base, paths)
}

func gitOut(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// gitStacks reads the stack files under paths at revision rev.
func gitStacks(ctx context.Context, rev string, paths []string) ([]compiler.Source, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("--base %s: %w", rev, ErrBase)
	}
	if _, err := gitOut(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return nil, fmt.Errorf("--base %s: %w", rev, ErrBase)
	}
	prefixOut, err := gitOut(ctx, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSpace(string(prefixOut))
	topOut, err := gitOut(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	top := strings.TrimSpace(string(topOut))
	var out []compiler.Source
	for _, p := range paths {
		if filepath.IsAbs(p) {
			return nil, fmt.Errorf("--base %s: %s is absolute; give paths relative to the working directory", rev, p)
		}
		rp := path.Clean(prefix + filepath.ToSlash(p))
		if rp == "." {
			rp = ""
		}
		// The path as of rev, relative to the repository root (--show-prefix
		// above); a path that rev lacks is a stack being added.
		spec := rp
		if rp == "" {
			spec = "."
		}
		ls, err := gitOut(ctx, "-C", top, "ls-tree", "-r", "--name-only", "-z", rev, "--", spec)
		if err != nil {
			return nil, err
		}
		if len(ls) == 0 {
			continue
		}
		tb, err := gitOut(ctx, "-C", top, "archive", "--format=tar", rev, "--", spec)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(bytes.NewReader(tb))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("git archive %s: %w", rev, err)
			}
			if h.Typeflag != tar.TypeReg || !IsStackFile(path.Base(h.Name)) || hidden(h.Name) {
				continue
			}
			if h.Size > userfile.MaxSize {
				return nil, fmt.Errorf("%s:%s: larger than %d bytes", rev, h.Name, userfile.MaxSize)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			name := strings.TrimPrefix(h.Name, prefix)
			out = append(out, compiler.Source{Name: rev + ":" + name, Data: b})
		}
	}
	return out, nil
}

// hidden reports whether a path runs through a directory FindStacks skips.
func hidden(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if strings.HasPrefix(d, ".") || d == "node_modules" || d == "vendor" {
			return true
		}
	}
	return false
}
