package auth

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxJWKSBytes bounds a key set document kept for repeated answers.
const maxJWKSBytes = 1 << 20

// jwksLimiter is the transport of an issuer's key set fetches. go-oidc's
// RemoteKeySet fetches the key set again whenever a token names a key it does
// not hold, so tokens with made-up key ids would make the registry ask the
// issuer once per request. Within interval of the last fetch, the limiter
// answers a fetch of the key set URL from that fetch's response instead: a
// rotated key is picked up by the first token after the interval, and the
// issuer sees at most one fetch per interval however many tokens arrive.
// Other requests (discovery) pass through.
type jwksLimiter struct {
	base     http.RoundTripper
	url      string
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex
	last   time.Time
	status int
	header http.Header
	body   []byte
}

func (l *jwksLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.String() != l.url {
		return l.base.RoundTrip(req)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.body != nil && l.now().Sub(l.last) < l.interval {
		return l.answer(req), nil
	}
	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading key set %s: %w", l.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("key set %s is larger than %d bytes", l.url, maxJWKSBytes)
	}
	l.last, l.status, l.header, l.body = l.now(), resp.StatusCode, resp.Header.Clone(), body
	return l.answer(req), nil
}

// due reports whether the next fetch of the key set goes to the issuer: none
// is kept, or the interval has passed since it was fetched.
func (l *jwksLimiter) due() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.body == nil || l.now().Sub(l.last) >= l.interval
}

// answer is the kept response, new for each caller.
func (l *jwksLimiter) answer(req *http.Request) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", l.status, http.StatusText(l.status)),
		StatusCode:    l.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        l.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(l.body)),
		ContentLength: int64(len(l.body)),
		Request:       req,
	}
}

// limitedClient returns a copy of c whose fetches of the key set at url go
// through a jwksLimiter, and the limiter.
func limitedClient(c *http.Client, url string, interval time.Duration, now func() time.Time) (*http.Client, *jwksLimiter) {
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc := *c
	lim := &jwksLimiter{base: base, url: url, interval: interval, now: now}
	cc.Transport = lim
	return &cc, lim
}
