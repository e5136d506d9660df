package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// Catalogs (issue 11): versioned, immutable archives of a plat catalog, kept
// in a store.Lifecycle, under /api/v1/catalogs/. Config.CheckCatalog decides
// whether an uploaded catalog is accepted.

// errNoLifecycle is the answer when the store keeps no catalogs or marks.
var errNoLifecycle = fmt.Errorf("%w: this registry's store keeps no catalogs or lifecycle marks", ErrNotFound)

func (s *Service) lifecycle() (store.Lifecycle, error) {
	lc, ok := s.st.(store.Lifecycle)
	if !ok {
		return nil, errNoLifecycle
	}
	return lc, nil
}

func checkCatalogKey(k store.CatalogKey) error {
	if !module.ValidName(k.Namespace) {
		return &module.InvalidError{Detail: fmt.Sprintf("namespace %q is not a valid name", k.Namespace)}
	}
	if !module.ValidName(k.Name) {
		return &module.InvalidError{Detail: fmt.Sprintf("catalog name %q is not a valid name", k.Name)}
	}
	if k.Version != "" && !module.ValidVersion(k.Version) {
		return &module.InvalidError{Detail: fmt.Sprintf("version %q is not a semantic version X.Y.Z", k.Version)}
	}
	return nil
}

// PublishCatalog checks and stores a new catalog version read from body (a
// gzip-compressed tar): the archive checks of modules with
// archive.CatalogLimits, then Config.CheckCatalog on its files in memory.
func (s *Service) PublishCatalog(ctx context.Context, tok *store.Token, k store.CatalogKey, body io.Reader) (store.CatalogVersion, error) {
	lc, err := s.lifecycle()
	if err != nil {
		return store.CatalogVersion{}, err
	}
	if err := s.canPublish(tok, k.Namespace); err != nil {
		return store.CatalogVersion{}, err
	}
	if err := checkCatalogKey(k); err != nil || k.Version == "" {
		if err == nil {
			err = &module.InvalidError{Detail: "missing version"}
		}
		return store.CatalogVersion{}, err
	}
	existing, err := lc.CatalogVersions(ctx, k.CatalogRef)
	if err != nil {
		return store.CatalogVersion{}, err
	}
	for _, v := range existing {
		if module.Same(v.Version, k.Version) {
			return store.CatalogVersion{}, fmt.Errorf("catalog %s version %s %w; versions are immutable, publish a new version", k.CatalogRef, v.Version, ErrExists)
		}
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return store.CatalogVersion{}, ctx.Err()
	}
	max := archive.CatalogLimits.MaxCompressed
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return store.CatalogVersion{}, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > max {
		return store.CatalogVersion{}, fmt.Errorf("%w: catalog archive larger than %d bytes", ErrTooLarge, max)
	}
	contents, err := archive.ValidateCatalog(data, archive.CatalogLimits)
	if err != nil {
		return store.CatalogVersion{}, err
	}
	if s.cfg.CheckCatalog != nil {
		if err := s.cfg.CheckCatalog(ctx, contents.FS()); err != nil {
			return store.CatalogVersion{}, fmt.Errorf("%w: catalog refused: %v", archive.ErrInvalid, err)
		}
	}
	data = contents.Archive
	sum := sha256.Sum256(data)
	nv := store.NewCatalogVersion{CatalogKey: k, SHA256: hex.EncodeToString(sum[:]), PublishedAt: time.Now().UTC()}
	if err := lc.PublishCatalog(ctx, nv, data); errors.Is(err, store.ErrExists) {
		return store.CatalogVersion{}, fmt.Errorf("catalog %s version %s %w; versions are immutable, publish a new version", k.CatalogRef, k.Version, ErrExists)
	} else if err != nil {
		return store.CatalogVersion{}, err
	}
	s.log.Info("published catalog", "catalog", k.CatalogRef.String(), "version", k.Version, "bytes", len(data))
	return store.CatalogVersion{CatalogKey: k, Size: int64(len(data)), SHA256: nv.SHA256, PublishedAt: nv.PublishedAt}, nil
}

