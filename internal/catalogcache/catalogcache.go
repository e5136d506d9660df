// Package catalogcache keeps the catalog versions application repositories pin
// (internal/catalogpin) in the user's cache, so that plat render and validate
// fetch a pinned version once and work offline from then on.
//
// An entry is DIR/catalogs/<sha256 hex>/ holding catalog.tar.gz (the archive
// as the registry stores it) and status.json (the lifecycle marks of the
// catalog version and of the module versions its templates pin, as the
// registry reported them at fetch time). An entry is written whole or not at
// all: it is built in a temporary directory and renamed into place. Every
// use verifies the archive against the pin's digest; a mismatch is an error,
// never a refetch or a fallback.
package catalogcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/catalogpin"
	"github.com/platdev/plat/internal/userfile"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/client"
)

// Status is what the registry said, at fetch time, about the lifecycle of
// the catalog version and of the module versions its templates use.
type Status struct {
	// Catalog is the catalog version's deprecation reason, "" when none.
	CatalogDeprecated string `json:"catalogDeprecated,omitempty"`
	// Modules lists the templates whose module version is deprecated.
	Modules []ModuleStatus `json:"modules,omitempty"`
}

// ModuleStatus is one template whose module version is marked.
type ModuleStatus struct {
	Template string `json:"template"`
	Module   string `json:"module"` // ns/name/system
	Version  string `json:"version"`
	// Deprecated is the reason given, Yanked likewise ("" when not).
	Deprecated string `json:"deprecated,omitempty"`
	Yanked     string `json:"yanked,omitempty"`
	// HasDeprecated and HasYanked tell an empty reason from no mark.
	HasDeprecated bool `json:"hasDeprecated,omitempty"`
	HasYanked     bool `json:"hasYanked,omitempty"`
}

// Cache is a catalog cache rooted at Dir.
type Cache struct {
	// Dir is the cache root ($PLAT_CACHE_DIR, else os.UserCacheDir()/plat).
	Dir string
	// Client returns a registry client for a pin's registry; it is only called
	// when the entry is not cached.
	Client func(p *catalogpin.Pin) (*client.Client, error)
}

// DefaultDir returns $PLAT_CACHE_DIR (through getenv) or os.UserCacheDir()/plat.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("PLAT_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set PLAT_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "plat"), nil
}

const (
	archiveName = "catalog.tar.gz"
	statusName  = "status.json"
)

// EntryDir is where the entry of a pin lives.
func (c *Cache) EntryDir(p *catalogpin.Pin) string {
	return filepath.Join(c.Dir, "catalogs", p.Hex())
}

// Fetch returns the files of the pinned catalog version and its recorded
// status, from the cache, fetching the version from the registry first when
// it is not cached. Errors name the pin's reference.
func (c *Cache) Fetch(ctx context.Context, p *catalogpin.Pin) (fs.FS, *Status, error) {
	if err := p.Check(); err != nil {
		return nil, nil, fmt.Errorf("catalog %s: %w", p.Ref(), err)
	}
	dir := c.EntryDir(p)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := c.download(ctx, p); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
	}
	return c.open(p)
}

