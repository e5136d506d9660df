// Package registry is plat's private Terraform module registry: the service
// (publishing, version lookups, downloads, tokens), its HTTP transport (the module
// registry protocol v1 that tofu and terraform speak, plus the upload API), and the
// server around it. Storage is behind store.Store.
package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/tfdoc"
)

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	// RequireReadToken makes every read need a token for the module's namespace.
	RequireReadToken bool
	// Limits bound uploaded archives (archive.DefaultLimits when zero).
	Limits archive.Limits
	// GrantTTL is how long a download location stays valid when reads need a
	// token (default 15 minutes).
	GrantTTL time.Duration
	// CacheTTL is how long version lists are served from memory before the store
	// is asked again (default 1 s; publishes through this Service invalidate at once,
	// the TTL bounds staleness when other replicas publish).
	CacheTTL time.Duration
	// ListCacheTTL is how long list and search answers are served from memory
	// (default 1 s; negative: not cached). Publishes through this Service clear
	// them at once.
	ListCacheTTL time.Duration
	// TokenTTL is how long a token, once looked up, is trusted before the store
	// is asked again (default 5 s; negative: every request asks). It bounds how
	// long a revoked token keeps working on a replica.
	TokenTTL time.Duration
	// FlushInterval is how often download counts are written (default 5 s).
	FlushInterval time.Duration
	// MaxConcurrentUploads bounds uploads held in memory at once (default 4);
	// further uploads wait their turn.
	MaxConcurrentUploads int
	// Log receives service events; nil discards them.
	Log *slog.Logger
}

// Service implements the registry's behaviour over a store.Store.
type Service struct {
	st  store.Store
	cfg Config
	key []byte
	log *slog.Logger

	mu      sync.RWMutex
	modules map[store.Ref]*moduleEntry

	tokMu  sync.RWMutex
	tokens map[string]tokenEntry

	dlMu      sync.Mutex
	downloads map[store.Key]int64

	lists *otter.Cache[ListQuery, ModuleList] // nil: not cached

	uploads chan struct{} // semaphore
}

type tokenEntry struct {
	tok     store.Token
	expires time.Time
}

// moduleEntry is a cached view of one module's versions.
type moduleEntry struct {
	versions  []store.Version // ascending semantic-version order
	byVersion map[string]int
	body      []byte // the versions endpoint's JSON response
	expires   time.Time
}

// DefaultTokenTTL is Config.TokenTTL's default.
const DefaultTokenTTL = 5 * time.Second

// NewService returns a Service over st, loading (or creating) the signing key.
func NewService(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	if cfg.Limits == (archive.Limits{}) {
		cfg.Limits = archive.DefaultLimits
	}
	if cfg.GrantTTL <= 0 {
		cfg.GrantTTL = 15 * time.Minute
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Second
	}
	if cfg.ListCacheTTL == 0 {
		cfg.ListCacheTTL = time.Second
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.MaxConcurrentUploads <= 0 {
		cfg.MaxConcurrentUploads = 4
	}
	lg := cfg.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	key, err := st.SigningKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Service{
		st: st, cfg: cfg, key: key, log: lg,
		modules:   map[store.Ref]*moduleEntry{},
		tokens:    map[string]tokenEntry{},
		downloads: map[store.Key]int64{},
		lists:     newListCache(cfg.ListCacheTTL),
		uploads:   make(chan struct{}, cfg.MaxConcurrentUploads),
	}, nil
}

// Run writes download counts to the store periodically until ctx ends, then
// writes what is left.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s.Flush(fctx)
			cancel()
			return
		case <-t.C:
			s.Flush(ctx)
		}
	}
}

// Flush writes pending download counts to the store.
func (s *Service) Flush(ctx context.Context) {
	s.dlMu.Lock()
	pending := s.downloads
	s.downloads = map[store.Key]int64{}
	s.dlMu.Unlock()
	if len(pending) == 0 {
		return
	}
	if err := s.st.AddDownloads(ctx, pending); err != nil {
		s.log.Error("record downloads", "err", err)
		s.dlMu.Lock()
		for k, n := range pending {
			s.downloads[k] += n
		}
		s.dlMu.Unlock()
	}
}