// MarkJSON is a lifecycle mark in the extended API.
type MarkJSON struct {
	Reason string `json:"reason"`
	At     string `json:"at"` // RFC 3339
}

func markJSON(m *store.Mark) *MarkJSON {
	if m == nil {
		return nil
	}
	return &MarkJSON{Reason: m.Reason, At: m.At.UTC().Format(time.RFC3339)}
}

// CatalogVersionJSON is one version in GET /api/v1/catalogs/{ns}/{name}.
type CatalogVersionJSON struct {
	Version     string    `json:"version"`
	Digest      string    `json:"digest"` // sha256:<hex> of the stored archive
	Size        int64     `json:"size"`
	PublishedAt string    `json:"published_at"`
	Deprecated  *MarkJSON `json:"deprecated,omitempty"`
	Yanked      *MarkJSON `json:"yanked,omitempty"`
}

// CatalogJSON is the body of GET /api/v1/catalogs/{ns}/{name}.
type CatalogJSON struct {
	Namespace string               `json:"namespace"`
	Name      string               `json:"name"`
	Versions  []CatalogVersionJSON `json:"versions"`
}

// catalogVersions returns the versions of ref in ascending order, or ErrNotFound.
func (s *Service) catalogVersions(ctx context.Context, tok *store.Token, ref store.CatalogRef) ([]store.CatalogVersion, error) {
	lc, err := s.lifecycle()
	if err != nil {
		return nil, err
	}
	if err := s.CanRead(tok, ref.Namespace); err != nil {
		return nil, err
	}
	if checkCatalogKey(store.CatalogKey{CatalogRef: ref}) != nil {
		return nil, fmt.Errorf("catalog %s: %w", ref, ErrNotFound)
	}
	vs, err := lc.CatalogVersions(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("catalog %s: %w", ref, ErrNotFound)
	}
	module.Sort(vs, func(v store.CatalogVersion) string { return v.Version })
	return vs, nil
}

// Catalog lists a catalog's versions, yanked ones included, with their marks.
func (s *Service) Catalog(ctx context.Context, tok *store.Token, ref store.CatalogRef) (CatalogJSON, error) {
	vs, err := s.catalogVersions(ctx, tok, ref)
	if err != nil {
		return CatalogJSON{}, err
	}
	out := CatalogJSON{Namespace: ref.Namespace, Name: ref.Name, Versions: []CatalogVersionJSON{}}
	for _, v := range vs {
		out.Versions = append(out.Versions, CatalogVersionJSON{
			Version: v.Version, Digest: "sha256:" + v.SHA256, Size: v.Size,
			PublishedAt: v.PublishedAt.Format(time.RFC3339),
			Deprecated:  markJSON(v.Deprecated), Yanked: markJSON(v.Yanked),
		})
	}
	return out, nil
}

// Catalogs lists the catalogs the store holds whose namespace tok may read.
func (s *Service) Catalogs(ctx context.Context, tok *store.Token) ([]store.CatalogRef, error) {
	lc, err := s.lifecycle()
	if err != nil {
		return nil, err
	}
	refs, err := lc.Catalogs(ctx)
	if err != nil {
		return nil, err
	}
	out := refs[:0]
	for _, r := range refs {
		if s.CanRead(tok, r.Namespace) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// OpenCatalog opens the archive of catalog version k (yanked or not: a pin
// names its version exactly).
func (s *Service) OpenCatalog(ctx context.Context, tok *store.Token, k store.CatalogKey) (store.Archive, store.CatalogVersion, error) {
	vs, err := s.catalogVersions(ctx, tok, k.CatalogRef)
	if err != nil {
		return nil, store.CatalogVersion{}, err
	}
	for _, v := range vs {
		if v.Version == k.Version {
			lc, _ := s.lifecycle()
			a, err := lc.OpenCatalogArchive(ctx, v)
			return a, v, err
		}
	}
	return nil, store.CatalogVersion{}, fmt.Errorf("catalog %s version %s: %w", k.CatalogRef, k.Version, ErrNotFound)
}

// catalogKey reads the catalog key from the path variables.
func catalogKey(r *http.Request) store.CatalogKey {
	v := mux.Vars(r)
	return store.CatalogKey{CatalogRef: store.CatalogRef{Namespace: v[varNS], Name: v[varName]}, Version: v[varVersion]}
}

// catalogAPI adapts a catalog endpoint: it authenticates and answers errors.
func (h *Handler) catalogAPI(f func(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.CatalogKey) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := h.svc.Authenticate(r.Context(), auth.BearerToken(r.Header.Get("Authorization")))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if err := f(w, r, tok, catalogKey(r)); err != nil {
			h.fail(w, r, err)
		}
	})
}

