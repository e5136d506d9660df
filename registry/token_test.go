package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
)

// TestRevokedToken checks how long a replica keeps trusting a token that was
// deleted from the store: up to TokenTTL, and not at all when it is negative.
func TestRevokedToken(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		ttl        time.Duration
		stillValid bool
	}{
		{"cached", time.Hour, true},
		{"uncached", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRegistry(t, registry.Config{RequireReadToken: true, TokenTTL: tc.ttl})
			secret := r.tok["acme/read"]
			if tok, err := r.svc.Authenticate(ctx, secret); err != nil || tok == nil {
				t.Fatalf("authenticate before revoking: %v", err)
			}
			if err := r.st.DeleteToken(ctx, auth.Hash(secret)); err != nil {
				t.Fatal(err)
			}
			_, err := r.svc.Authenticate(ctx, secret)
			if tc.stillValid && err != nil {
				t.Fatalf("within the TTL the cached token should still be trusted: %v", err)
			}
			if !tc.stillValid && !errors.Is(err, registry.ErrUnauthorized) {
				t.Fatalf("revoked token without caching: err = %v, want ErrUnauthorized", err)
			}
		})
	}
}
