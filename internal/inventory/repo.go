package inventory

import (
	"context"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
)

// RepositoryKey names the repository holding dir for inventory pushes: git's
// remote.origin.url (without credentials), else the name of the git top level, else of dir.
func RepositoryKey(ctx context.Context, dir string) string {
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "config", "--get", "remote.origin.url").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			// A URL may carry credentials (https://user:token@host/...): never
			// send or print them.
			if u, err := url.Parse(s); err == nil && u.User != nil {
				u.User = nil
				s = u.String()
			}
			return s
		}
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return filepath.Base(s)
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return dir
}
