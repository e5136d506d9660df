package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// moduleEntry is a cached view of one module's versions.
type moduleEntry struct {
	versions  []store.Version // ascending semantic-version order
	byVersion map[string]int
	marks     map[string]store.Marks // lifecycle marks by version
	body      []byte                 // the versions endpoint's JSON response: yanked versions left out
	bodyLen   []string               // its Content-Length header value
}

// newVersionCache returns the cache of module version lists. Every tofu init
// asks for a module's versions; the TTL bounds how stale a list may be when
// another replica publishes.
func newVersionCache(ttl time.Duration) *otter.Cache[store.Ref, *moduleEntry] {
	return otter.Must(&otter.Options[store.Ref, *moduleEntry]{
		MaximumSize:      100000,
		ExpiryCalculator: otter.ExpiryWriting[store.Ref, *moduleEntry](ttl),
	})
}

// module returns the (cached) versions of ref.
func (s *Service) module(ctx context.Context, ref store.Ref) (*moduleEntry, error) {
	if e, ok := s.modules.GetIfPresent(ref); ok {
		return e, nil
	}
	vs, err := s.st.Versions(ctx, ref)
	if err != nil {
		return nil, err
	}
	marks, err := s.moduleMarks(ctx, ref)
	if err != nil {
		return nil, err
	}
	e := newModuleEntry(ref, vs, marks)
	s.modules.Set(ref, e)
	return e, nil
}

// invalidate drops what is cached about ref after a publish through this
// Service, so that it sees the new version at once.
func (s *Service) invalidate(ref store.Ref) {
	s.modules.Invalidate(ref)
	if s.lists != nil {
		s.lists.InvalidateAll()
	}
}

type versionsResponse struct {
	Modules []versionsModule `json:"modules"`
}

type versionsModule struct {
	Source   string        `json:"source"`
	Versions []versionItem `json:"versions"`
}

type versionItem struct {
	Version string `json:"version"`
}

func newModuleEntry(ref store.Ref, vs []store.Version, marks map[string]store.Marks) *moduleEntry {
	sortVersions(vs)
	e := &moduleEntry{versions: vs, byVersion: make(map[string]int, len(vs)), marks: marks}
	items := make([]versionItem, 0, len(vs))
	for i, v := range vs {
		e.byVersion[v.Version] = i
		if marks[v.Version].Yanked == nil {
			items = append(items, versionItem{Version: v.Version})
		}
	}
	e.body, _ = json.Marshal(versionsResponse{Modules: []versionsModule{{Source: ref.String(), Versions: items}}})
	e.bodyLen = []string{strconv.Itoa(len(e.body))}
	return e
}

func sortVersions(vs []store.Version) {
	module.Sort(vs, func(v store.Version) string { return v.Version })
}

// latest returns, of the versions not yanked, the newest release, or the newest pre-release if there is no
// release (module.Latest: what tofu picks without a version constraint).
func (e *moduleEntry) latest() (store.Version, bool) {
	var names []string
	var kept []store.Version
	for _, v := range e.versions {
		if e.marks[v.Version].Yanked == nil {
			names = append(names, v.Version)
			kept = append(kept, v)
		}
	}
	if i := module.Latest(names); i >= 0 {
		return kept[i], true
	}
	return store.Version{}, false
}

// same returns the stored version equal to version up to build metadata.
func (e *moduleEntry) same(version string) (store.Version, bool) {
	for _, v := range e.versions {
		if module.Same(v.Version, version) {
			return v, true
		}
	}
	return store.Version{}, false
}

func (e *moduleEntry) get(version string) (store.Version, bool) {
	i, ok := e.byVersion[version]
	if !ok {
		return store.Version{}, false
	}
	return e.versions[i], true
}

// VersionsJSON returns the body of the versions endpoint for ref.
func (s *Service) VersionsJSON(ctx context.Context, tok *store.Token, ref store.Ref) ([]byte, error) {
	e, err := s.versionsEntry(ctx, tok, ref)
	if err != nil {
		return nil, err
	}
	return e.body, nil
}

// versionsEntry returns the cached entry of ref for the versions endpoint,
// which has at least one version.
func (s *Service) versionsEntry(ctx context.Context, tok *store.Token, ref store.Ref) (*moduleEntry, error) {
	if err := s.CanRead(tok, ref.Namespace); err != nil {
		return nil, err
	}
	if CheckRef(ref) != nil {
		return nil, fmt.Errorf("module %s: %w", ref, ErrNotFound)
	}
	e, err := s.module(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(e.versions) == 0 {
		return nil, fmt.Errorf("module %s: %w", ref, ErrNotFound)
	}
	return e, nil
}

func (s *Service) lookup(ctx context.Context, k store.Key) (store.Version, error) {
	if CheckRef(k.Ref) != nil {
		return store.Version{}, fmt.Errorf("module %s: %w", k.Ref, ErrNotFound)
	}
	e, err := s.module(ctx, k.Ref)
	if err != nil {
		return store.Version{}, err
	}
	var v store.Version
	var ok bool
	if k.Version == "" {
		v, ok = e.latest()
	} else {
		v, ok = e.get(k.Version)
	}
	if !ok {
		if k.Version == "" {
			return v, fmt.Errorf("module %s: %w", k.Ref, ErrNotFound)
		}
		return v, fmt.Errorf("module %s: %w", k, ErrNotFound)
	}
	return v, nil
}

// VersionInfo is one published version of a module as the portal lists it:
// when it was published, its downloads and its lifecycle marks.
type VersionInfo struct {
	Version     string
	PublishedAt time.Time
	Downloads   int64
	Marks       store.Marks
}

// ModuleVersions lists every version of ref, yanked ones included, newest
// first, from the version cache; ErrNotFound when there are none.
func (s *Service) ModuleVersions(ctx context.Context, tok *store.Token, ref store.Ref) ([]VersionInfo, error) {
	if err := s.CanRead(tok, ref.Namespace); err != nil {
		return nil, err
	}
	if CheckRef(ref) != nil {
		return nil, fmt.Errorf("module %s: %w", ref, ErrNotFound)
	}
	e, err := s.module(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(e.versions) == 0 {
		return nil, fmt.Errorf("module %s: %w", ref, ErrNotFound)
	}
	out := make([]VersionInfo, 0, len(e.versions))
	for i := len(e.versions) - 1; i >= 0; i-- {
		v := e.versions[i]
		out = append(out, VersionInfo{Version: v.Version, PublishedAt: v.PublishedAt, Downloads: v.Downloads, Marks: e.marks[v.Version]})
	}
	return out, nil
}
