// Package client talks to a plat registry's upload API.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/platdev/plat/registry/module"
)

// StatusError is a refusal from the registry: an HTTP status and the server's
// message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Client publishes module versions.
type Client struct {
	// BaseURL is the registry's root URL, e.g. https://registry.example.com.
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// New returns a Client with a transport that waits for the server's go-ahead
// (Expect: 100-continue) before sending an archive, so refusals arrive before the
// upload.
func New(baseURL, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = 2 * time.Second
	return &Client{BaseURL: baseURL, Token: token, HTTP: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
}

// Publish uploads archive as version k. A refusal is a *StatusError; anything else
// (unreachable server, bad URL) is a plain error.
func (c *Client) Publish(ctx context.Context, k module.Key, archive []byte) error {
	base, err := c.base()
	if err != nil {
		return err
	}
	u := base + "/api/v1/modules/" + url.PathEscape(k.Namespace) + "/" +
		url.PathEscape(k.Name) + "/" + url.PathEscape(k.System) + "/" + url.PathEscape(k.Version)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(archive))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Expect", "100-continue")
	_, err = c.send(req, -1)
	return err
}

// base returns the registry's root URL without a trailing slash, or an error
// when BaseURL is not an http(s) URL with a host.
func (c *Client) base() (string, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("registry URL %q: want http(s)://HOST[:PORT]", c.BaseURL)
	}
	return strings.TrimSuffix(base.String(), "/"), nil
}

// do sends a request to base+path and returns the response body of a 2xx
// answer (at most limit bytes; more is an error), or a *StatusError.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, limit int64) ([]byte, error) {
	base, err := c.base()
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.send(req, limit)
}

// send adds the token to req, sends it, and returns the body of a 2xx answer
// (at most limit bytes, more is an error; a negative limit discards it), or a
// *StatusError carrying the server's message (its JSON "errors", else its
// text, else the status text).
func (c *Client) send(req *http.Request, limit int64) ([]byte, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb struct {
			Errors []string `json:"errors"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &eb) == nil && len(eb.Errors) > 0 {
			msg = strings.Join(eb.Errors, "; ")
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, &StatusError{Status: resp.StatusCode, Message: msg}
	}
	if limit < 0 {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", req.Method, req.URL.Path, limit)
	}
	return b, nil
}