// open reads and verifies a cached entry.
func (c *Cache) open(p *catalogpin.Pin) (fs.FS, *Status, error) {
	dir := c.EntryDir(p)
	data, err := userfile.Read(filepath.Join(dir, archiveName), archive.CatalogLimits.MaxCompressed)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog %s: cache entry %s: %w", p.Ref(), dir, err)
	}
	if got := digest(data); got != p.Digest {
		return nil, nil, fmt.Errorf("catalog %s: cache entry %s has digest %s, the pin says %s: the entry was changed; delete it to fetch the version again", p.Ref(), dir, got, p.Digest)
	}
	contents, err := archive.ValidateCatalog(data, archive.CatalogLimits)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog %s: %w", p.Ref(), err)
	}
	st := &Status{}
	if b, err := userfile.Read(filepath.Join(dir, statusName), 1<<20); err == nil {
		if err := json.Unmarshal(b, st); err != nil {
			return nil, nil, fmt.Errorf("catalog %s: cache entry %s: %s: %w", p.Ref(), dir, statusName, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("catalog %s: cache entry %s: %w", p.Ref(), dir, err)
	}
	return contents.FS(), st, nil
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// download fetches the pinned version, verifies it and writes the entry
// atomically.
func (c *Cache) download(ctx context.Context, p *catalogpin.Pin) error {
	if c.Client == nil {
		return fmt.Errorf("catalog %s is not in the cache and no registry client is configured", p.Ref())
	}
	cl, err := c.Client(p)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", p.Ref(), err)
	}
	data, err := cl.DownloadCatalog(ctx, p.Namespace, p.Name, p.Version, archive.CatalogLimits.MaxCompressed)
	var se *client.StatusError
	if errors.As(err, &se) && se.Status == 404 {
		return fmt.Errorf("catalog %s: the registry has no such version (%s)", p.Ref(), se.Message)
	}
	if err != nil {
		return fmt.Errorf("catalog %s is not in the cache (%s) and the registry cannot be reached: %w", p.Ref(), c.EntryDir(p), err)
	}
	if got := digest(data); got != p.Digest {
		return fmt.Errorf("catalog %s: the registry's archive has digest %s, the pin says %s; nothing cached", p.Ref(), got, p.Digest)
	}
	contents, err := archive.ValidateCatalog(data, archive.CatalogLimits)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", p.Ref(), err)
	}
	st := status(ctx, cl, p, contents.FS())
	stJSON, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return c.writeEntry(p, data, stJSON)
}

// writeEntry builds the entry in a temporary directory and renames it into
// place; a concurrent fetch of the same digest that won the race is kept.
func (c *Cache) writeEntry(p *catalogpin.Pin, data, stJSON []byte) error {
	parent := filepath.Join(c.Dir, "catalogs")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+p.Hex()[:12]+"-*")
	if err != nil {
		return fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{archiveName: data, statusName: stJSON} {
		f, err := os.OpenFile(filepath.Join(tmp, name), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
		}
		_, werr := f.Write(b)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
		}
	}
	if err := os.Rename(tmp, c.EntryDir(p)); err != nil {
		if _, serr := os.Stat(c.EntryDir(p)); serr == nil {
			return nil // another fetch wrote it; open verifies it
		}
		return fmt.Errorf("catalog %s: cache: %w", p.Ref(), err)
	}
	return nil
}

// status asks the registry about the lifecycle of the catalog version and of
// every module version a template pins, where those modules live on the same
// registry. What cannot be asked is left out: a status is a warning, never a
// reason to refuse the catalog.
func status(ctx context.Context, cl *client.Client, p *catalogpin.Pin, fsys fs.FS) *Status {
	st := &Status{}
	if vs, err := cl.CatalogVersions(ctx, p.Namespace, p.Name); err == nil {
		for _, v := range vs {
			if v.Version == p.Version && v.Deprecated != nil {
				st.CatalogDeprecated = v.Deprecated.Reason
				if st.CatalogDeprecated == "" {
					st.CatalogDeprecated = "deprecated"
				}
			}
		}
	}
	c, err := compiler.New(fsys)
	if err != nil {
		return st
	}
	reg := c.Platform().Registry
	if reg.Host != p.Host() {
		return st
	}
	names, _ := c.TemplateNames()
	sort.Strings(names)
	for _, name := range names {
		t, err := c.Template(name)
		if err != nil || t.Module == "" || t.Version == "" {
			continue
		}
		ms, err := cl.ModuleStatus(ctx, reg.Namespace, t.Module, t.System, t.Version)
		if err != nil || (ms.Deprecated == nil && ms.Yanked == nil) {
			continue
		}
		m := ModuleStatus{Template: name, Module: reg.Namespace + "/" + t.Module + "/" + t.System, Version: t.Version}
		if ms.Deprecated != nil {
			m.HasDeprecated, m.Deprecated = true, ms.Deprecated.Reason
		}
		if ms.Yanked != nil {
			m.HasYanked, m.Yanked = true, ms.Yanked.Reason
		}
		st.Modules = append(st.Modules, m)
	}
	return st
}

// Refresh asks the registry again for the status of a cached entry and
// rewrites status.json (plat catalog pin does, so a deprecation after the
// first fetch reaches the cache when someone is online).
func (c *Cache) Refresh(ctx context.Context, p *catalogpin.Pin) error {
	fsys, _, err := c.Fetch(ctx, p)
	if err != nil {
		return err
	}
	cl, err := c.Client(p)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(status(ctx, cl, p, fsys), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(c.EntryDir(p), statusName), b, 0o644)
}
