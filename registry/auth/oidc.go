package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/platdev/plat/registry/store"
)

// Outcomes of an ID token decision: the values of the outcome label of
// plat_registry_oidc_decisions_total and of the outcome log attribute.
const (
	OutcomeAccepted      = "accepted"
	OutcomeNoRule        = "no_rule"
	OutcomeExpired       = "expired"
	OutcomeNotYetValid   = "not_yet_valid"
	OutcomeWrongAudience = "wrong_audience"
	OutcomeWrongIssuer   = "wrong_issuer"
	OutcomeUnknownKey    = "unknown_key"
	OutcomeBadSignature  = "bad_signature"
	OutcomeAlgNone       = "alg_none"
	OutcomeBadAlg        = "bad_alg"
	OutcomeMalformed     = "malformed"
	OutcomeUnavailable   = "issuer_unavailable"
)

// unknownIssuer is the issuer label of tokens from issuers not in the policy:
// the iss claim of an unverified token is never used as a label.
const unknownIssuer = "unknown"

// Refusal is why an ID token was refused. Its reason never contains the token
// or anything read from it.
type Refusal struct {
	// Outcome is one of the Outcome constants.
	Outcome string
	// Reason says what was wrong, for the client.
	Reason string
	// Forbidden is set when the token is valid but no rule grants it anything
	// (HTTP 403); otherwise the token is not acceptable (HTTP 401).
	Forbidden bool
}

func (r *Refusal) Error() string { return "ID token refused: " + r.Reason }

// ErrIssuerUnavailable means an issuer's discovery document or key set could
// not be fetched: the token could not be checked either way.
var ErrIssuerUnavailable = errors.New("OIDC issuer unavailable")

// acceptedAlgs are the signature algorithms an ID token may use: asymmetric
// ones only (no "none", no HMAC with a shared secret).
var acceptedAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

// OIDCOptions configures an OIDC verifier. Zero values take the defaults.
type OIDCOptions struct {
	// Client fetches discovery documents and key sets (default: a client with a
	// 10 s timeout).
	Client *http.Client
	// Log receives one record per decision (never the token); nil discards.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize bounds the verified tokens kept in memory (default 10000); a
	// token is kept until it expires, so a repeated request costs a map
	// lookup, not a signature check. The cache is keyed by the token itself:
	// hashing a kilobyte-long ID token with SHA-256 on every request would
	// cost a version lookup a quarter more (BENCHMARKS.md); tokens are kept
	// in this process's memory only, never logged or stored. Negative: no
	// cache.
	CacheSize int
	// RetryDiscovery is how long a failed discovery is remembered before the
	// issuer is asked again (default 5 s).
	RetryDiscovery time.Duration
	// KeySetInterval is the least time between two fetches of an issuer's
	// key set (default 10 s): a token naming an unknown key id within it is
	// checked against the key set already fetched, so made-up key ids cannot
	// make the registry hammer the issuer. Negative: no limit.
	KeySetInterval time.Duration
}

// OIDC verifies ID tokens against a trust policy with go-oidc: issuer,
// audience, expiry and signature, the issuer's key set (JWKS) cached and
// fetched again when a token names a key id not in it (oidc.RemoteKeySet), at
// most once per OIDCOptions.KeySetInterval.
type OIDC struct {
	issuers   map[string]*issuerState
	log       *slog.Logger
	now       func() time.Time
	client    *http.Client
	retry     time.Duration
	keysEvery time.Duration
	cache     *otter.Cache[string, *Identity] // by the token itself; nil: not cached
	decisions *prometheus.CounterVec
	accepted  map[string]prometheus.Counter // by issuer URL, resolved once for the cached path
}

// issuerState is one trusted issuer: its verifier once discovery has worked.
type issuerState struct {
	cfg Issuer

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failed   time.Time
	failErr  error
	kids     map[string]bool // key ids that have verified a token
}

// maxKnownKids bounds issuerState.kids.
const maxKnownKids = 256

