package portal

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/store"
)

var urlPathEscape = url.PathEscape

// listLimit is how many modules a page of the list shows per namespace.
const listLimit = 50

// moduleListData is the modules page's content.
type moduleListData struct {
	Query      string
	Modules    []registry.ModuleSummary
	Prev, Next *int
}

func (p *Portal) modulesPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	variant := viewerVariant(v) + "|" + q.Get("q") + "|" + q.Get("offset")
	d := moduleListData{Query: strings.TrimSpace(q.Get("q")), Modules: []registry.ModuleSummary{}}
	off, _ := strconv.Atoi(q.Get("offset"))
	off = max(off, 0)
	lq := registry.ListQuery{Query: d.Query, Offset: off, Limit: listLimit}
	var lists []registry.ModuleList
	if v.All {
		l, err := p.svc.List(r.Context(), nil, lq)
		if err != nil {
			p.failErr(w, r, v, "the module list", err)
			return
		}
		lists = append(lists, l)
	} else {
		for _, ns := range v.Namespaces {
			if !v.canRead(ns) {
				continue
			}
			lq.Namespace = ns
			l, err := p.svc.List(r.Context(), v.token(ns), lq)
			if err != nil {
				p.failErr(w, r, v, "the module list", err)
				return
			}
			lists = append(lists, l)
		}
	}
	for _, l := range lists {
		d.Modules = append(d.Modules, l.Modules...)
		if l.Meta.NextOffset != nil {
			d.Next = l.Meta.NextOffset
		}
		if l.Meta.PrevOffset != nil {
			d.Prev = l.Meta.PrevOffset
		}
	}
	if len(lists) > 1 {
		sort.Slice(d.Modules, func(i, j int) bool { return d.Modules[i].ID < d.Modules[j].ID })
	}
	title := "Modules"
	if d.Query != "" {
		title = "Modules matching “" + d.Query + "”"
	}
	// The list itself is asked for every time (the service caches it), so
	// a module published a moment ago is never missing; only executing the
	// template, nearly all of the page's cost, is saved while it is the same.
	if kept, ok := p.lists.GetIfPresent(variant); ok && reflect.DeepEqual(kept.data, d) {
		writePage(w, r, http.StatusOK, kept.page)
		return
	}
	b, err := p.renderBytes(v, "modules", title, "modules", d)
	if err != nil {
		p.log.Error("portal render", "page", "modules", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.lists.Set(variant, &listPage{data: d, page: b})
	writePage(w, r, http.StatusOK, b)
}

// listPage is a rendered module-list page and the list it shows.
type listPage struct {
	data moduleListData
	page []byte
}

// viewerVariant names what of the viewer a page depends on: whether it is
// logged in and what it may read.
func viewerVariant(v *viewer) string {
	return strconv.FormatBool(v.LoggedIn) + "|" + strings.Join(v.Namespaces, ",")
}

// newPageCache keeps rendered list pages for a second.
func newPageCache() *otter.Cache[string, *listPage] {
	return otter.Must(&otter.Options[string, *listPage]{
		MaximumWeight:    32 << 20,
		Weigher:          func(k string, v *listPage) uint32 { return uint32(len(k) + 2*len(v.page)) },
		ExpiryCalculator: otter.ExpiryWriting[string, *listPage](time.Second),
	})
}

// moduleView is what the module page shows of one version; cached briefly.
type moduleView struct {
	registry.ModuleDetails
	Readme     template.HTML
	Versions   []versionRow
	Latest     string
	UsageKnown bool

	// pages holds the rendered page by what else it depends on (the host
	// and the viewer's header), for as long as the view is cached.
	pages sync.Map // string -> []byte
}

// versionRow is one line of the versions table.
type versionRow struct {
	registry.VersionInfo
	Current bool
	Stacks  []registry.StackUsage
}

// moduleData is the module page's content.
type moduleData struct {
	*moduleView
	Host string
}

// moduleCache keeps module views for a second, like the service's own
// caches: a burst of page views is one store round trip.
type moduleCache struct {
	c *otter.Cache[store.Key, *moduleView]
}

func newModuleCache() *moduleCache {
	return &moduleCache{c: otter.Must(&otter.Options[store.Key, *moduleView]{
		MaximumSize:      10000,
		ExpiryCalculator: otter.ExpiryWriting[store.Key, *moduleView](time.Second),
	})}
}

func (p *Portal) modulePage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	k := store.Key{Ref: store.Ref{Namespace: r.PathValue("ns"), Name: r.PathValue("name"), System: r.PathValue("provider")}, Version: r.PathValue("version")}
	what := "Module " + k.Ref.String()
	if k.Version != "" {
		what += " version " + k.Version
	}
	if !v.canRead(k.Namespace) {
		// Namespaces the login may not read look like no module at all.
		p.fail(w, r, v, http.StatusNotFound, what+" was not found.")
		return
	}
	mv, err := p.moduleView(r.Context(), v.token(k.Namespace), k)
	if err != nil {
		p.failErr(w, r, v, what, err)
		return
	}
	variant := r.Host + "|" + viewerVariant(v)
	if b, ok := mv.pages.Load(variant); ok {
		writePage(w, r, http.StatusOK, b.([]byte))
		return
	}
	b, err := p.renderBytes(v, "module", k.Ref.String(), "modules", moduleData{moduleView: mv, Host: r.Host})
	if err != nil {
		p.log.Error("portal render", "page", "module", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	mv.pages.Store(variant, b)
	writePage(w, r, http.StatusOK, b)
}

func (p *Portal) moduleView(ctx context.Context, tok *store.Token, k store.Key) (*moduleView, error) {
	if mv, ok := p.modules.c.GetIfPresent(k); ok {
		return mv, nil
	}
	d, err := p.svc.Details(ctx, tok, k)
	if err != nil {
		return nil, err
	}
	vs, err := p.svc.ModuleVersions(ctx, tok, k.Ref)
	if err != nil {
		return nil, err
	}
	mv := &moduleView{ModuleDetails: d, Readme: p.readmes.get(d.SHA256, d.Root.Readme)}
	if k.Version == "" {
		mv.Latest = d.Version
	} else if l, err := p.svc.Details(ctx, tok, store.Key{Ref: k.Ref}); err == nil {
		mv.Latest = l.Version
	}
	u, err := p.svc.Usage(ctx, tok, store.UseModule, k.Namespace, k.Name, k.System)
	byVersion := map[string][]registry.StackUsage{}
	switch {
	case err == nil:
		mv.UsageKnown = true
		for _, vu := range u.Versions {
			byVersion[vu.Version] = vu.Stacks
		}
	case !errors.Is(err, registry.ErrNoUsage):
		return nil, err
	}
	for _, x := range vs {
		mv.Versions = append(mv.Versions, versionRow{VersionInfo: x, Current: x.Version == d.Version, Stacks: byVersion[x.Version]})
	}
	p.modules.c.Set(k, mv)
	return mv, nil
}
