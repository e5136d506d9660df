// Package kube detects drift in Crossplane stacks: the rendered manifests of a
// stack directory are compared with the live objects of a Kubernetes cluster.
//
// Only what a manifest declares is compared, leaf by leaf: fields the
// declaration leaves out (defaults, late-initialized values), server-set
// metadata and status never count as drift. A declared object that is gone is
// reported as deleted. The checker only reads: it lists each kind once per
// namespace and never creates, updates or patches anything.
package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/userfile"
	"github.com/platdev/plat/internal/yamlpos"
)

// ErrNoManifests is returned (in a report's Error) for a directory without
// Kubernetes manifests.
var ErrNoManifests = errors.New("no Kubernetes manifests")

// Checker compares Crossplane stack directories with one cluster. It is safe for
// concurrent use; where each kind lives is cached for its lifetime.
type Checker struct {
	dyn       dynamic.Interface
	mapper    *resourceMapper
	namespace string
}

// New returns a Checker for the cluster cfg reaches. namespace is where
// namespaced objects whose manifests name no namespace are looked up (kubectl
// applies them there too); empty means "default".
func New(cfg *rest.Config, namespace string) (*Checker, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	mapper, err := newResourceMapper(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	return &Checker{
		dyn:       dyn,
		mapper:    mapper,
		namespace: namespace,
	}, nil
}

// FromKubeconfig returns a Checker for the current context of the kubeconfig at
// path, or, when path is empty, of KUBECONFIG or ~/.kube/config, the way kubectl
// finds it. Objects without a namespace are looked up in the context's namespace.
func FromKubeconfig(path string) (*Checker, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if list := filepath.SplitList(path); len(list) > 1 {
		rules.Precedence = list // a KUBECONFIG-style list, merged like kubectl does
	} else if path != "" {
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return New(cfg, ns)
}

func stackFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// declared is one object of the stack, resolved to its REST resource.
type declared struct {
	obj       *unstructured.Unstructured
	gvr       schema.GroupVersionResource
	namespace string // "" for cluster-scoped kinds
	address   string
}

type listKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// Check compares the manifests in dir with the live cluster and returns the
// stack's report (Kind crossplane). Errors reading the stack or talking to the
// cluster are reported in the report, with status error.
func (c *Checker) Check(ctx context.Context, dir string) drift.StackReport {
	start := time.Now()
	r := drift.StackReport{Dir: dir, Kind: drift.KindCrossplane}
	resources, err := c.check(ctx, dir)
	r.DurationMS = time.Since(start).Milliseconds()
	switch {
	case err != nil:
		r.Status = drift.StatusError
		r.Error = err.Error()
	case len(resources) > 0:
		r.Status = drift.StatusDrifted
		r.Resources = resources
	default:
		r.Status = drift.StatusClean
	}
	return r
}

func (c *Checker) check(ctx context.Context, dir string) ([]drift.ResourceDrift, error) {
	objs, err := c.readStack(ctx, dir)
	if err != nil {
		return nil, err
	}
	// One list per kind and namespace, however many objects the stack has.
	groups := map[listKey][]declared{}
	var keys []listKey
	for _, d := range objs {
		k := listKey{d.gvr, d.namespace}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], d)
	}
	lives := make(map[listKey]map[string]*unstructured.Unstructured, len(keys))
	for _, k := range keys {
		live, err := c.list(ctx, k)
		if err != nil {
			return nil, err
		}
		lives[k] = live
	}
	sec := stackSecrets(objs, lives)
	var out []drift.ResourceDrift
	for _, k := range keys {
		live := lives[k]
		for _, d := range groups[k] {
			l, ok := live[d.obj.GetName()]
			if !ok || l.GetDeletionTimestamp() != nil {
				out = append(out, drift.ResourceDrift{Address: d.address, Type: d.obj.GetKind(), Action: drift.ActionDeleted})
				continue
			}
			changes := compareObject(d.obj, l, sec)
			if len(changes) == 0 {
				continue
			}
			out = append(out, drift.ResourceDrift{
				Address:    d.address,
				Type:       d.obj.GetKind(),
				Action:     drift.ActionChanged,
				Changes:    changes,
				Conditions: conditions(l),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// readStack decodes the stack's manifests and maps each to its REST resource.
func (c *Checker) readStack(ctx context.Context, dir string) ([]declared, error) {
	files, err := stackFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("read stack: %w", err)
	}
	var out []declared
	seen := map[string]string{}
	for _, f := range files {
		b, err := userfile.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read stack: %w", err)
		}
		ms, err := yamlpos.Parse(filepath.Base(f), b)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			u := &unstructured.Unstructured{Object: m.Object}
			if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
				return nil, fmt.Errorf("%s: a manifest lacks apiVersion, kind or metadata.name", m.File)
			}
			gvk := u.GroupVersionKind()
			mapping, err := c.mapper.lookup(ctx, gvk)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %s: the cluster does not serve this kind: %w", m.File, u.GetAPIVersion(), u.GetKind(), err)
			}
			d := declared{obj: u, gvr: mapping.resource}
			if mapping.namespaced {
				d.namespace = u.GetNamespace()
				if d.namespace == "" {
					d.namespace = c.namespace
				}
			}
			d.address = address(u, d.namespace)
			if prev, dup := seen[d.address]; dup {
				return nil, fmt.Errorf("%s: %s is also declared in %s", m.File, d.address, prev)
			}
			seen[d.address] = m.File
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoManifests)
	}
	return out, nil
}

// address names an object as apiVersion/Kind/namespace/name (without the
// namespace for cluster-scoped kinds).
func address(u *unstructured.Unstructured, namespace string) string {
	parts := []string{u.GetAPIVersion(), u.GetKind()}
	if namespace != "" {
		parts = append(parts, namespace)
	}
	return strings.Join(append(parts, u.GetName()), "/")
}

// listPageSize keeps responses bounded; a stack's kinds rarely need a second page.
const listPageSize = 500

// list returns the live objects of one kind in one namespace by name.
func (c *Checker) list(ctx context.Context, k listKey) (map[string]*unstructured.Unstructured, error) {
	ri := c.dyn.Resource(k.gvr)
	var rc dynamic.ResourceInterface = ri
	if k.namespace != "" {
		rc = ri.Namespace(k.namespace)
	}
	out := map[string]*unstructured.Unstructured{}
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		l, err := rc.List(ctx, opts)
		if err != nil {
			where := ""
			if k.namespace != "" {
				where = " in namespace " + k.namespace
			}
			return nil, fmt.Errorf("list %s%s: %w", k.gvr.GroupResource(), where, err)
		}
		for i := range l.Items {
			out[l.Items[i].GetName()] = &l.Items[i]
		}
		if l.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = l.GetContinue()
	}
}

// conditions returns the Synced and Ready conditions of a managed resource.
func conditions(live *unstructured.Unstructured) []drift.Condition {
	cs, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
	var out []drift.Condition
	for _, c := range cs {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		if typ != "Synced" && typ != "Ready" {
			continue
		}
		cond := drift.Condition{Type: typ}
		cond.Status, _ = m["status"].(string)
		cond.Reason, _ = m["reason"].(string)
		cond.Message, _ = m["message"].(string)
		out = append(out, cond)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type > out[j].Type }) // Synced, Ready
	return out
}