// NewOIDC returns a verifier for the issuers of p. Discovery happens on the
// first token of each issuer, so an issuer that is down does not stop the
// registry from starting.
func NewOIDC(p *Policy, o OIDCOptions) *OIDC {
	v := &OIDC{issuers: map[string]*issuerState{}, log: o.Log, now: o.Now, client: o.Client, retry: o.RetryDiscovery, keysEvery: o.KeySetInterval}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.retry <= 0 {
		v.retry = 5 * time.Second
	}
	if v.keysEvery == 0 {
		v.keysEvery = 10 * time.Second
	}
	for _, iss := range p.Issuers {
		v.issuers[iss.URL] = &issuerState{cfg: iss, kids: map[string]bool{}}
	}
	if o.CacheSize >= 0 {
		size := o.CacheSize
		if size == 0 {
			size = 10000
		}
		v.cache = otter.Must(&otter.Options[string, *Identity]{
			MaximumSize: size,
			ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, *Identity]) time.Duration {
				return e.Value.Expiry.Sub(v.now())
			}),
		})
	}
	v.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plat_registry_oidc_decisions_total",
		Help: "ID token decisions by issuer (\"unknown\" for issuers not in the trust policy) and outcome.",
	}, []string{"issuer", "outcome"})
	v.accepted = map[string]prometheus.Counter{}
	for u := range v.issuers {
		v.accepted[u] = v.decisions.WithLabelValues(u, OutcomeAccepted)
	}
	return v
}

// Collector returns the verifier's metrics, for the registry's /metrics.
func (v *OIDC) Collector() prometheus.Collector { return v.decisions }

// Identity is a verified ID token: who it is and what the policy grants it.
type Identity struct {
	Issuer  string
	Subject string
	Expiry  time.Time
	// TokenID is the first 12 hex digits of the token's hash, for logs.
	TokenID string
	// Grants are what the matching rules grant, in policy order.
	Grants []Grant
}

// Grant is what one matching rule grants.
type Grant struct {
	Namespace string
	Scope     store.Scope
	// Rule is where the rule is (file:line:col).
	Rule string
}

// Token returns the identity as a token for namespace ns: the strongest grant
// for ns, or the first grant when none is for ns (the namespace check then
// refuses it, naming the namespace the token is for).
func (id *Identity) Token(ns string) store.Token {
	g := id.Grants[0]
	found := false
	for _, x := range id.Grants {
		if x.Namespace == ns && (!found || x.Scope == store.ScopePublish) {
			g, found = x, true
		}
	}
	return store.Token{Hash: id.TokenID, Namespace: g.Namespace, Scope: g.Scope}
}

// Verify checks an ID token and maps it to an Identity through the policy. A
// refused token is a *Refusal; an issuer that cannot be reached is
// ErrIssuerUnavailable. Every decision is counted and logged, without the
// token.
func (v *OIDC) Verify(ctx context.Context, raw string) (*Identity, error) {
	if v.cache != nil {
		if id, ok := v.cache.GetIfPresent(raw); ok && v.now().Before(id.Expiry) {
			v.accepted[id.Issuer].Inc()
			if v.log.Enabled(ctx, slog.LevelDebug) {
				v.log.LogAttrs(ctx, slog.LevelDebug, "oidc token accepted", slog.String("issuer", id.Issuer),
					slog.String("subject", id.Subject), slog.String("token_id", id.TokenID), slog.Bool("cached", true))
			}
			return id, nil
		}
	}
	sum := sha256.Sum256([]byte(raw))
	tokenID := hex.EncodeToString(sum[:6])
	id, iss, err := v.verify(ctx, raw, tokenID)
	label := unknownIssuer
	if iss != nil {
		label = iss.cfg.URL
	}
	var ref *Refusal
	switch {
	case err == nil:
		v.decisions.WithLabelValues(label, OutcomeAccepted).Inc()
		grants := make([]string, len(id.Grants))
		for i, g := range id.Grants {
			grants[i] = g.Namespace + ":" + string(g.Scope) + " (" + g.Rule + ")"
		}
		v.log.LogAttrs(ctx, slog.LevelInfo, "oidc token accepted", slog.String("issuer", label),
			slog.String("subject", id.Subject), slog.String("token_id", tokenID), slog.Any("grants", grants),
			slog.Time("expires", id.Expiry))
		if v.cache != nil {
			v.cache.Set(raw, id)
		}
		return id, nil
	case errors.As(err, &ref):
		v.decisions.WithLabelValues(label, ref.Outcome).Inc()
		v.log.LogAttrs(ctx, slog.LevelWarn, "oidc token refused", slog.String("issuer", label),
			slog.String("outcome", ref.Outcome), slog.String("reason", ref.Reason), slog.String("token_id", tokenID))
	default:
		v.decisions.WithLabelValues(label, OutcomeUnavailable).Inc()
		v.log.LogAttrs(ctx, slog.LevelError, "oidc token not checked", slog.String("issuer", label),
			slog.String("outcome", OutcomeUnavailable), slog.String("err", err.Error()), slog.String("token_id", tokenID))
	}
	return nil, err
}

