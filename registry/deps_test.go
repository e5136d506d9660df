package registry_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering checks that the HTTP and service package depends on the
// storage interface only, and the client on the leaf naming package only: the
// backends (SQLite, PostgreSQL, gocloud) are linked by registry/serve (#15).
func TestLayering(t *testing.T) {
	for pkg, banned := range map[string][]string{
		"github.com/platdev/plat/registry": {"modernc.org/sqlite", "github.com/jackc/pgx", "gocloud.dev",
			"github.com/platdev/plat/registry/store/sqlstore", "github.com/platdev/plat/registry/store/blobs", "github.com/platdev/plat/internal/testtools"},
		"github.com/platdev/plat/registry/client": {"github.com/platdev/plat/registry/store", "modernc.org/sqlite"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
		}
	}
}
