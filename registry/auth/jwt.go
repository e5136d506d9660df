package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// MaxJWTBytes bounds an ID token; longer bearer tokens are refused unparsed.
const MaxJWTBytes = 16 << 10

// IsJWT reports whether a bearer token has the shape of a JWT in compact
// serialization: three dot-separated segments, the first two non-empty (the
// third, the signature, is empty in an unsigned "alg: none" token, which is
// then refused by name). Tokens plat mints (TokenPrefix, then base64url) have
// no dots, so the two kinds never overlap and neither goes down the other's
// path: a static token is never parsed as a JWT, and an ID token is never
// looked up in the token store. The segments' alphabet is checked when the
// token is parsed.
func IsJWT(s string) bool {
	if strings.HasPrefix(s, TokenPrefix) || strings.Count(s, ".") != 2 {
		return false
	}
	i := strings.IndexByte(s, '.')
	j := strings.LastIndexByte(s, '.')
	return i > 0 && j > i+1
}

// jwtHeader is the part of a JOSE header the registry reads before verifying.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// unverifiedClaims are the claims read before the signature is checked, only
// to pick the issuer and to say why a token was refused.
type unverifiedClaims struct {
	Iss string   `json:"iss"`
	Aud audience `json:"aud"`
}

// audience is a string or a list of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// splitJWT decodes the header and the (unverified) claims of a compact JWT.
func splitJWT(raw string) (jwtHeader, unverifiedClaims, bool) {
	var h jwtHeader
	var c unverifiedClaims
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, c, false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return h, c, false
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &c) != nil {
		return h, c, false
	}
	return h, c, true
}