func refuse(outcome, reason string) *Refusal { return &Refusal{Outcome: outcome, Reason: reason} }

// verify does the checks; it returns the issuer once the token names a
// trusted one.
func (v *OIDC) verify(ctx context.Context, raw, tokenID string) (*Identity, *issuerState, error) {
	if len(raw) > MaxJWTBytes {
		return nil, nil, refuse(OutcomeMalformed, fmt.Sprintf("token longer than %d bytes", MaxJWTBytes))
	}
	h, uc, ok := splitJWT(raw)
	if !ok {
		return nil, nil, refuse(OutcomeMalformed, "not a well-formed JWT")
	}
	if strings.EqualFold(h.Alg, "none") {
		return nil, nil, refuse(OutcomeAlgNone, "unsigned token (alg none)")
	}
	if !slices.Contains(acceptedAlgs, h.Alg) {
		return nil, nil, refuse(OutcomeBadAlg, "signing algorithm not accepted (want one of "+strings.Join(acceptedAlgs, ", ")+")")
	}
	iss := v.issuers[uc.Iss]
	if iss == nil {
		return nil, nil, refuse(OutcomeWrongIssuer, "the token's issuer is not trusted by this registry")
	}
	verifier, err := iss.get(ctx, v)
	if err != nil {
		return nil, iss, err
	}
	rec := &sigRecord{}
	tok, err := verifier.Verify(context.WithValue(ctx, sigRecordKey{}, rec), raw)
	if err != nil {
		return nil, iss, iss.classify(err, rec, h, uc)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return nil, iss, refuse(OutcomeMalformed, "claims are not a JSON object")
	}
	iss.knownKid(h.Kid)
	id := &Identity{Issuer: iss.cfg.URL, Subject: tok.Subject, Expiry: tok.Expiry, TokenID: tokenID}
	for _, r := range iss.cfg.Rules {
		if r.Matches(claims) {
			id.Grants = append(id.Grants, Grant{Namespace: r.Namespace, Scope: r.Scope, Rule: r.Pos})
		}
	}
	if len(id.Grants) == 0 {
		return nil, iss, &Refusal{Outcome: OutcomeNoRule, Forbidden: true,
			Reason: "no rule of the trust policy matches this token's claims (" + iss.claimSummary(claims) + ")"}
	}
	return id, iss, nil
}

// claimSummary names the values of the claims the issuer's rules look at, so
// that a refusal says which identity found no rule. They are claims of a
// verified token, never the token itself.
func (s *issuerState) claimSummary(claims map[string]any) string {
	var names []string
	for _, r := range s.cfg.Rules {
		for _, c := range r.Claims {
			if !slices.Contains(names, c.Claim) {
				names = append(names, c.Claim)
			}
		}
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		val := "absent"
		if vals, ok := claimStrings(claims[n]); ok {
			val = fmt.Sprintf("%q", vals)
		}
		parts = append(parts, n+"="+val)
	}
	return strings.Join(parts, ", ")
}

