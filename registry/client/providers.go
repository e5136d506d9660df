package client

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/platdev/plat/registry/provider"
)

// PublishProvider uploads one provider version (all its platforms' archives,
// with the hashes the layout declares for them) as registry namespace owner.
// A refusal is a *StatusError.
func (c *Client) PublishProvider(ctx context.Context, owner string, p provider.Package) error {
	base, err := c.base()
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	declared := map[string][]string{}
	for _, a := range p.Archives {
		if len(a.Declared) > 0 {
			declared[a.Platform] = a.Declared
		}
	}
	hw, err := mw.CreateFormField("hashes")
	if err != nil {
		return err
	}
	if err := json.NewEncoder(hw).Encode(declared); err != nil {
		return err
	}
	for _, a := range p.Archives {
		fw, err := mw.CreateFormFile(a.Platform, provider.ArchiveName(p.Addr.Type, p.Version, a.Platform))
		if err != nil {
			return err
		}
		if _, err := fw.Write(a.Data); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	u := base + "/api/v1/providers/" + url.PathEscape(owner) + "/" +
		url.PathEscape(p.Addr.Hostname) + "/" + url.PathEscape(p.Addr.Namespace) + "/" + url.PathEscape(p.Addr.Type) + "/" + url.PathEscape(p.Version)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body.Bytes()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Expect", "100-continue")
	_, err = c.send(req, -1)
	return err
}
