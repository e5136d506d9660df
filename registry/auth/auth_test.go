package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/registry/store"
)

func TestTokens(t *testing.T) {
	s1, h1, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	s2, _, _ := NewToken()
	if s1 == s2 || !strings.HasPrefix(s1, TokenPrefix) || h1 != Hash(s1) || len(h1) != 64 || strings.Contains(h1, s1) {
		t.Fatalf("tokens %q %q hash %q", s1, s2, h1)
	}
	for hdr, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": ""} {
		if got := BearerToken(hdr); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", hdr, got, want)
		}
	}
}

func TestGrants(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k := store.Key{Ref: store.Ref{Namespace: "acme", Name: "net", System: "aws"}, Version: "1.0.0"}
	now := time.Unix(1_800_000_000, 0)
	exp, sig := SignGrant(key, k, now.Add(time.Minute))
	if !VerifyGrant(key, k, exp, sig, now, time.Minute) {
		t.Fatal("fresh grant refused")
	}
	if VerifyGrant(key, k, exp, sig, now.Add(2*time.Minute), time.Minute) {
		t.Error("expired grant accepted")
	}
	other := k
	other.Version = "1.0.1"
	if VerifyGrant(key, other, exp, sig, now, time.Minute) {
		t.Error("grant accepted for another version")
	}
	if VerifyGrant([]byte("another key....................."), k, exp, sig, now, time.Minute) {
		t.Error("grant accepted under another key")
	}
	if VerifyGrant(key, k, "x"+exp, sig, now, time.Minute) || VerifyGrant(key, k, exp, sig+"A", now, time.Minute) || VerifyGrant(key, k, exp, "!!", now, time.Minute) {
		t.Error("malformed grant accepted")
	}
	far, farSig := SignGrant(key, k, now.Add(time.Hour))
	if VerifyGrant(key, k, far, farSig, now, time.Minute) {
		t.Error("grant expiring beyond the lifetime accepted")
	}
}
