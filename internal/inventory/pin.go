package inventory

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/platdev/plat/internal/catalogcache"
	"github.com/platdev/plat/internal/catalogpin"
	"github.com/platdev/plat/internal/pipeline"
)

// PinResolver resolves each stack to the catalog version its repository
// pins (plat-catalog.yaml, found from the stack file's directory upward),
// fetched once per pin through cache; a stack without a pin gets fallback.
// A bad pin file, a digest mismatch or an unreachable registry with an empty
// cache is that stack's error, never a silent fallback. It is safe for
// concurrent use.
func PinResolver(ctx context.Context, cache *catalogcache.Cache, fallback Catalog) Resolver {
	var mu sync.Mutex
	type entry struct {
		c   Catalog
		err error
	}
	byPin := map[string]*entry{}
	return func(path string) (Catalog, error) {
		pin, pinPath, err := catalogpin.Find(filepath.Dir(path))
		if err != nil {
			return Catalog{}, err
		}
		if pin == nil {
			return fallback, nil
		}
		mu.Lock()
		defer mu.Unlock()
		if e, ok := byPin[pinPath]; ok {
			return e.c, e.err
		}
		e := &entry{}
		fsys, _, err := cache.Fetch(ctx, pin)
		if err != nil {
			e.err = fmt.Errorf("%s: %w", pipeline.DisplayName(pinPath), err)
		} else {
			e.c = PinnedCatalog(pipeline.DisplayName(pinPath), pin.Registry, pin.Namespace, pin.Name, pin.Version, pin.Digest, fsys)
		}
		byPin[pinPath] = e
		return e.c, e.err
	}
}
