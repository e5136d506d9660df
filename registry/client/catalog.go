package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The catalog and lifecycle API (docs/registry.md).

func catalogPath(ns, name string, rest ...string) string {
	p := "/api/v1/catalogs/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// PublishCatalog uploads a catalog archive as version ns/name/version and
// returns its digest (sha256:<hex>).
func (c *Client) PublishCatalog(ctx context.Context, ns, name, version string, archive []byte) (string, error) {
	b, err := c.do(ctx, http.MethodPost, catalogPath(ns, name, version), "application/gzip", archive, 64<<10)
	if err != nil {
		return "", err
	}
	var out struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("publish answer: %w", err)
	}
	return out.Digest, nil
}

// Mark is a lifecycle mark in the catalog and module APIs.
type Mark struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

// CatalogVersion is one version in a catalog's listing.
type CatalogVersion struct {
	Version     string `json:"version"`
	Digest      string `json:"digest"`
	Size        int64  `json:"size"`
	PublishedAt string `json:"published_at"`
	Deprecated  *Mark  `json:"deprecated,omitempty"`
	Yanked      *Mark  `json:"yanked,omitempty"`
}

// CatalogVersions lists a catalog's versions (yanked ones included, marked).
func (c *Client) CatalogVersions(ctx context.Context, ns, name string) ([]CatalogVersion, error) {
	b, err := c.do(ctx, http.MethodGet, catalogPath(ns, name), "", nil, 8<<20)
	if err != nil {
		return nil, err
	}
	var out struct {
		Versions []CatalogVersion `json:"versions"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("catalog listing: %w", err)
	}
	return out.Versions, nil
}

// DownloadCatalog fetches the archive of a catalog version, at most limit bytes.
func (c *Client) DownloadCatalog(ctx context.Context, ns, name, version string, limit int64) ([]byte, error) {
	return c.do(ctx, http.MethodGet, catalogPath(ns, name, version, "download"), "", nil, limit)
}

// MarkCatalog deprecates or yanks (kind) a catalog version, or undoes it.
func (c *Client) MarkCatalog(ctx context.Context, ns, name, version, kind, reason string, undo bool) error {
	body, _ := json.Marshal(map[string]any{"reason": reason, "undo": undo})
	_, err := c.do(ctx, http.MethodPost, catalogPath(ns, name, version, kind), "application/json", body, 64<<10)
	return err
}

// MarkModule deprecates or yanks (kind) a module version, or undoes it.
func (c *Client) MarkModule(ctx context.Context, ns, name, system, version, kind, reason string, undo bool) error {
	body, _ := json.Marshal(map[string]any{"reason": reason, "undo": undo})
	p := "/api/v1/modules/" + url.PathEscape(ns) + "/" + url.PathEscape(name) + "/" + url.PathEscape(system) + "/" + url.PathEscape(version) + "/" + kind
	_, err := c.do(ctx, http.MethodPost, p, "application/json", body, 64<<10)
	return err
}

// ModuleStatus is a module version's lifecycle marks from the details API.
type ModuleStatus struct {
	Deprecated *Mark `json:"deprecated,omitempty"`
	Yanked     *Mark `json:"yanked,omitempty"`
}

// ModuleStatus returns the lifecycle marks of a module version.
func (c *Client) ModuleStatus(ctx context.Context, ns, name, system, version string) (ModuleStatus, error) {
	p := "/v1/modules/" + url.PathEscape(ns) + "/" + url.PathEscape(name) + "/" + url.PathEscape(system) + "/" + url.PathEscape(version)
	b, err := c.do(ctx, http.MethodGet, p, "", nil, 16<<20)
	if err != nil {
		return ModuleStatus{}, err
	}
	var out ModuleStatus
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("module details: %w", err)
	}
	return out, nil
}
