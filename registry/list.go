package registry

import (
	"context"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/store"
)

// ModuleSummary is one module in list and search results: its latest version.
type ModuleSummary struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"`
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Provider    string    `json:"provider"`
	Description string    `json:"description"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"published_at"`
	Downloads   int64     `json:"downloads"`
	Verified    bool      `json:"verified"`
}

// ListMeta is the pagination block of list responses.
type ListMeta struct {
	Limit         int    `json:"limit"`
	CurrentOffset int    `json:"current_offset"`
	NextOffset    *int   `json:"next_offset,omitempty"`
	PrevOffset    *int   `json:"prev_offset,omitempty"`
	NextURL       string `json:"next_url,omitempty"`
}

// ModuleList is the body of the list and search endpoints.
type ModuleList struct {
	Meta    ListMeta        `json:"meta"`
	Modules []ModuleSummary `json:"modules"`
}

// ListQuery selects modules for List.
type ListQuery struct {
	Namespace string // "" for all
	Provider  string // "" for all
	Query     string // case-insensitive substring of the latest version's address or description
	Offset    int
	Limit     int // 1-100; default 15
}

// Default and largest ListQuery.Limit.
const (
	DefaultListLimit = 15
	MaxListLimit     = 100
)

// newListCache returns the cache of list answers, or nil when ttl is negative.
// Lists are what anonymous clients can ask for without end; the store answers
// each from an index, and the cache makes a burst of the same page one query.
func newListCache(ttl time.Duration) *otter.Cache[ListQuery, ModuleList] {
	if ttl < 0 {
		return nil
	}
	return otter.Must(&otter.Options[ListQuery, ModuleList]{
		MaximumSize:      10000,
		ExpiryCalculator: otter.ExpiryWriting[ListQuery, ModuleList](ttl),
	})
}

// List lists modules (latest version of each), filtered and paginated by the
// store. When reads need a token, only the token's namespace is listed. Answers
// are cached for Config.ListCacheTTL; a publish through this Service clears
// them.
func (s *Service) List(ctx context.Context, tok *store.Token, q ListQuery) (ModuleList, error) {
	if s.cfg.RequireReadToken && q.Namespace == "" && tok != nil {
		q.Namespace = tok.Namespace
	}
	if err := s.CanRead(tok, q.Namespace); err != nil {
		return ModuleList{}, err
	}
	if q.Limit <= 0 || q.Limit > MaxListLimit {
		q.Limit = DefaultListLimit
	}
	q.Offset = max(q.Offset, 0)
	q.Query = strings.ToLower(strings.TrimSpace(q.Query))
	if s.lists != nil {
		if l, ok := s.lists.GetIfPresent(q); ok {
			return l, nil
		}
	}
	// One more than a page says whether there is a next one.
	mods, err := s.st.Modules(ctx, store.ModuleQuery{Namespace: q.Namespace, System: q.Provider, Query: q.Query, Offset: q.Offset, Limit: q.Limit + 1})
	if err != nil {
		return ModuleList{}, err
	}
	out := ModuleList{Meta: ListMeta{Limit: q.Limit, CurrentOffset: q.Offset}, Modules: []ModuleSummary{}}
	for i, m := range mods {
		if i == q.Limit {
			next := q.Offset + q.Limit
			out.Meta.NextOffset = &next
			break
		}
		latest, err := s.listedLatest(ctx, m.Latest)
		if err != nil {
			return ModuleList{}, err
		}
		sum := summary(latest)
		sum.Downloads = m.Downloads
		out.Modules = append(out.Modules, sum)
	}
	if q.Offset > 0 {
		p := max(q.Offset-q.Limit, 0)
		out.Meta.PrevOffset = &p
	}
	if s.lists != nil {
		s.lists.Set(q, out)
	}
	return out, nil
}

// listedLatest is the version a list shows for a module whose newest stored
// version is newest: the newest version not yanked (the one `version`
// constraints and the module page pick), or newest itself when every version
// is yanked or the store keeps no lifecycle marks.
func (s *Service) listedLatest(ctx context.Context, newest store.Version) (store.Version, error) {
	if _, ok := s.st.(store.Lifecycle); !ok {
		return newest, nil
	}
	e, err := s.module(ctx, newest.Ref)
	if err != nil {
		return store.Version{}, err
	}
	if v, ok := e.latest(); ok {
		return v, nil
	}
	return newest, nil
}

func summary(v store.Version) ModuleSummary {
	return ModuleSummary{
		ID:          v.Key.String(),
		Namespace:   v.Namespace,
		Name:        v.Name,
		Version:     v.Version,
		Provider:    v.System,
		Description: v.Description,
		Source:      v.Ref.String(),
		PublishedAt: v.PublishedAt,
		Downloads:   v.Downloads,
	}
}