// Authenticate resolves a bearer token secret; "" yields a nil token and no error.
// An unknown token is ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, secret string) (*store.Token, error) {
	if secret == "" {
		return nil, nil
	}
	h := auth.Hash(secret)
	now := time.Now()
	s.tokMu.RLock()
	e, ok := s.tokens[h]
	s.tokMu.RUnlock()
	if ok && now.Before(e.expires) {
		return &e.tok, nil
	}
	if ok {
		s.tokMu.Lock()
		delete(s.tokens, h)
		s.tokMu.Unlock()
	}
	t, err := s.st.Token(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	if err != nil {
		return nil, err
	}
	if s.cfg.TokenTTL < 0 {
		return &t, nil
	}
	s.tokMu.Lock()
	if len(s.tokens) > 10000 {
		clear(s.tokens)
	}
	s.tokens[h] = tokenEntry{tok: t, expires: now.Add(s.cfg.TokenTTL)}
	s.tokMu.Unlock()
	return &t, nil
}

// CanRead reports (as an error) whether tok may read modules in namespace ns.
func (s *Service) CanRead(tok *store.Token, ns string) error {
	if !s.cfg.RequireReadToken {
		return nil
	}
	if tok == nil {
		return fmt.Errorf("%w: this registry requires a token to read modules", ErrUnauthorized)
	}
	if tok.Namespace != ns {
		return fmt.Errorf("%w: token is for namespace %q, not %q", ErrForbidden, tok.Namespace, ns)
	}
	return nil
}

func (s *Service) canPublish(tok *store.Token, ns string) error {
	if tok == nil {
		return fmt.Errorf("%w: publishing requires a token (Authorization: Bearer ...)", ErrUnauthorized)
	}
	if tok.Namespace != ns {
		return fmt.Errorf("%w: token is for namespace %q, not %q", ErrForbidden, tok.Namespace, ns)
	}
	if tok.Scope != store.ScopePublish {
		return fmt.Errorf("%w: token has scope %q; publishing needs a publish token", ErrForbidden, tok.Scope)
	}
	return nil
}

// module returns the (cached) versions of ref.
func (s *Service) module(ctx context.Context, ref store.Ref) (*moduleEntry, error) {
	now := time.Now()
	s.mu.RLock()
	e := s.modules[ref]
	s.mu.RUnlock()
	if e != nil && now.Before(e.expires) {
		return e, nil
	}
	vs, err := s.st.Versions(ctx, ref)
	if err != nil {
		return nil, err
	}
	e = newModuleEntry(ref, vs, now.Add(s.cfg.CacheTTL))
	s.mu.Lock()
	if len(s.modules) > 100000 {
		clear(s.modules)
	}
	s.modules[ref] = e
	s.mu.Unlock()
	return e, nil
}

