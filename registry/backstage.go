package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"sync"

	"github.com/platdev/plat/internal/backstage"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/store"
)

// Backstage entities (issue 13): GET /backstage/catalog-info.yaml serves, as
// multi-document YAML for Backstage's URL reader, the entities of the stacks
// the latest inventory pushes report (store.StackStore) and a golden path per
// template of the newest version of every catalog the registry holds, and of
// the catalog embedded in plat. Reads need a token where reads do; a token
// sees the stacks its namespace pushed and its namespace's catalogs.

// routeBackstage names the route.
const routeBackstage = "backstage_catalog_info"

// GoldenPathsFunc returns the golden paths of the catalog in fsys (nil: the
// catalog embedded in plat), Catalog unset: the registry fills it in.
type GoldenPathsFunc func(ctx context.Context, fsys fs.FS) ([]backstage.GoldenPath, error)

// goldenCache keeps the golden paths of catalog versions by digest: a
// catalog version is immutable, and compiling its templates takes a while.
type goldenCache struct {
	mu sync.Mutex
	m  map[string][]backstage.GoldenPath
}

// BackstageEntities returns the entities tok may read; baseURL is where the
// registry's web UI is reached (links).
func (s *Service) BackstageEntities(ctx context.Context, tok *store.Token, baseURL string) ([]backstage.Entity, error) {
	if s.cfg.RequireReadToken && tok == nil {
		return nil, fmt.Errorf("%w: this registry requires a token to read", ErrUnauthorized)
	}
	var stacks []backstage.Stack
	if ss, ok := s.st.(store.StackStore); ok {
		pushed, err := ss.InventoryStacks(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range pushed {
			if s.CanRead(tok, p.Owner) != nil {
				continue
			}
			if st, ok := entityStack(p); ok {
				stacks = append(stacks, st)
			}
		}
	}
	paths, err := s.goldenPaths(ctx, tok)
	if err != nil {
		return nil, err
	}
	return backstage.Entities(stacks, paths, backstage.Options{BaseURL: baseURL}), nil
}

// entityStack reads a kept stack; stacks that did not compile, or lack a
// name or team, have no entities.
func entityStack(p store.PushedStack) (backstage.Stack, bool) {
	var d inventoryStack
	if err := json.Unmarshal(p.Doc, &d); err != nil || !d.Compiles || d.Name == "" || d.Team == "" {
		return backstage.Stack{}, false
	}
	st := backstage.Stack{Key: p.Owner + "/" + p.Repository + "/" + d.File, File: d.File, Name: d.Name, Team: d.Team,
		Environment: d.Environment, CostCenter: d.CostCenter, Target: d.Target, Region: d.Region,
		Catalog: backstage.CatalogID{Kind: d.Catalog.Kind, Namespace: d.Catalog.Namespace, Name: d.Catalog.Name, Version: d.Catalog.Version}}
	for _, r := range d.Resources {
		br := backstage.Resource{Name: r.Name, Template: r.Template}
		if m := r.Module; m != nil {
			br.Module = &backstage.Module{Namespace: m.Namespace, Name: m.Name, System: m.System, Version: m.Version}
		}
		st.Resources = append(st.Resources, br)
	}
	return st, true
}

// goldenPaths lists the golden paths of the embedded catalog and of the
// newest version (yanked ones left out) of each catalog tok may read.
func (s *Service) goldenPaths(ctx context.Context, tok *store.Token) ([]backstage.GoldenPath, error) {
	if s.cfg.GoldenPaths == nil {
		return nil, nil
	}
	out, err := s.cachedGoldenPaths(ctx, "embedded", func() (fs.FS, error) { return nil, nil })
	if err != nil {
		return nil, fmt.Errorf("embedded catalog: %w", err)
	}
	for i := range out {
		out[i].Catalog = backstage.CatalogID{Kind: backstage.CatalogEmbedded}
	}
	lc, ok := s.st.(store.Lifecycle)
	if !ok {
		return out, nil
	}
	refs, err := lc.Catalogs(ctx)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if s.CanRead(tok, ref.Namespace) != nil {
			continue
		}
		vs, err := s.catalogVersions(ctx, tok, ref)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var v *store.CatalogVersion
		for i := len(vs) - 1; i >= 0; i-- {
			if vs[i].Yanked == nil {
				v = &vs[i]
				break
			}
		}
		if v == nil {
			continue
		}
		ps, err := s.cachedGoldenPaths(ctx, "sha256:"+v.SHA256, func() (fs.FS, error) {
			a, err := lc.OpenCatalogArchive(ctx, *v)
			if err != nil {
				return nil, err
			}
			defer a.Close()
			data, err := io.ReadAll(io.LimitReader(a, archive.CatalogLimits.MaxCompressed+1))
			if err != nil {
				return nil, err
			}
			c, err := archive.ValidateCatalog(data, archive.CatalogLimits)
			if err != nil {
				return nil, err
			}
			return c.FS(), nil
		})
		if err != nil {
			// One catalog that no longer compiles must not hide the others.
			s.log.Warn("backstage: golden paths of a catalog", "catalog", v.CatalogKey.String(), "err", err)
			continue
		}
		for _, p := range ps {
			p.Catalog = backstage.CatalogID{Kind: backstage.CatalogPin, Namespace: v.Namespace, Name: v.Name, Version: v.Version}
			p.Owner = v.Namespace
			p.Deprecated = v.Deprecated != nil
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Service) cachedGoldenPaths(ctx context.Context, key string, open func() (fs.FS, error)) ([]backstage.GoldenPath, error) {
	s.golden.mu.Lock()
	defer s.golden.mu.Unlock()
	if ps, ok := s.golden.m[key]; ok {
		return append([]backstage.GoldenPath(nil), ps...), nil
	}
	fsys, err := open()
	if err != nil {
		return nil, err
	}
	ps, err := s.cfg.GoldenPaths(ctx, fsys)
	if err != nil {
		return nil, err
	}
	if s.golden.m == nil {
		s.golden.m = map[string][]backstage.GoldenPath{}
	}
	s.golden.m[key] = ps
	return append([]backstage.GoldenPath(nil), ps...), nil
}

// addBackstage adds the Backstage route.
func (h *Handler) addBackstage(route func(name, path string, hd http.Handler, methods ...string)) {
	route(routeBackstage, "/backstage/catalog-info.yaml", h.api(h.backstage), readMethods...)
}

func (h *Handler) backstage(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	es, err := h.svc.BackstageEntities(r.Context(), tok, scheme+"://"+r.Host)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := backstage.Encode(&buf, es); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}
