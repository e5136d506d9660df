// Package portal is the registry's developer portal: server-rendered pages
// (html/template, assets embedded) for the golden paths, modules, stacks and
// drift, over the registry's Service. registry/serve mounts it in the
// registry's router (registry.PortalPaths), so `plat registry serve` serves
// it; docs/portal.md describes the routes, the login and the headers.
//
// The package is split by concern: portal.go (routes, headers, rendering),
// session.go (login, session cookies, what a viewer may read), markdown.go
// (READMEs), modules.go, paths.go (golden paths and their stack snippets),
// stacks.go (pushed inventory) and drift.go (drift watch reports).
package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configures a Portal.
type Options struct {
	// Catalog is the embedded golden-path catalog (catalog.FS); nil shows
	// only the registry's catalogs.
	Catalog fs.FS
	// DriftReports is drift watch's reports directory; "" leaves the drift
	// page empty.
	DriftReports string
	// SessionTTL is how long a login lasts (default 12 hours).
	SessionTTL time.Duration
	// Log receives server-side errors; nil discards.
	Log *slog.Logger
}

// Portal is the web UI's http.Handler.
type Portal struct {
	svc   *registry.Service
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	csrf  *http.CrossOriginProtection
	seal  sealer

	assets   map[string]asset
	assetVer string

	readmes readmeCache
	modules *moduleCache
	lists   *otter.Cache[string, *listPage] // rendered module list pages
	paths   *pathsCache
	drift   *driftCache

	bufs sync.Pool
}

type asset struct {
	body  []byte
	ctype string
}

// Content-Security-Policy of every answer: no inline script or style, nothing
// from elsewhere, no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// New returns the portal over svc. It parses every template and loads the
// embedded catalog once, here.
func New(svc *registry.Service, o Options) (*Portal, error) {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	lg := o.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	p := &Portal{svc: svc, opts: o, log: lg, csrf: http.NewCrossOriginProtection()}
	p.bufs.New = func() any { return new(bytes.Buffer) }
	var err error
	if p.seal, err = newSealer(svc.DeriveKey("portal session")); err != nil {
		return nil, err
	}
	if err := p.loadAssets(); err != nil {
		return nil, err
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	p.readmes = newReadmeCache()
	p.modules = newModuleCache()
	p.lists = newPageCache()
	if p.paths, err = newPathsCache(o.Catalog); err != nil {
		return nil, err
	}
	p.drift = newDriftCache(o.DriftReports)
	p.csrf.SetDenyHandler(http.HandlerFunc(p.csrfDenied))
	p.routes()
	return p, nil
}

func (p *Portal) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", p.home)
	m.HandleFunc("GET /paths", p.pathsPage)
	m.HandleFunc("GET /paths/embedded/{template}", p.templatePage)
	m.HandleFunc("GET /paths/{ns}/{namever}/{template}", p.templatePage)
	m.HandleFunc("GET /modules", p.modulesPage)
	m.HandleFunc("GET /modules/{ns}/{name}/{provider}", p.modulePage)
	m.HandleFunc("GET /modules/{ns}/{name}/{provider}/{version}", p.modulePage)
	m.HandleFunc("GET /stacks", p.stacksPage)
	m.HandleFunc("GET /stacks/{name}", p.stackPage)
	m.HandleFunc("GET /drift", p.driftPage)
	m.HandleFunc("GET /login", p.loginPage)
	m.Handle("POST /login", p.csrf.Handler(http.HandlerFunc(p.login)))
	m.Handle("POST /logout", p.csrf.Handler(http.HandlerFunc(p.logout)))
	m.HandleFunc("GET /assets/{file}", p.asset)
	m.HandleFunc("GET /favicon.ico", p.favicon)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, r, nil, http.StatusNotFound, "There is no page at this address (not found).")
	})
	p.mux = m
}

// ServeHTTP implements http.Handler: every answer carries the security
// headers.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if _, pattern := p.mux.Handler(r); pattern == "/" && r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A known page asked with another method.
		if _, pat := p.mux.Handler(withMethod(r, http.MethodGet)); pat != "/" {
			h.Set("Allow", "GET, HEAD")
			p.fail(w, r, nil, http.StatusMethodNotAllowed, "This page is only read (GET).")
			return
		}
		if _, pat := p.mux.Handler(withMethod(r, http.MethodPost)); pat != "/" {
			h.Set("Allow", "POST")
			p.fail(w, r, nil, http.StatusMethodNotAllowed, "This address only takes a form (POST).")
			return
		}
	}
	p.mux.ServeHTTP(w, r)
}

func withMethod(r *http.Request, m string) *http.Request {
	c := *r
	c.Method = m
	return &c
}

