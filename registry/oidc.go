package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// ID tokens from CI: auth.OIDC verifies them, maps their claims to grants and
// logs and counts each decision; here a refusal becomes the registry's 401 or
// 403 and an identity a token for the namespace asked about.

func (s *Service) authenticateOIDC(ctx context.Context, raw, ns string) (*store.Token, error) {
	id, err := s.verifyOIDC(ctx, raw)
	if err != nil {
		return nil, err
	}
	t := id.Token(ns)
	return &t, nil
}

// verifyOIDC verifies an ID token; a refusal is the registry's 401 or 403.
func (s *Service) verifyOIDC(ctx context.Context, raw string) (*auth.Identity, error) {
	if s.cfg.OIDC == nil {
		return nil, fmt.Errorf("%w: an ID token was sent, but this registry has no trust policy (--auth-config)", ErrUnauthorized)
	}
	id, err := s.cfg.OIDC.Verify(ctx, raw)
	var ref *auth.Refusal
	switch {
	case err == nil:
		return id, nil
	case errors.As(err, &ref) && ref.Forbidden:
		return nil, fmt.Errorf("%w: %v", ErrForbidden, ref)
	case errors.As(err, &ref):
		return nil, fmt.Errorf("%w: %v", ErrUnauthorized, ref)
	}
	return nil, err
}
