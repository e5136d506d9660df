// Package store defines the registry's storage interface: module version metadata,
// the archives themselves, API tokens and the server's signing key. Backends live in
// subpackages (sqlstore); every backend passes the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/platdev/plat/registry/module"
)

// Sentinel errors every backend returns (wrapped or not) so that callers can use
// errors.Is without knowing the backend.
var (
	// ErrNotFound means the module version, archive or token does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a module version (or token) with the same key is already stored.
	ErrExists = errors.New("already exists")
	// ErrNoBlobs means the store was opened for metadata only (token management).
	ErrNoBlobs = errors.New("store has no archive storage configured")
)

// Ref names a module (module.Ref).
type Ref = module.Ref

// Key identifies one version of a module (module.Key).
type Key = module.Key

// Version is the metadata of one published module version, without its
// documentation (see Details).
type Version struct {
	Key
	// BlobKey is where the backend keeps the archive; opaque to callers.
	BlobKey     string
	Size        int64
	SHA256      string // hex digest of the archive bytes
	PublishedAt time.Time
	Description string
	Downloads   int64
}

// Details is a Version plus the documentation extracted at publish time.
type Details struct {
	Version
	Readme string
	// Doc is the JSON-encoded inputs and outputs of the root module, as produced by
	// the registry service; the store keeps it verbatim.
	Doc []byte
}

// NewVersion is what Publish stores: the key, documentation and archive digest.
type NewVersion struct {
	Key
	Description string
	Readme      string
	Doc         []byte
	SHA256      string
	PublishedAt time.Time
}

// ModuleQuery selects and pages the modules Store.Modules returns. Empty
// fields select everything.
type ModuleQuery struct {
	Namespace string
	System    string
	// Query is a case-insensitive substring of the module's latest version
	// address (ns/name/system/version) or of that version's description.
	Query string
	// Offset skips that many modules; Limit (when positive) bounds how many are
	// returned.
	Offset, Limit int
}

// Module is one module as Store.Modules lists it.
type Module struct {
	// Latest is the module's latest version (module.Latest), without
	// documentation; its Downloads are that version's.
	Latest Version
	// Downloads is the sum over all the module's versions.
	Downloads int64
}

// Scope is what a token may do.
type Scope string

// Token scopes. Publish implies read.
const (
	ScopeRead    Scope = "read"
	ScopePublish Scope = "publish"
)

// Token is a stored API token. Only the SHA-256 hash of the secret is kept.
type Token struct {
	Hash      string // hex SHA-256 of the secret
	Namespace string
	Scope     Scope
	CreatedAt time.Time
}

// ID is how people name a token: the first 12 hex digits of its hash. It
// identifies the token without revealing anything that would let one use it.
func (t Token) ID() string {
	if len(t.Hash) < 12 {
		return t.Hash
	}
	return t.Hash[:12]
}

// Archive is an open module archive.
type Archive interface {
	io.ReadSeekCloser
}

// InMemory is implemented by an Archive whose bytes are in memory (the
// archive cache): Unread returns those not yet read, without copying. They
// are shared: the caller must not modify them. A server writes them with
// the answer's headers instead of copying them through a reader.
type InMemory interface {
	Unread() []byte
}

// Store keeps module versions, their archives, tokens and the signing key.
// Implementations are safe for concurrent use. A version is either wholly present
// (metadata row and archive) or absent.
type Store interface {
	// Publish stores the archive and then the version's metadata. It returns an
	// error wrapping ErrExists, leaving the existing version untouched, when the
	// version is already there, or one equal to it up to build metadata
	// (module.Same: 1.0.0+build when 1.0.0 is stored). On any failure nothing becomes visible.
	Publish(ctx context.Context, v NewVersion, archive []byte) error
	// Versions lists the versions of one module in no particular order; an
	// unknown module has none (and no error).
	Versions(ctx context.Context, ref Ref) ([]Version, error)
	// Details returns one version with its documentation, or ErrNotFound.
	Details(ctx context.Context, k Key) (Details, error)
	// Modules returns one entry per module matching q, with its latest version
	// (module.Latest) and the downloads of all its versions, ordered by address
	// (ns/name/system, compared as bytes), from q.Offset, at most q.Limit.
	Modules(ctx context.Context, q ModuleQuery) ([]Module, error)
	// OpenArchive opens the archive of a version previously returned by Versions,
	// Details or List.
	OpenArchive(ctx context.Context, v Version) (Archive, error)
	// AddDownloads adds to the download counters of the given versions.
	AddDownloads(ctx context.Context, counts map[Key]int64) error

	// CreateToken stores a token; ErrExists if the hash is already stored.
	CreateToken(ctx context.Context, t Token) error
	// Token looks a token up by the hash of its secret, or returns ErrNotFound.
	Token(ctx context.Context, hash string) (Token, error)
	// Tokens lists the stored tokens of namespace (of all namespaces when it is
	// empty), oldest first.
	Tokens(ctx context.Context, namespace string) ([]Token, error)
	// DeleteToken removes the token with that hash, or returns ErrNotFound. A
	// deleted token is refused from the next request on, on every replica.
	DeleteToken(ctx context.Context, hash string) error
	// SigningKey returns the server's secret key for download grants, creating it
	// on first use. Every replica sharing the store gets the same key.
	SigningKey(ctx context.Context) ([]byte, error)

	// Close releases the store's resources.
	Close() error
}