func (p *Portal) loadAssets() error {
	p.assets = map[string]asset{}
	sum := sha256.New()
	for name, ctype := range map[string]string{"portal.css": "text/css; charset=utf-8", "portal.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"} {
		b, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			return fmt.Errorf("portal asset %s: %w", name, err)
		}
		sum.Write(b)
		p.assets[name] = asset{body: b, ctype: ctype}
	}
	p.assetVer = hex.EncodeToString(sum.Sum(nil))[:12]
	return nil
}

// asset serves an embedded file; its links carry the assets' digest, so it
// is cached for a year.
func (p *Portal) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := p.assets[r.PathValue("file")]
	if !ok {
		p.fail(w, r, nil, http.StatusNotFound, "That asset was not found.")
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.Write(a.body)
}

// favicon answers browsers that ask /favicon.ico (pages link the versioned
// /assets/favicon.svg) with the same SVG icon, cached for a day.
func (p *Portal) favicon(w http.ResponseWriter, r *http.Request) {
	a := p.assets["favicon.svg"]
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method != http.MethodHead {
		w.Write(a.body)
	}
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
	"json": func(v any) string {
		// html/template escapes the text; the JSON is left as the user wrote it.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Sprint(v)
		}
		return strings.TrimSuffix(b.String(), "\n")
	},
	"pathesc": pathEscape,
	"plain":   plainText,
}

// pages lists the page templates; each is layout.html plus its own file.
var pageNames = []string{"home", "error", "login", "modules", "module", "paths", "template", "stacks", "stack", "drift"}

func (p *Portal) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return fmt.Errorf("portal templates: %w", err)
	}
	p.pages = map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html")
		if err != nil {
			return fmt.Errorf("portal templates: %w", err)
		}
		p.pages[n] = t
	}
	return nil
}

// view is what every page template gets.
type view struct {
	Title    string // the page's name; <title> adds " · plat"
	Section  string // the nav entry that is current
	Viewer   *viewer
	AssetVer string
	Data     any
}

// render writes page name with data.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, v *viewer, status int, name, title, section string, data any) {
	buf := p.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer p.bufs.Put(buf)
	if err := p.execute(buf, v, name, title, section, data); err != nil {
		p.log.Error("portal render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePage(w, r, status, buf.Bytes())
}

// renderBytes renders a page into a new slice, for a page cache.
func (p *Portal) renderBytes(v *viewer, name, title, section string, data any) ([]byte, error) {
	var buf bytes.Buffer
	err := p.execute(&buf, v, name, title, section, data)
	return buf.Bytes(), err
}

func (p *Portal) execute(w io.Writer, v *viewer, name, title, section string, data any) error {
	return p.pages[name].ExecuteTemplate(w, "layout.html", view{Title: title, Section: section, Viewer: v, AssetVer: p.assetVer, Data: data})
}

// writePage writes a rendered page; pages are never cached by browsers or
// proxies (they depend on the login).
func writePage(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// errorData is the error page's content.
type errorData struct {
	Status  int
	Message string
	Login   bool // offer the login link
}

// fail answers with the error page.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	title := http.StatusText(status)
	p.render(w, r, v, status, "error", title, "", errorData{Status: status, Message: msg, Login: status == http.StatusUnauthorized || status == http.StatusForbidden})
}

// failErr answers a service error: not found, refused or internal (logged,
// not shown).
func (p *Portal) failErr(w http.ResponseWriter, r *http.Request, v *viewer, what string, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		p.fail(w, r, v, http.StatusNotFound, what+" was not found.")
	case errors.Is(err, registry.ErrUnauthorized), errors.Is(err, registry.ErrForbidden):
		p.fail(w, r, v, http.StatusForbidden, "Your login may not read "+what+".")
	case errors.Is(err, registry.ErrNoUsage):
		p.fail(w, r, v, http.StatusNotFound, "This registry's store keeps no inventory.")
	default:
		p.log.Error("portal request failed", "path", r.URL.Path, "err", err)
		p.fail(w, r, v, http.StatusInternalServerError, "Something went wrong on the server; the error is in its log.")
	}
}

func (p *Portal) csrfDenied(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, nil, http.StatusForbidden, "This form was sent from another site, so it was refused (cross-site request protection).")
}

// home links to each section.
func (p *Portal) home(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.render(w, r, v, http.StatusOK, "home", "Developer portal", "", nil)
}

// pathEscape escapes each segment of a slash-separated path.
func pathEscape(s string) string {
	parts := strings.Split(s, "/")
	for i, x := range parts {
		parts[i] = urlPathEscape(x)
	}
	return strings.Join(parts, "/")
}
