package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// TestGrantExpiryBounded signs grants with the store's own key, as anyone who
// can read registry.db could, and expects one that expires further ahead than
// the grant lifetime to be refused (#17 finding 5).
func TestGrantExpiryBounded(t *testing.T) {
	r := newTestRegistry(t, registry.Config{RequireReadToken: true, GrantTTL: 10 * time.Minute})
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	key, err := r.st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k := store.Key{Ref: store.Ref{Namespace: "acme", Name: "network", System: "aws"}, Version: "1.0.0"}
	for _, tc := range []struct {
		ahead time.Duration
		want  int
	}{
		{9 * time.Minute, 200},
		{10 * time.Minute, 200},
		{time.Hour, 403},
		{10 * 365 * 24 * time.Hour, 403},
	} {
		exp, sig := auth.SignGrant(key, k, time.Now().Add(tc.ahead))
		path := "/v1/archives/acme/network/aws/1.0.0.tar.gz?expires=" + exp + "&grant=" + sig
		if resp, _ := r.do(t, "GET", path, "", nil); resp.StatusCode != tc.want {
			t.Errorf("grant expiring in %v: %d, want %d", tc.ahead, resp.StatusCode, tc.want)
		}
	}
}
