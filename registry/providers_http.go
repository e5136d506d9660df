package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/platdev/plat/registry/provider"
	"github.com/platdev/plat/registry/store"
)

// Routes and path variables of the provider network mirror.
const (
	routeProviderIndex   = "provider_index"
	routeProviderVersion = "provider_version"
	routeProviderArchive = "provider_archive"
	routeProviderUpload  = "provider_upload"

	varPHost    = "phost"
	varPNS      = "pns"
	varPType    = "ptype"
	varPVersion = "pversion"
	varPFile    = "pfile"
)

// ProviderHashesPart is the name of the multipart part of a provider upload
// that carries the declared hashes: a JSON object from platform to hashes.
// Every other part is one platform's zip, named by its platform (OS_ARCH).
const ProviderHashesPart = "hashes"

// providerRoutes adds the network mirror's routes (GET
// /v1/providers/HOST/NS/TYPE/index.json, .../VERSION.json and the archives
// they name) and the upload route (POST or PUT
// /api/v1/providers/OWNER/HOST/NS/TYPE/VERSION, multipart/form-data).
func providerRoutes(h *Handler, route func(name, path string, hd http.Handler, methods ...string)) {
	p := "/v1/providers/{" + varPHost + "}/{" + varPNS + "}/{" + varPType + "}/"
	route(routeProviderIndex, p+"index.json", h.api(h.providerIndex), readMethods...)
	route(routeProviderArchive, p+"{"+varPFile+":[^/]+\\.zip}", h.api(h.providerArchive), readMethods...)
	route(routeProviderVersion, p+"{"+varPVersion+"}.json", h.api(h.providerVersion), readMethods...)
	route(routeProviderUpload, "/api/v1/providers/{"+varNS+"}/{"+varPHost+"}/{"+varPNS+"}/{"+varPType+"}/{"+varPVersion+"}", h.api(h.providerUpload), uploadMethods...)
}

func providerAddr(r *http.Request) store.ProviderAddr {
	v := mux.Vars(r)
	return store.ProviderAddr{Hostname: v[varPHost], Namespace: v[varPNS], Type: v[varPType]}
}

func writeMirrorJSON(w http.ResponseWriter, body []byte) {
	// tofu accepts exactly application/json here.
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Write(body)
}

func (h *Handler) providerIndex(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	body, err := h.svc.ProviderIndexJSON(r.Context(), tok, providerAddr(r))
	if err != nil {
		return err
	}
	writeMirrorJSON(w, body)
	return nil
}

func (h *Handler) providerVersion(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	k := store.ProviderKey{ProviderAddr: providerAddr(r), Version: mux.Vars(r)[varPVersion]}
	body, err := h.svc.ProviderVersionJSON(r.Context(), tok, k)
	if err != nil {
		return err
	}
	writeMirrorJSON(w, body)
	return nil
}

func (h *Handler) providerArchive(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	q := r.URL.Query()
	a, v, ar, err := h.svc.ProviderArchive(r.Context(), tok, providerAddr(r), mux.Vars(r)[varPFile], q.Get("expires"), q.Get("grant"))
	if err != nil {
		return err
	}
	defer a.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("ETag", `"`+ar.ZH[len("zh:"):]+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	if _, ok := a.(*os.File); !ok {
		w = writeOnly{w}
	}
	http.ServeContent(w, r, "", v.PublishedAt, a)
	return nil
}

// providerUpload reads a multipart upload: the declared hashes part and one
// zip per platform, bounded by the provider limits, then publishes.
func (h *Handler) providerUpload(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) (err error) {
	defer func() { h.metrics.uploads.WithLabelValues(uploadResult(statusOrCreated(err))).Inc() }()
	owner := key.Namespace
	// Refuse a caller who may not publish before reading the upload.
	if err := h.svc.CanPublishProvider(tok, owner); err != nil {
		return err
	}
	lim := h.svc.providerLimits()
	if r.ContentLength > lim.MaxUpload {
		return fmt.Errorf("%w: upload of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, lim.MaxUpload)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return fmt.Errorf("%w: want a multipart/form-data upload", provider.ErrInvalid)
	}
	body := http.MaxBytesReader(w, r.Body, lim.MaxUpload)
	r.Body = body
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: %v", provider.ErrInvalid, err)
	}
	var ups []ProviderUpload
	var declared map[string][]string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadReadErr(err, lim)
		}
		name := part.FormName()
		if name == ProviderHashesPart {
			if declared != nil {
				return fmt.Errorf("%w: two %s parts", provider.ErrInvalid, ProviderHashesPart)
			}
			b, err := io.ReadAll(io.LimitReader(part, 1<<20))
			if err != nil {
				return uploadReadErr(err, lim)
			}
			if err := json.Unmarshal(b, &declared); err != nil {
				return fmt.Errorf("%w: %s part: %v", provider.ErrInvalid, ProviderHashesPart, err)
			}
			if declared == nil {
				declared = map[string][]string{}
			}
			continue
		}
		if err := provider.CheckPlatform(name); err != nil {
			return fmt.Errorf("%w (upload part %q)", err, name)
		}
		if len(ups) >= lim.MaxPlatforms {
			return fmt.Errorf("%w: more than %d platforms", provider.ErrTooLarge, lim.MaxPlatforms)
		}
		data, err := io.ReadAll(io.LimitReader(part, lim.MaxZip+1))
		if err != nil {
			return uploadReadErr(err, lim)
		}
		if int64(len(data)) > lim.MaxZip {
			return fmt.Errorf("%w: %s archive larger than %d bytes", provider.ErrTooLarge, name, lim.MaxZip)
		}
		ups = append(ups, ProviderUpload{Platform: name, Data: data})
	}
	for i := range ups {
		ups[i].Declared = declared[ups[i].Platform]
	}
	for p := range declared {
		if !hasPlatform(ups, p) {
			return fmt.Errorf("%w: hashes declared for %s, which has no archive in the upload", provider.ErrInvalid, p)
		}
	}
	v := mux.Vars(r)
	k := store.ProviderKey{ProviderAddr: providerAddr(r), Version: v[varPVersion]}
	pv, err := h.svc.PublishProvider(r.Context(), tok, owner, k, ups)
	if err != nil {
		return err
	}
	archives := map[string]any{}
	for _, a := range pv.Archives {
		archives[a.Platform] = map[string]any{"filename": a.Filename, "size": a.Size, "hashes": []string{a.H1, a.ZH}}
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"provider": pv.ProviderAddr.String(), "version": pv.Version, "namespace": pv.Owner, "archives": archives,
	})
	return nil
}

func hasPlatform(ups []ProviderUpload, p string) bool {
	for _, u := range ups {
		if u.Platform == p {
			return true
		}
	}
	return false
}

func uploadReadErr(err error, lim provider.Limits) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: upload larger than %d bytes", ErrTooLarge, lim.MaxUpload)
	}
	return fmt.Errorf("%w: read upload: %v", provider.ErrInvalid, err)
}
