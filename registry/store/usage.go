package store

import (
	"context"
	"time"
)

// Kinds of what a stack uses.
const (
	UseModule  = "module"
	UseCatalog = "catalog"
)

// Use is one stack's use of a module version (Kind UseModule, System set) or
// a catalog version (Kind UseCatalog, System empty), as an inventory push
// reports it.
type Use struct {
	Kind      string
	Namespace string
	Name      string
	System    string
	Version   string
	// Stack is the stack's name, File its stack file in the repository.
	Stack string
	File  string
}

// PushedUse is a Use with where it came from.
type PushedUse struct {
	Use
	// Owner is the namespace of the token that pushed it; Repository the key
	// the push named.
	Owner      string
	Repository string
	PushedAt   time.Time
}

// UseCount is how many stacks use one version.
type UseCount struct {
	Kind, Namespace, Name, System, Version string
	Stacks                                 int64
}

// UsageStore keeps what inventory pushes report, apart from module
// metadata. A backend offers it beside Store; the registry's usage API is
// off where it does not.
type UsageStore interface {
	// ReplaceUses replaces, in one transaction, every use owner pushed for
	// repository by uses (none: the repository is forgotten).
	ReplaceUses(ctx context.Context, owner, repository string, uses []Use, at time.Time) error
	// Uses lists the uses of one module (system set) or catalog (system
	// empty, kind UseCatalog), every version, ordered by version (as text), owner,
	// repository, file, stack.
	Uses(ctx context.Context, kind, namespace, name, system string) ([]PushedUse, error)
	// UseCounts counts the uses of every version anything uses, ordered by
	// kind, namespace, name, system, version.
	UseCounts(ctx context.Context) ([]UseCount, error)
}
