package store

import (
	"context"
	"time"
)

// InventoryStack is one stack of an inventory push, kept whole for the
// registry's Backstage entities: Doc is the stack as the registry read it
// (JSON; the registry's own shape, not the client's document).
type InventoryStack struct {
	File string
	Name string
	Doc  []byte
}

// PushedStack is an InventoryStack with where it came from.
type PushedStack struct {
	InventoryStack
	Owner      string
	Repository string
	PushedAt   time.Time
}

// StackStore keeps the stacks of the latest inventory push of each
// repository, beside UsageStore's uses. A backend offers it optionally; the
// registry's Backstage entities list no stacks where it does not.
type StackStore interface {
	// ReplaceStacks replaces, in one transaction, every stack owner pushed
	// for repository by stacks (none: the repository is forgotten).
	ReplaceStacks(ctx context.Context, owner, repository string, stacks []InventoryStack, at time.Time) error
	// InventoryStacks lists every kept stack, ordered by owner, repository, file.
	InventoryStacks(ctx context.Context) ([]PushedStack, error)
}
