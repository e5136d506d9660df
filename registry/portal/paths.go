package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/maypok86/otter/v2"
	"go.yaml.in/yaml/v3"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/catalogpin"
	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/store"
)

// Golden paths: the embedded catalog and every catalog the registry holds.
// A catalog is loaded by the compiler once (the embedded one on first view,
// a registry version, immutable, the first time it is shown) and kept with
// its templates' descriptions and stack snippets. A snippet is compiled for
// each target when the catalog is loaded: the targets it compiles for are
// the template's supported targets, and the snippet shown is one that
// compiled.

// embeddedID names the embedded catalog in /paths/embedded/{template}.
const embeddedID = "embedded"

// catalogView is one loaded catalog.
type catalogView struct {
	// ID is "embedded" or NAMESPACE/NAME@VERSION (the template pages' path).
	ID      string
	Ref     store.CatalogRef // zero for the embedded catalog
	Version string
	Digest  string // sha256:... of a registry catalog's archive
	// Versions of a registry catalog, oldest first.
	Versions  []registry.CatalogVersionJSON
	Templates []*templateView
	// Err says why the catalog could not be loaded; it then has no templates.
	Err string
}

// Embedded reports whether this is the embedded catalog.
func (c *catalogView) Embedded() bool { return c.ID == embeddedID }

// templateView is one template of a catalog, as its page shows it.
type templateView struct {
	CatalogID   string
	Name        string
	Description string
	Module      string // HOST/NAMESPACE/NAME/SYSTEM
	Version     string
	Params      []paramRow
	Guardrails  []compiler.Guardrail
	Outputs     []string
	Targets     []string
	// Snippet is a stack file using the template that `plat validate`
	// accepts; "" when none compiled (SnippetErr says why).
	Snippet    string
	SnippetErr string
}

// paramRow is one parameter of a template.
type paramRow struct {
	Name     string
	Type     string
	Default  string // "-" when there is none
	Allowed  string // the allowed values or bounds, "" for any
	Required bool
	Doc      string
}

// pathsCache holds the loaded catalogs.
type pathsCache struct {
	embeddedFS fs.FS
	once       sync.Once
	embedded   *catalogView
	registry   *otter.Cache[string, *catalogView] // by NAMESPACE/NAME@VERSION sha256
}

func newPathsCache(embedded fs.FS) (*pathsCache, error) {
	return &pathsCache{embeddedFS: embedded, registry: otter.Must(&otter.Options[string, *catalogView]{MaximumSize: 256})}, nil
}

// embeddedCatalog returns the embedded catalog, loading it on first use.
func (pc *pathsCache) embeddedCatalog() *catalogView {
	if pc.embeddedFS == nil {
		return nil
	}
	pc.once.Do(func() {
		pc.embedded = loadCatalog(pc.embeddedFS, &catalogView{ID: embeddedID})
	})
	return pc.embedded
}

// loadCatalog compiles the catalog in fsys into cv.
func loadCatalog(fsys fs.FS, cv *catalogView) *catalogView {
	c, err := compiler.New(fsys)
	if err != nil {
		cv.Err = err.Error()
		return cv
	}
	names, err := c.TemplateNames()
	if err != nil {
		cv.Err = err.Error()
		return cv
	}
	p := c.Platform()
	for _, n := range names {
		t, err := c.Template(n)
		if err != nil {
			cv.Err = err.Error()
			return cv
		}
		tv := &templateView{
			CatalogID: cv.ID, Name: t.Name, Description: t.Description,
			Module:  p.Registry.String() + "/" + t.Module + "/" + t.System,
			Version: t.Version, Outputs: t.Outputs,
			Guardrails: append(append([]compiler.Guardrail{}, t.Guardrails...), c.OrgGuardrails()...),
		}
		if t.Parameters != nil {
			for _, f := range t.Parameters.Fields {
				tv.Params = append(tv.Params, paramOf(f))
			}
		}
		var errs []string
		for _, target := range []string{"terraform", "crossplane"} {
			s := Snippet(p, t, target)
			if err := validateSnippet(c, s); err != nil {
				errs = append(errs, target+": "+err.Error())
				continue
			}
			tv.Targets = append(tv.Targets, target)
			if tv.Snippet == "" {
				tv.Snippet = s
			}
		}
		if tv.Snippet == "" {
			tv.SnippetErr = strings.Join(errs, "; ")
		}
		cv.Templates = append(cv.Templates, tv)
	}
	return cv
}

func paramOf(f compiler.ShapeField) paramRow {
	s := f.Shape
	r := paramRow{Name: f.Name, Type: s.Type, Required: f.Required, Doc: s.Doc, Default: "-"}
	if r.Type == "" {
		r.Type = "any"
	}
	if s.Nullable {
		r.Type += " or null"
	}
	switch {
	case s.HasDefault:
		r.Default = yamlScalar(s.Default)
	case !f.Required:
		r.Default = "(depends on the stack)"
	}
	switch {
	case len(s.Enum) > 0:
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = yamlScalar(e)
		}
		r.Allowed = strings.Join(vals, ", ")
	case s.Min != nil || s.Max != nil:
		r.Allowed = bounds(s)
	case s.Pattern != "":
		r.Allowed = "matches " + s.Pattern
	}
	return r
}

func bounds(s *compiler.Shape) string {
	var parts []string
	if s.Min != nil {
		op := "≥"
		if s.ExclusiveMin {
			op = ">"
		}
		parts = append(parts, op+" "+strconv.FormatFloat(*s.Min, 'f', -1, 64))
	}
	if s.Max != nil {
		op := "≤"
		if s.ExclusiveMax {
			op = "<"
		}
		parts = append(parts, op+" "+strconv.FormatFloat(*s.Max, 'f', -1, 64))
	}
	return strings.Join(parts, " and ")
}

