package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/catalogcache"
	"github.com/platdev/plat/internal/catalogpin"
)

// ResolvePin finds the catalog pin (plat-catalog.yaml) of stack files, from
// each file's directory upward. It returns nil when none has one; stacks of
// one invocation that resolve to different pins (or some to none) are an
// error, since one invocation compiles with one catalog.
func ResolvePin(stacks []string) (*catalogpin.Pin, string, error) {
	var pin *catalogpin.Pin
	var pinPath, first string
	for i, s := range stacks {
		p, path, err := catalogpin.Find(filepath.Dir(s))
		if err != nil {
			return nil, "", err
		}
		if i == 0 {
			pin, pinPath, first = p, path, s
			continue
		}
		if (p == nil) != (pin == nil) || (p != nil && *p != *pin) {
			return nil, "", fmt.Errorf("%s and %s resolve to different catalog pins (%s, %s); render or validate them separately", DisplayName(first), DisplayName(s), describePin(pinPath), describePin(path))
		}
	}
	return pin, pinPath, nil
}

func describePin(path string) string {
	if path == "" {
		return "none: the shipped catalog"
	}
	return DisplayName(path)
}

// LoadPinned builds a compiler over the pinned catalog version from the
// cache (fetching it once), and returns the lifecycle warnings recorded for
// it: a deprecated catalog version, and each template whose module version
// is deprecated or yanked.
func LoadPinned(ctx context.Context, cache *catalogcache.Cache, pin *catalogpin.Pin, pinPath string) (*compiler.Compiler, []string, error) {
	fsys, st, err := cache.Fetch(ctx, pin)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", DisplayName(pinPath), err)
	}
	c, err := compiler.New(fsys)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: catalog %s: %w", DisplayName(pinPath), pin.Ref(), err)
	}
	var warns []string
	if st.CatalogDeprecated != "" {
		warns = append(warns, fmt.Sprintf("catalog %s is deprecated: %s", pin.Ref(), st.CatalogDeprecated))
	}
	for _, m := range st.Modules {
		if m.HasYanked {
			warns = append(warns, fmt.Sprintf("template %s uses module %s %s, which is yanked: %s", m.Template, m.Module, m.Version, reason(m.Yanked)))
		}
		if m.HasDeprecated {
			warns = append(warns, fmt.Sprintf("template %s uses module %s %s, which is deprecated: %s", m.Template, m.Module, m.Version, reason(m.Deprecated)))
		}
	}
	return c, warns, nil
}

func reason(r string) string {
	if r == "" {
		return "no reason given"
	}
	return r
}
