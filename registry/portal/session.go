package portal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/platdev/plat/registry/store"
)

// Login: with --require-read-token every page needs a token. The token is
// posted on /login and kept in a session cookie, sealed (AES-256-GCM, key
// derived from the store's signing key, so every replica opens it) with its
// expiry; each request opens it and asks the registry's own token, grant and
// OIDC checks what it may read. State-changing requests (login, logout) pass
// net/http's CrossOriginProtection (Sec-Fetch-Site / Origin checks).

// cookieName is the session cookie's name.
const cookieName = "plat_session"

// maxToken bounds a posted token: static tokens are short, ID tokens a few
// kilobytes; a cookie holds about 4 KiB.
const maxToken = 2800

// sealer seals and opens session cookie values.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (sealer, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: g}, nil
}

func (s sealer) seal(secret string, exp time.Time) string {
	plain := make([]byte, 8, 8+len(secret))
	binary.BigEndian.PutUint64(plain, uint64(exp.Unix()))
	plain = append(plain, secret...)
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(cookieName)))
}

// open returns the secret of a sealed value that has not expired.
func (s sealer) open(v string, now time.Time) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", false
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(cookieName))
	if err != nil || len(plain) < 8 {
		return "", false
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(plain)) {
		return "", false
	}
	return string(plain[8:]), true
}

// viewer is who asks: what they may read, and the tokens to read it with.
type viewer struct {
	// LoginNeeded is set when reads need a token (the nav offers log in or out).
	LoginNeeded bool
	// LoggedIn is set when a session cookie carries an accepted token.
	LoggedIn bool
	// All is set when reads need no token.
	All bool
	// Namespaces are what the token may read (when !All).
	Namespaces []string

	ctx    context.Context
	p      *Portal
	secret string
	tokens map[string]*store.Token
}

// viewer resolves the request's session. When reads need a token and there is
// no usable session, it redirects to /login and returns false.
func (p *Portal) viewer(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v := &viewer{ctx: r.Context(), p: p, LoginNeeded: p.svc.RequiresReadToken()}
	if !v.LoginNeeded {
		v.All = true
		return v, true
	}
	c, err := r.Cookie(cookieName)
	if err == nil {
		v.secret, _ = p.seal.open(c.Value, time.Now())
	}
	if v.secret == "" {
		p.toLogin(w, r, "")
		return nil, false
	}
	_, ns, err := p.svc.ReadableNamespaces(r.Context(), v.secret)
	if err != nil || len(ns) == 0 {
		// A token revoked or expired since the login.
		clearSession(w, r)
		p.toLogin(w, r, "expired")
		return nil, false
	}
	v.LoggedIn, v.Namespaces = true, ns
	return v, true
}

// token returns the token to read namespace ns with: nil when reads need none
// or the viewer may not read it (the service then refuses).
func (v *viewer) token(ns string) *store.Token {
	if v.All || v.secret == "" {
		return nil
	}
	if t, ok := v.tokens[ns]; ok {
		return t
	}
	t, err := v.p.svc.AuthenticateFor(v.ctx, v.secret, ns)
	if err != nil {
		t = nil
	}
	if v.tokens == nil {
		v.tokens = map[string]*store.Token{}
	}
	v.tokens[ns] = t
	return t
}

// canRead reports whether the viewer may read namespace ns.
func (v *viewer) canRead(ns string) bool {
	if v.All {
		return true
	}
	for _, n := range v.Namespaces {
		if n == ns {
			return v.p.svc.CanRead(v.token(ns), ns) == nil
		}
	}
	return false
}

func (p *Portal) toLogin(w http.ResponseWriter, r *http.Request, reason string) {
	q := url.Values{}
	if next := r.URL.RequestURI(); next != "/" && r.Method == http.MethodGet {
		q.Set("next", next)
	}
	if reason != "" {
		q.Set("why", reason)
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "/".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// loginData is the login page's content.
type loginData struct {
	Next    string
	Message string // why the form is shown again
	Needed  bool   // reads need a token
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: safeNext(r.URL.Query().Get("next")), Needed: p.svc.RequiresReadToken()}
	if r.URL.Query().Get("why") == "expired" {
		d.Message = "Your session ended: the token is no longer accepted. Log in again."
	}
	p.render(w, r, &viewer{LoginNeeded: d.Needed}, http.StatusOK, "login", "Log in", "", d)
}

func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, nil, http.StatusBadRequest, "The login form could not be read.")
		return
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next")), Needed: p.svc.RequiresReadToken()}
	if !d.Needed {
		http.Redirect(w, r, d.Next, http.StatusSeeOther)
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	var err error
	var ns []string
	switch {
	case secret == "":
		err = errors.New("empty")
		d.Message = "Enter a read or publish token of this registry."
	case len(secret) > maxToken:
		err = errors.New("long")
		d.Message = "That token is too long to be one of this registry's."
	default:
		_, ns, err = p.svc.ReadableNamespaces(r.Context(), secret)
		if err == nil && len(ns) == 0 {
			err = errors.New("no namespaces")
		}
		if err != nil {
			d.Message = "The registry did not accept that token: it is unknown, revoked or expired, or grants no namespace."
		}
	}
	if err != nil {
		// The token is never written back into the page.
		p.render(w, r, &viewer{LoginNeeded: true}, http.StatusUnauthorized, "login", "Log in", "", d)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: p.seal.seal(secret, time.Now().Add(p.opts.SessionTTL)),
		Path: "/", MaxAge: int(p.opts.SessionTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	clearSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}
