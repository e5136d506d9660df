package drift

import "errors"

// Sentinel errors a stack's check can fail with. A StackReport carries only the
// message; these let callers of Run's building blocks tell the cases apart.
var (
	// ErrNotStack means a directory holds neither Terraform files nor Kubernetes manifests.
	ErrNotStack = errors.New("not a Terraform or Crossplane stack")
	// ErrNoChecker means no checker was configured for a stack's kind.
	ErrNoChecker = errors.New("no checker for this kind of stack")
)
