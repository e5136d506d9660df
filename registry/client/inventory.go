package client

import (
	"context"
	"net/http"
)

// PushInventory sends an inventory document (plat.inventory/v1 JSON) to the
// registry's POST /api/v1/inventory, which replaces what the token's
// namespace pushed before for the same repository. A refusal is a
// *StatusError.
func (c *Client) PushInventory(ctx context.Context, doc []byte) error {
	_, err := c.do(ctx, http.MethodPost, "/api/v1/inventory", "application/json", doc, -1)
	return err
}