// classify turns a go-oidc error into a Refusal, or an ErrIssuerUnavailable
// error when the key set could not be fetched.
func (s *issuerState) classify(err error, rec *sigRecord, h jwtHeader, uc unverifiedClaims) error {
	var exp *oidc.TokenExpiredError
	switch {
	case errors.As(err, &exp):
		return refuse(OutcomeExpired, "token has expired")
	case rec.called && rec.err != nil:
		// go-oidc checks the signature before the claims.
		if strings.HasPrefix(rec.err.Error(), "fetching keys") {
			return fmt.Errorf("%w: %s: key set: %v", ErrIssuerUnavailable, s.cfg.URL, rec.err)
		}
		if s.isKnownKid(h.Kid) {
			return refuse(OutcomeBadSignature, "signature does not verify with the issuer's key")
		}
		return refuse(OutcomeUnknownKey, "signed with a key the issuer does not publish (key set fetched again, key id not found)")
	case !rec.called:
		return refuse(OutcomeMalformed, "not a well-formed signed JWT")
	case !slices.Contains(uc.Aud, s.cfg.Audience):
		return refuse(OutcomeWrongAudience, fmt.Sprintf("audience does not include %q", s.cfg.Audience))
	case strings.Contains(err.Error(), "nbf"):
		return refuse(OutcomeNotYetValid, "token is not valid yet (nbf)")
	}
	return refuse(OutcomeMalformed, "token claims are not acceptable")
}

func (s *issuerState) knownKid(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kids) < maxKnownKids {
		s.kids[kid] = true
	}
}

func (s *issuerState) isKnownKid(kid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kids[kid]
}

// get returns the issuer's verifier, running discovery the first time (and
// again after a failure, at most every OIDC.retry).
func (s *issuerState) get(ctx context.Context, v *OIDC) (*oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifier != nil {
		return s.verifier, nil
	}
	if s.failErr != nil && v.now().Sub(s.failed) < v.retry {
		return nil, s.failErr
	}
	cctx := oidc.ClientContext(ctx, v.client)
	p, err := oidc.NewProvider(cctx, s.cfg.URL)
	if err == nil {
		var meta struct {
			JWKS string   `json:"jwks_uri"`
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		if err = p.Claims(&meta); err == nil && meta.JWKS == "" {
			err = errors.New("discovery document has no jwks_uri")
		}
		if err == nil {
			var algs []string
			for _, a := range meta.Algs {
				if slices.Contains(acceptedAlgs, a) {
					algs = append(algs, a)
				}
			}
			// The key set outlives the request: its context only carries the client.
			client := v.client
			var lim *jwksLimiter
			if v.keysEvery > 0 {
				client, lim = limitedClient(v.client, meta.JWKS, v.keysEvery, v.now)
			}
			keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), meta.JWKS)
			s.verifier = oidc.NewVerifier(s.cfg.URL, recordingKeySet{keys, lim}, &oidc.Config{
				ClientID: s.cfg.Audience, SupportedSigningAlgs: algs, Now: v.now,
			})
			s.failErr = nil
			return s.verifier, nil
		}
	}
	s.failed, s.failErr = v.now(), fmt.Errorf("%w: %s: discovery: %v", ErrIssuerUnavailable, s.cfg.URL, err)
	return nil, s.failErr
}

// sigRecord is where recordingKeySet notes the outcome of the signature check
// of one Verify call, to tell a bad signature from a bad claim.
type sigRecord struct {
	called bool
	err    error
}

type sigRecordKey struct{}

// recordingKeySet is a key set that records, in the sigRecord of the
// context, whether it was asked and what it answered.
type recordingKeySet struct {
	oidc.KeySet
	lim *jwksLimiter // nil without a fetch limit
}

// staleRetries bounds how often a token is checked again after sharing a key
// set fetch that had already finished (VerifySignature).
const staleRetries = 5

func (k recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.KeySet.VerifySignature(ctx, jwt)
	// go-oidc's RemoteKeySet tells the callers of a fetch that it is done
	// before it lets a new fetch start, so a token that names a key not yet
	// held and arrives just then is checked against that finished fetch's
	// keys: a rotated key would be refused although the interval has passed.
	// When the limiter says a fetch would still go to the issuer, this token
	// caused none: check it again, after a moment. A token that did cause a
	// fetch, or could not (the issuer is down), is not checked again.
	for i := 0; err != nil && k.lim != nil && i < staleRetries && !strings.HasPrefix(err.Error(), "fetching keys") && k.lim.due(); i++ {
		time.Sleep(time.Millisecond << i)
		payload, err = k.KeySet.VerifySignature(ctx, jwt)
	}
	if rec, ok := ctx.Value(sigRecordKey{}).(*sigRecord); ok {
		rec.called, rec.err = true, err
	}
	return payload, err
}
