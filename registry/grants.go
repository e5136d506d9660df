package registry

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/url"
	"time"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// Signed links: when reads need a token, archive locations carry a grant
// (auth.SignGrant) because tofu and terraform never send the token there.

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

// DeriveKey returns a 32-byte key for purpose, derived from the store's
// signing key: every replica derives the same one, and no two purposes share
// a key (the portal's session cookies use one).
func (s *Service) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("plat registry key: " + purpose))
	return m.Sum(nil)
}
