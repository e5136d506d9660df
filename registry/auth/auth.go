// Package auth mints and checks the registry's API tokens and the short-lived
// signed grants that let a client fetch an archive without sending a token.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/platdev/plat/registry/store"
)

// TokenPrefix starts every token plat mints, so leaked tokens are easy to spot.
const TokenPrefix = "plat_"

// NewToken returns a new random token secret and the hash to store for it.
func NewToken() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, Hash(secret), nil
}

// Hash returns the hex SHA-256 of a token secret: the only form in which tokens
// are stored.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// BearerToken extracts the token from an Authorization header value, or "".
func BearerToken(header string) string {
	const p = "bearer "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):])
	}
	return ""
}

func grantMAC(key []byte, k store.Key, exp int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("plat-grant-v1\x00" + k.Namespace + "\x00" + k.Name + "\x00" + k.System + "\x00" + k.Version + "\x00" + strconv.FormatInt(exp, 10)))
	return m.Sum(nil)
}

// SignGrant returns the expiry (Unix seconds) and signature of a grant to download
// version k until exp.
func SignGrant(key []byte, k store.Key, exp time.Time) (expiry, sig string) {
	e := exp.Unix()
	return strconv.FormatInt(e, 10), base64.RawURLEncoding.EncodeToString(grantMAC(key, k, e))
}

// GrantClockSkew is how much further ahead than the grant lifetime a grant's
// expiry may lie, for replicas whose clocks differ a little.
const GrantClockSkew = time.Minute

// VerifyGrant reports whether sig is a valid, unexpired grant for k whose
// expiry lies at most ttl (plus GrantClockSkew) after now. The bound means a
// grant signed with a leaked key, or by a replica configured with a longer
// lifetime, cannot be made to last beyond the lifetime this server grants.
func VerifyGrant(key []byte, k store.Key, expiry, sig string, now time.Time, ttl time.Duration) bool {
	e, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || now.Unix() > e || e > now.Add(ttl+GrantClockSkew).Unix() {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, grantMAC(key, k, e))
}
