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
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("registry URL %q: want http(s)://HOST[:PORT]", c.BaseURL)
	}
	u := strings.TrimSuffix(base.String(), "/") + "/api/v1/modules/" + url.PathEscape(k.Namespace) + "/" +
		url.PathEscape(k.Name) + "/" + url.PathEscape(k.System) + "/" + url.PathEscape(k.Version)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(archive))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Expect", "100-continue")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		return nil
	}
	var eb struct {
		Errors []string `json:"errors"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		msg = strings.Join(eb.Errors, "; ")
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &StatusError{Status: resp.StatusCode, Message: msg}
}