func (s *Service) invalidate(ref store.Ref) {
	s.mu.Lock()
	delete(s.modules, ref)
	s.mu.Unlock()
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

func newModuleEntry(ref store.Ref, vs []store.Version, expires time.Time) *moduleEntry {
	sortVersions(vs)
	e := &moduleEntry{versions: vs, byVersion: make(map[string]int, len(vs)), expires: expires}
	items := make([]versionItem, len(vs))
	for i, v := range vs {
		e.byVersion[v.Version] = i
		items[i] = versionItem{Version: v.Version}
	}
	e.body, _ = json.Marshal(versionsResponse{Modules: []versionsModule{{Source: ref.String(), Versions: items}}})
	return e
}

func sortVersions(vs []store.Version) {
	module.Sort(vs, func(v store.Version) string { return v.Version })
}

// latest returns the newest release, or the newest pre-release if there is no
// release (module.Latest: what tofu picks without a version constraint).
func (e *moduleEntry) latest() (store.Version, bool) {
	names := make([]string, len(e.versions))
	for i, v := range e.versions {
		names[i] = v.Version
	}
	if i := module.Latest(names); i >= 0 {
		return e.versions[i], true
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
	return e.body, nil
}

// ArchivePath returns the path (with query) at which the archive of k is served;
// when reads need a token it carries a signed grant valid for GrantTTL.
func (s *Service) ArchivePath(k store.Key) string {
	p := "/v1/archives/" + url.PathEscape(k.Namespace) + "/" + url.PathEscape(k.Name) + "/" +
		url.PathEscape(k.System) + "/" + url.PathEscape(k.Version) + ".tar.gz"
	if !s.cfg.RequireReadToken {
		return p
	}
	exp, sig := auth.SignGrant(s.key, k, time.Now().Add(s.cfg.GrantTTL))
	return p + "?expires=" + exp + "&grant=" + sig
}

// Download answers the download endpoint: it returns the archive location for
// version k (or the latest version when k.Version is "") and counts a download.
func (s *Service) Download(ctx context.Context, tok *store.Token, k store.Key) (string, error) {
	if err := s.CanRead(tok, k.Namespace); err != nil {
		return "", err
	}
	v, err := s.lookup(ctx, k)
	if err != nil {
		return "", err
	}
	s.dlMu.Lock()
	s.downloads[v.Key]++
	s.dlMu.Unlock()
	return s.ArchivePath(v.Key), nil
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

// Archive opens the archive of version k for a client holding either a token
// that may read the namespace or a valid grant (expires, sig) for k.
func (s *Service) Archive(ctx context.Context, tok *store.Token, k store.Key, expires, grant string) (store.Archive, store.Version, error) {
	if s.cfg.RequireReadToken && (grant == "" || !auth.VerifyGrant(s.key, k, expires, grant, time.Now(), s.cfg.GrantTTL)) {
		if err := s.CanRead(tok, k.Namespace); err != nil {
			if tok == nil && grant != "" {
				return nil, store.Version{}, fmt.Errorf("%w: download grant is invalid or expired; ask the download endpoint again", ErrForbidden)
			}
			return nil, store.Version{}, err
		}
	}
	v, err := s.lookup(ctx, k)
	if err != nil {
		return nil, v, err
	}
	a, err := s.st.OpenArchive(ctx, v)
	return a, v, err
}

// Publish checks and stores a new module version read from body (a
// gzip-compressed tar). Nothing is stored unless every check passes.
func (s *Service) Publish(ctx context.Context, tok *store.Token, k store.Key, body io.Reader) (store.Version, error) {
	if err := s.canPublish(tok, k.Namespace); err != nil {
		return store.Version{}, err
	}
	if err := CheckKey(k); err != nil {
		return store.Version{}, err
	}
	if e, err := s.module(ctx, k.Ref); err != nil {
		return store.Version{}, err
	} else if v, ok := e.same(k.Version); ok {
		return store.Version{}, existsErr(k, v.Version)
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return store.Version{}, ctx.Err()
	}
	max := s.cfg.Limits.MaxCompressed
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return store.Version{}, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > max {
		return store.Version{}, fmt.Errorf("%w: archive larger than %d bytes", ErrTooLarge, max)
	}
	contents, err := archive.Validate(data, s.cfg.Limits)
	if err != nil {
		return store.Version{}, err
	}
	doc, diags := tfdoc.Parse(contents.Root)
	if diags.HasErrors() {
		// tofu would refuse the module at init; refuse it now, saying where.
		return store.Version{}, fmt.Errorf("%w: %s", archive.ErrInvalid, diags.Errs()[0])
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return store.Version{}, err
	}
	readme := findReadme(contents.Root)
	sum := sha256.Sum256(data)
	nv := store.NewVersion{
		Key:         k,
		Description: describe(readme),
		Readme:      readme,
		Doc:         docJSON,
		SHA256:      hex.EncodeToString(sum[:]),
		PublishedAt: time.Now().UTC(),
	}
	err = s.st.Publish(ctx, nv, data)
	s.invalidate(k.Ref)
	if errors.Is(err, store.ErrExists) {
		return store.Version{}, existsErr(k, k.Version)
	}
	if err != nil {
		return store.Version{}, err
	}
	s.log.Info("published", "module", k.Ref.String(), "version", k.Version, "bytes", len(data), "files", len(contents.Files))
	return store.Version{Key: k, Size: int64(len(data)), SHA256: nv.SHA256, PublishedAt: nv.PublishedAt, Description: nv.Description}, nil
}

// existsErr says that k cannot be published because version (equal to
// k.Version up to build metadata) is stored.
func existsErr(k store.Key, version string) error {
	if version != k.Version {
		return fmt.Errorf("%s version %s %w as %s (versions that differ only in build metadata are one version); versions are immutable, publish a new version", k.Ref, k.Version, ErrExists, version)
	}
	return fmt.Errorf("%s version %s %w; versions are immutable, publish a new version", k.Ref, k.Version, ErrExists)
}

func findReadme(root map[string][]byte) string {
	names := make([]string, 0, len(root))
	for n := range root {
		if strings.HasPrefix(strings.ToLower(n), "readme") {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		// README.md first, then any other README in name order.
		mi, mj := strings.EqualFold(names[i], "readme.md"), strings.EqualFold(names[j], "readme.md")
		if mi != mj {
			return mi
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		return ""
	}
	return string(root[names[0]])
}

// describe takes the first paragraph of prose from a README as the module's
// one-line description.
func describe(readme string) string {
	var para []string
	for _, line := range strings.Split(readme, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "" && len(para) > 0:
			return clip(strings.Join(para, " "))
		case l == "", strings.HasPrefix(l, "#"), strings.HasPrefix(l, "```"), strings.HasPrefix(l, "!["), strings.HasPrefix(l, "<"):
			continue
		default:
			para = append(para, l)
		}
	}
	return clip(strings.Join(para, " "))
}

func clip(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:197]) + "..."
	}
	return s
}

// ModuleDetails is the body of the details and latest-version endpoints, in the
// shape of the public registry's API.
type ModuleDetails struct {
	ModuleSummary
	Root       ModuleRoot `json:"root"`
	Submodules []any      `json:"submodules"`
	Providers  []string   `json:"providers"`
	Versions   []string   `json:"versions"`
	SHA256     string     `json:"sha256"`
	Size       int64      `json:"size"`
}

// ModuleRoot documents a module's root: README, inputs and outputs.
type ModuleRoot struct {
	Path         string         `json:"path"`
	Readme       string         `json:"readme"`
	Empty        bool           `json:"empty"`
	Inputs       []tfdoc.Input  `json:"inputs"`
	Outputs      []tfdoc.Output `json:"outputs"`
	Dependencies []any          `json:"dependencies"`
	Resources    []any          `json:"resources"`
}

// Details returns the documentation of version k (the latest when k.Version is "").
func (s *Service) Details(ctx context.Context, tok *store.Token, k store.Key) (ModuleDetails, error) {
	if err := s.CanRead(tok, k.Namespace); err != nil {
		return ModuleDetails{}, err
	}
	v, err := s.lookup(ctx, k)
	if err != nil {
		return ModuleDetails{}, err
	}
	d, err := s.st.Details(ctx, v.Key)
	if err != nil {
		return ModuleDetails{}, err
	}
	e, err := s.module(ctx, k.Ref)
	if err != nil {
		return ModuleDetails{}, err
	}
	var doc tfdoc.Module
	if len(d.Doc) > 0 {
		if err := json.NewDecoder(bytes.NewReader(d.Doc)).Decode(&doc); err != nil {
			return ModuleDetails{}, fmt.Errorf("decode documentation of %s: %w", v.Key, err)
		}
	}
	if doc.Inputs == nil {
		doc.Inputs = []tfdoc.Input{}
	}
	if doc.Outputs == nil {
		doc.Outputs = []tfdoc.Output{}
	}
	out := ModuleDetails{
		ModuleSummary: summary(d.Version),
		Root: ModuleRoot{
			Readme: d.Readme, Inputs: doc.Inputs, Outputs: doc.Outputs,
			Dependencies: []any{}, Resources: []any{},
		},
		Submodules: []any{},
		Providers:  []string{v.System},
		SHA256:     d.SHA256,
		Size:       d.Size,
	}
	for _, x := range e.versions {
		out.Versions = append(out.Versions, x.Version)
	}
	return out, nil
}