// yamlScalar writes v as it would be written in a stack file.
func yamlScalar(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

// registryCatalog returns catalog version k of the registry, loading it the
// first time. vs are the catalog's versions (oldest first).
func (p *Portal) registryCatalog(ctx context.Context, tok *store.Token, k store.CatalogKey, vs []registry.CatalogVersionJSON) (*catalogView, error) {
	var digest string
	for _, x := range vs {
		if x.Version == k.Version {
			digest = x.Digest
		}
	}
	if digest == "" {
		return nil, fmt.Errorf("catalog %s version %s: %w", k.CatalogRef, k.Version, registry.ErrNotFound)
	}
	id := k.Namespace + "/" + k.Name + "@" + k.Version
	if cv, ok := p.paths.registry.GetIfPresent(id + " " + digest); ok {
		return cv, nil
	}
	a, _, err := p.svc.OpenCatalog(ctx, tok, k)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(a, archive.CatalogLimits.MaxCompressed+1))
	a.Close()
	if err != nil {
		return nil, err
	}
	cv := &catalogView{ID: id, Ref: k.CatalogRef, Version: k.Version, Digest: digest, Versions: vs}
	contents, err := archive.ValidateCatalog(data, archive.CatalogLimits)
	if err != nil {
		cv.Err = err.Error()
	} else {
		cv = loadCatalog(contents.FS(), cv)
	}
	p.paths.registry.Set(id+" "+digest, cv)
	return cv, nil
}

// newest returns the newest version not yanked, "" if none.
func newest(vs []registry.CatalogVersionJSON) string {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Yanked == nil {
			return vs[i].Version
		}
	}
	return ""
}

// pathsData is the golden paths page's content.
type pathsData struct {
	Catalogs []*catalogView
}

func (p *Portal) pathsPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	var d pathsData
	if e := p.paths.embeddedCatalog(); e != nil {
		d.Catalogs = append(d.Catalogs, e)
	}
	refs, err := p.catalogRefs(r.Context(), v)
	if err != nil {
		p.failErr(w, r, v, "the registry's catalogs", err)
		return
	}
	for _, ref := range refs {
		tok := v.token(ref.Namespace)
		c, err := p.svc.Catalog(r.Context(), tok, ref)
		if err != nil {
			p.failErr(w, r, v, "catalog "+ref.String(), err)
			return
		}
		ver := newest(c.Versions)
		if ver == "" {
			d.Catalogs = append(d.Catalogs, &catalogView{ID: ref.String(), Ref: ref, Versions: c.Versions, Err: "every version is yanked"})
			continue
		}
		cv, err := p.registryCatalog(r.Context(), tok, store.CatalogKey{CatalogRef: ref, Version: ver}, c.Versions)
		if err != nil {
			p.failErr(w, r, v, "catalog "+ref.String(), err)
			return
		}
		d.Catalogs = append(d.Catalogs, cv)
	}
	p.render(w, r, v, http.StatusOK, "paths", "Golden paths", "paths", d)
}

// catalogRefs lists the registry's catalogs the viewer may read; none when the
// store keeps no catalogs.
func (p *Portal) catalogRefs(ctx context.Context, v *viewer) ([]store.CatalogRef, error) {
	var out []store.CatalogRef
	add := func(tok *store.Token, only string) error {
		refs, err := p.svc.Catalogs(ctx, tok)
		if errors.Is(err, registry.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range refs {
			if only == "" || r.Namespace == only {
				out = append(out, r)
			}
		}
		return nil
	}
	if v.All {
		return out, add(nil, "")
	}
	for _, ns := range v.Namespaces {
		if v.canRead(ns) {
			if err := add(v.token(ns), ns); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// templateData is a template page's content.
type templateData struct {
	Catalog  *catalogView
	Template *templateView
	Pin      string // the plat-catalog.yaml of a registry catalog
}

func (p *Portal) templatePage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	name := r.PathValue("template")
	var cv *catalogView
	if r.PathValue("ns") == "" {
		cv = p.paths.embeddedCatalog()
		if cv == nil {
			p.fail(w, r, v, http.StatusNotFound, "This registry shows no embedded catalog.")
			return
		}
	} else {
		ns := r.PathValue("ns")
		cname, ver, found := strings.Cut(r.PathValue("namever"), "@")
		ref := store.CatalogRef{Namespace: ns, Name: cname}
		what := "Catalog " + ref.String() + " version " + ver
		if !found || !v.canRead(ns) {
			p.fail(w, r, v, http.StatusNotFound, what+" was not found.")
			return
		}
		tok := v.token(ns)
		c, err := p.svc.Catalog(r.Context(), tok, ref)
		if err == nil {
			cv, err = p.registryCatalog(r.Context(), tok, store.CatalogKey{CatalogRef: ref, Version: ver}, c.Versions)
		}
		if err != nil {
			p.failErr(w, r, v, what, err)
			return
		}
	}
	var tv *templateView
	for _, t := range cv.Templates {
		if t.Name == name {
			tv = t
		}
	}
	if tv == nil {
		p.fail(w, r, v, http.StatusNotFound, fmt.Sprintf("Template %q is not in catalog %s.", name, cv.ID))
		return
	}
	d := templateData{Catalog: cv, Template: tv}
	if !cv.Embedded() {
		reg := r.Host
		if r.TLS == nil {
			reg = "http://" + r.Host
		}
		if b, err := catalogpin.Marshal(&catalogpin.Pin{Registry: reg, Namespace: cv.Ref.Namespace, Name: cv.Ref.Name, Version: cv.Version, Digest: cv.Digest}); err == nil {
			d.Pin = string(b)
		}
	}
	p.render(w, r, v, http.StatusOK, "template", tv.Name+" template", "paths", d)
}
