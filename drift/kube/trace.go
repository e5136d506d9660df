package kube

import (
	"context"

	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/drift"
)

// Resolver maps a drifted field of a Crossplane stack's object to the field
// plat rendered: the object is found in the render record by its address, the
// field by its path, and the mapping is direct.
type Resolver struct{}

var _ drift.Resolver = Resolver{}

// Resolve implements drift.Resolver.
func (Resolver) Resolve(_ context.Context, _ string, rec *record.Record, address, path string) drift.Resolution {
	for _, r := range rec.Resources {
		for i, o := range r.Objects {
			if o.Address() == address {
				return drift.Resolution{Resource: r.Name, Path: drift.ObjectPath(i, path), Invert: drift.Identity}
			}
		}
	}
	return drift.Resolution{Untraced: drift.OriginDerived}
}
