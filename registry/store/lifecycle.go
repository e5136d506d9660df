package store

import (
	"context"
	"time"
)

// Catalogs and version lifecycle (issue 11) are kept apart from Store: a
// backend that keeps them also implements Lifecycle, and the registry serves
// the catalog and lifecycle endpoints only over such a backend.

// MarkKind is a lifecycle mark a version can carry.
type MarkKind string

// Lifecycle marks. A deprecated version is listed and served as before, with
// the mark; a yanked one leaves the protocol's versions list but is still
// served to a client that names it exactly.
const (
	MarkDeprecated MarkKind = "deprecated"
	MarkYanked     MarkKind = "yanked"
)

// Mark is one lifecycle mark: why, and when it was set.
type Mark struct {
	Reason string
	At     time.Time
}

// Marks are a version's lifecycle marks; nil where not set.
type Marks struct {
	Deprecated *Mark
	Yanked     *Mark
}

// CatalogRef names a catalog: namespace and name.
type CatalogRef struct {
	Namespace string
	Name      string
}

// String returns ns/name.
func (r CatalogRef) String() string { return r.Namespace + "/" + r.Name }

// CatalogKey identifies one version of a catalog.
type CatalogKey struct {
	CatalogRef
	Version string
}

// String returns ns/name/version.
func (k CatalogKey) String() string { return k.CatalogRef.String() + "/" + k.Version }

// CatalogVersion is one stored catalog version.
type CatalogVersion struct {
	CatalogKey
	// BlobKey is where the backend keeps the archive; opaque to callers.
	BlobKey     string
	Size        int64
	SHA256      string // hex digest of the stored archive
	PublishedAt time.Time
	Marks
}

// NewCatalogVersion is what PublishCatalog stores.
type NewCatalogVersion struct {
	CatalogKey
	SHA256      string
	PublishedAt time.Time
}

// Lifecycle keeps catalog versions and the lifecycle marks of module and
// catalog versions. Implementations are safe for concurrent use.
type Lifecycle interface {
	// PublishCatalog stores the archive, then the version. It returns an error
	// wrapping ErrExists, leaving the stored version untouched, when the version
	// (or one equal to it up to build metadata) is there. On any failure
	// nothing becomes visible.
	PublishCatalog(ctx context.Context, v NewCatalogVersion, archive []byte) error
	// CatalogVersions lists the versions of a catalog, with their marks, in no
	// particular order; an unknown catalog has none (and no error).
	CatalogVersions(ctx context.Context, ref CatalogRef) ([]CatalogVersion, error)
	// Catalogs lists every catalog with at least one stored version, ordered
	// by namespace, then name.
	Catalogs(ctx context.Context) ([]CatalogRef, error)
	// OpenCatalogArchive opens the archive of a version CatalogVersions returned.
	OpenCatalogArchive(ctx context.Context, v CatalogVersion) (Archive, error)
	// MarkCatalog sets (m non-nil) or clears (m nil) a mark of a stored catalog
	// version; ErrNotFound when the version is not stored.
	MarkCatalog(ctx context.Context, k CatalogKey, kind MarkKind, m *Mark) error
	// ModuleMarks returns the marks of ref's versions that carry any, by version.
	ModuleMarks(ctx context.Context, ref Ref) (map[string]Marks, error)
	// MarkModule sets (m non-nil) or clears (m nil) a mark of a stored module
	// version; ErrNotFound when the version is not stored.
	MarkModule(ctx context.Context, k Key, kind MarkKind, m *Mark) error
}
