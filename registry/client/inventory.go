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
)

// PushInventory sends an inventory document (plat.inventory/v1 JSON) to the
// registry's POST /api/v1/inventory, which replaces what the token's
// namespace pushed before for the same repository. A refusal is a
// *StatusError.
func (c *Client) PushInventory(ctx context.Context, doc []byte) error {
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("registry URL %q: want http(s)://HOST[:PORT]", c.BaseURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base.String(), "/")+"/api/v1/inventory", bytes.NewReader(doc))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
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