func (h *Handler) catalogUpload(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.CatalogKey) error {
	if max := archive.CatalogLimits.MaxCompressed; r.ContentLength > max {
		return fmt.Errorf("%w: catalog archive of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, max)
	}
	v, err := h.svc.PublishCatalog(r.Context(), tok, k, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"namespace": v.Namespace, "name": v.Name, "version": v.Version,
		"digest": "sha256:" + v.SHA256, "size": v.Size,
	})
	return nil
}

func (h *Handler) catalogVersions(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.CatalogKey) error {
	c, err := h.svc.Catalog(r.Context(), tok, k.CatalogRef)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handler) catalogDownload(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.CatalogKey) error {
	a, v, err := h.svc.OpenCatalog(r.Context(), tok, k)
	if err != nil {
		return err
	}
	defer a.Close()
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("ETag", `"`+v.SHA256+`"`)
	w.Header().Set("X-Plat-Digest", "sha256:"+v.SHA256)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(writeOnly{w}, r, "", v.PublishedAt, a)
	return nil
}

// MarkRequest is the body of the deprecate and yank endpoints.
type MarkRequest struct {
	Reason string `json:"reason"`
	Undo   bool   `json:"undo"`
}

// maxReason bounds a lifecycle reason.
const maxReason = 1024

func readMark(r io.Reader) (MarkRequest, error) {
	var req MarkRequest
	dec := json.NewDecoder(io.LimitReader(r, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return req, &module.InvalidError{Detail: "body: want {\"reason\": \"...\", \"undo\": false}: " + err.Error()}
	}
	if len(req.Reason) > maxReason {
		return req, &module.InvalidError{Detail: fmt.Sprintf("reason longer than %d bytes", maxReason)}
	}
	return req, nil
}

func (req MarkRequest) mark() *store.Mark {
	if req.Undo {
		return nil
	}
	return &store.Mark{Reason: req.Reason, At: time.Now().UTC()}
}

// MarkCatalog sets or clears a lifecycle mark of catalog version k.
func (s *Service) MarkCatalog(ctx context.Context, tok *store.Token, k store.CatalogKey, kind store.MarkKind, req MarkRequest) error {
	lc, err := s.lifecycle()
	if err != nil {
		return err
	}
	if err := s.canPublish(tok, k.Namespace); err != nil {
		return err
	}
	if err := checkCatalogKey(k); err != nil {
		return err
	}
	if err := lc.MarkCatalog(ctx, k, kind, req.mark()); err != nil {
		return fmt.Errorf("catalog %s version %s: %w", k.CatalogRef, k.Version, err)
	}
	s.log.Info("catalog "+string(kind), "catalog", k.CatalogRef.String(), "version", k.Version, "undo", req.Undo)
	return nil
}

func (h *Handler) catalogMark(kind store.MarkKind) http.Handler {
	return h.catalogAPI(func(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.CatalogKey) error {
		req, err := readMark(r.Body)
		if err != nil {
			return err
		}
		if err := h.svc.MarkCatalog(r.Context(), tok, k, kind, req); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"catalog": k.CatalogRef.String(), "version": k.Version, string(kind): !req.Undo})
		return nil
	})
}
