package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// Tokens, once looked up, are trusted for Config.TokenTTL: a version lookup
// then costs no store round trip. The TTL bounds how long a revoked token
// keeps working on a replica.

// newTokenCache returns the cache of looked-up tokens by hash, or nil when ttl
// is negative.
func newTokenCache(ttl time.Duration) *otter.Cache[string, store.Token] {
	if ttl < 0 {
		return nil
	}
	return otter.Must(&otter.Options[string, store.Token]{
		MaximumSize:      10000,
		ExpiryCalculator: otter.ExpiryWriting[string, store.Token](ttl),
	})
}

// Authenticate resolves a bearer token secret; "" yields a nil token and no error.
// An unknown token is ErrUnauthorized. An OIDC ID token (auth.IsJWT) is
// verified against the trust policy instead (see AuthenticateFor).
func (s *Service) Authenticate(ctx context.Context, secret string) (*store.Token, error) {
	return s.AuthenticateFor(ctx, secret, "")
}

// AuthenticateFor is Authenticate for a request about namespace ns (""
// when it names none): an ID token whose rules grant several namespaces is
// seen as a token for ns when one of them is.
func (s *Service) AuthenticateFor(ctx context.Context, secret, ns string) (*store.Token, error) {
	if secret == "" {
		return nil, nil
	}
	if auth.IsJWT(secret) {
		return s.authenticateOIDC(ctx, secret, ns)
	}
	h := auth.Hash(secret)
	if s.tokens != nil {
		if t, ok := s.tokens.GetIfPresent(h); ok {
			return &t, nil
		}
	}
	t, err := s.st.Token(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	if err != nil {
		return nil, err
	}
	if s.tokens != nil {
		s.tokens.Set(h, t)
	}
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

// ReadableNamespaces says what secret may read: all is true when reads need
// no token; otherwise namespaces lists the namespaces of a static token (one)
// or of an ID token's grants, in policy order. An unknown or refused secret is
// ErrUnauthorized (or ErrForbidden), as for the API.
func (s *Service) ReadableNamespaces(ctx context.Context, secret string) (all bool, namespaces []string, err error) {
	if !s.cfg.RequireReadToken {
		return true, nil, nil
	}
	if secret == "" {
		return false, nil, nil
	}
	if auth.IsJWT(secret) {
		id, err := s.verifyOIDC(ctx, secret)
		if err != nil {
			return false, nil, err
		}
		for _, g := range id.Grants {
			if !slices.Contains(namespaces, g.Namespace) {
				namespaces = append(namespaces, g.Namespace)
			}
		}
		return false, namespaces, nil
	}
	tok, err := s.AuthenticateFor(ctx, secret, "")
	if err != nil {
		return false, nil, err
	}
	return false, []string{tok.Namespace}, nil
}

// RequiresReadToken reports whether reads need a token (Config.RequireReadToken).
func (s *Service) RequiresReadToken() bool { return s.cfg.RequireReadToken }
