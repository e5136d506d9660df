package cli

import (
	"errors"

	"github.com/platdev/plat/drift"
)

// kubeChecker returns the checker for Crossplane stacks, comparing rendered
// manifests with the live objects of the cluster kubeconfig names (empty: the
// client's defaults). It is called at most once per drift pass, and only when a
// pass holds a Crossplane stack. This file is the seam the Crossplane checker
// (package drift/kube) plugs into.
func kubeChecker(kubeconfig string) (drift.Checker, error) {
	_ = kubeconfig
	return nil, errors.New("crossplane stacks are not supported yet")
}
