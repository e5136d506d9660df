package store

import (
	"context"
	"errors"
	"time"

	"github.com/platdev/plat/registry/provider"
)

// ErrOwner means a provider address is already published by another
// namespace: each provider address belongs to the namespace that published
// it first.
var ErrOwner = errors.New("belongs to another namespace")

// ProviderAddr is a provider's origin address (provider.Addr).
type ProviderAddr = provider.Addr

// ProviderKey identifies one version of a provider.
type ProviderKey struct {
	ProviderAddr
	Version string
}

// String is HOSTNAME/NAMESPACE/TYPE VERSION.
func (k ProviderKey) String() string { return k.ProviderAddr.String() + " " + k.Version }

// ProviderArchive is one platform's archive of a provider version.
type ProviderArchive struct {
	Platform string // OS_ARCH
	Filename string // terraform-provider-TYPE_VERSION_OS_ARCH.zip
	// BlobKey is where the backend keeps the zip; opaque to callers.
	BlobKey string
	Size    int64
	ZH      string // "zh:" and the hex SHA-256 of the zip
	H1      string // "h1:" dirhash of the zip's contents
}

// ProviderVersion is one published provider version.
type ProviderVersion struct {
	ProviderKey
	// Owner is the registry namespace the provider address belongs to.
	Owner       string
	PublishedAt time.Time
	// Archives are sorted by platform; ProviderVersions leaves them out.
	Archives []ProviderArchive
}

// ProviderStore keeps provider versions for the network mirror. It is kept
// apart from Store's module methods; a backend that serves providers
// implements both. A version is wholly present (all its archives) or absent.
type ProviderStore interface {
	// PublishProvider stores the archives (data[i] is Archives[i]'s zip) and
	// then the version. It returns an error wrapping ErrExists when the
	// version is stored already, and ErrOwner when the provider address
	// belongs to a namespace other than v.Owner; on any failure nothing
	// becomes visible.
	PublishProvider(ctx context.Context, v ProviderVersion, data [][]byte) error
	// ProviderVersions lists the versions of a provider (without archives)
	// in no particular order; an unknown provider has none.
	ProviderVersions(ctx context.Context, a ProviderAddr) ([]ProviderVersion, error)
	// ProviderVersion returns one version with its archives, or ErrNotFound.
	ProviderVersion(ctx context.Context, k ProviderKey) (ProviderVersion, error)
	// OpenProviderArchive opens an archive ProviderVersion returned.
	OpenProviderArchive(ctx context.Context, a ProviderArchive) (Archive, error)
}
