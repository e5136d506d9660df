package cli

import (
	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/drift/kube"
)

// kubeChecker returns the checker for Crossplane stacks, comparing rendered
// manifests with the live objects of the cluster kubeconfig names (empty: the
// client's defaults, $KUBECONFIG then ~/.kube/config). It is called at most once
// per drift pass, and only when a pass holds a Crossplane stack.
func kubeChecker(kubeconfig string) (drift.Checker, error) {
	return kube.FromKubeconfig(kubeconfig)
}
