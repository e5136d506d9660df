// Package oidctest runs a real OpenID Connect issuer for tests: an HTTP server
// on loopback with a discovery document and a JWKS, signing ID tokens with
// keys made in the test (go-jose). Keys can be rotated, and it counts the key
// set fetches so a test can see the verifier's cache at work.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a running test issuer.
type Issuer struct {
	// URL is the issuer identifier (http://127.0.0.1:PORT).
	URL string

	srv        *httptest.Server
	mu         sync.Mutex
	keys       []*Key // published in the JWKS
	jwksHits   atomic.Int64
	discovered atomic.Int64
}

// Key is a signing key with its key id.
type Key struct {
	ID  string
	Alg jose.SignatureAlgorithm
	key *rsa.PrivateKey
}

var keySeq atomic.Int64

// NewKey returns a fresh RS256 key with a unique key id.
func NewKey(t testing.TB) *Key {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: fmt.Sprintf("key-%d", keySeq.Add(1)), Alg: jose.RS256, key: k}
}

// New starts an issuer publishing one key; it stops when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{keys: []*Key{NewKey(t)}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		is.discovered.Add(1)
		writeJSON(w, map[string]any{
			"issuer":                                is.URL,
			"jwks_uri":                              is.URL + "/jwks",
			"authorization_endpoint":                is.URL + "/authorize",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		var set jose.JSONWebKeySet
		for _, k := range is.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"})
		}
		is.mu.Unlock()
		writeJSON(w, set)
	})
	is.srv = httptest.NewServer(mux)
	is.URL = is.srv.URL
	t.Cleanup(is.srv.Close)
	return is
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Close stops the issuer's server (as an issuer that is down).
func (is *Issuer) Close() { is.srv.Close() }

// Key returns the newest published key.
func (is *Issuer) Key() *Key {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[len(is.keys)-1]
}

// Rotate publishes a new key beside the old ones and returns it.
func (is *Issuer) Rotate(t testing.TB) *Key {
	k := NewKey(t)
	is.mu.Lock()
	is.keys = append(is.keys, k)
	is.mu.Unlock()
	return k
}

// JWKSFetches is how often the key set was fetched.
func (is *Issuer) JWKSFetches() int64 { return is.jwksHits.Load() }

// Claims are the claims of a token to sign; Sign fills iss, iat and, when
// unset, exp (in 10 minutes) and sub.
type Claims map[string]any

// Sign returns an ID token for claims signed with the issuer's newest key.
func (is *Issuer) Sign(t testing.TB, c Claims) string {
	t.Helper()
	return is.SignWith(t, is.Key(), c)
}

// SignWith returns an ID token for claims signed with k (which need not be
// published).
func (is *Issuer) SignWith(t testing.TB, k *Key, c Claims) string {
	t.Helper()
	out := Claims{"iss": is.URL, "iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix(), "sub": "repo:acme/infra:ref:refs/heads/main"}
	for n, v := range c {
		out[n] = v
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.ID))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(map[string]any(out)).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
