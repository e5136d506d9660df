// Package inventory answers two day-two questions over a tree of stack files:
// who uses what (Build: every stack's owner, catalog, templates and module
// versions, waivers and the state of its rendered output) and what a catalog
// change would do (Diff: the blast radius of a new catalog, stack by stack).
// It compiles in memory, on every core, and reports in a stable order; the
// CLI (plat inventory, plat diff) only wires flags to it and prints.
package inventory

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/userfile"
)

// Catalog kinds.
const (
	CatalogEmbedded = "embedded" // the catalog shipped in the plat binary
	CatalogDir      = "dir"      // a --catalog directory
	CatalogPin      = "pin"      // a version pinned in plat-catalog.yaml
)

// Catalog says which catalog a stack compiles with.
type Catalog struct {
	// Kind is embedded, dir or pin.
	Kind string `json:"kind"`
	// Dir is the catalog directory (kind dir), with slashes.
	Dir string `json:"dir,omitempty"`
	// Pin is the pin file (kind pin), with slashes.
	Pin string `json:"pin,omitempty"`
	// Registry, Namespace, Name, Version and Digest name the pinned catalog
	// version (kind pin).
	Registry  string `json:"registry,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Digest    string `json:"digest,omitempty"`

	fsys fs.FS
}

// Ref is how reports name the catalog: "embedded", the directory, or
// REGISTRY/NAMESPACE/NAME.
func (c Catalog) Ref() string {
	switch c.Kind {
	case CatalogDir:
		return c.Dir
	case CatalogPin:
		return c.Registry + "/" + c.Namespace + "/" + c.Name
	}
	return CatalogEmbedded
}

// VersionText is the catalog's version, or "embedded" / "dir" where it has none.
func (c Catalog) VersionText() string {
	if c.Kind == CatalogPin {
		return c.Version
	}
	return c.Kind
}

// key identifies the catalog's content for compiler reuse.
func (c Catalog) key() string {
	switch c.Kind {
	case CatalogDir:
		return "dir\x00" + c.Dir
	case CatalogPin:
		return "pin\x00" + c.Digest
	}
	return CatalogEmbedded
}

// Resolver chooses the catalog of the stack file at path (and the catalog's
// files). An error is the stack's, reported with it.
type Resolver func(path string) (Catalog, error)

// Embedded is the shipped catalog.
func Embedded() Catalog { return Catalog{Kind: CatalogEmbedded, fsys: catalog.FS} }

// DirCatalog is the catalog in dir, checked to be a directory.
func DirCatalog(dir string) (Catalog, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Catalog{}, fmt.Errorf("catalog: %w", err)
	}
	if !st.IsDir() {
		return Catalog{}, fmt.Errorf("catalog: %s is not a directory", dir)
	}
	return Catalog{Kind: CatalogDir, Dir: filepath.ToSlash(filepath.Clean(dir)), fsys: userfile.DirFS(dir, userfile.MaxSize)}, nil
}

// PinnedCatalog is a catalog version fetched for a pin file: its files in
// fsys, pinFile the pin's path.
func PinnedCatalog(pinFile, registry, namespace, name, version, digest string, fsys fs.FS) Catalog {
	return Catalog{Kind: CatalogPin, Pin: filepath.ToSlash(pinFile), Registry: registry, Namespace: namespace,
		Name: name, Version: version, Digest: digest, fsys: fsys}
}

// Fixed resolves every stack to c.
func Fixed(c Catalog) Resolver { return func(string) (Catalog, error) { return c, nil } }

// compilers holds one worker's compilers, one per catalog: a
// compiler.Compiler serialises its compiles, so each worker has its own.
type compilers map[string]*compilerEntry

type compilerEntry struct {
	c   *compiler.Compiler
	err error
}

func (cs compilers) get(c Catalog) (*compiler.Compiler, error) {
	k := c.key()
	if e, ok := cs[k]; ok {
		return e.c, e.err
	}
	cc, err := compiler.New(c.fsys)
	if err != nil {
		err = fmt.Errorf("catalog %s: %w", c.Ref(), err)
	}
	cs[k] = &compilerEntry{c: cc, err: err}
	return cc, err
}

// FS is the catalog's files.
func (c Catalog) FS() fs.FS { return c.fsys }
