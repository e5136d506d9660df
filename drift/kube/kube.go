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
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
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

// isSecret says whether u is a core v1 Secret, whose values are all masked.
func isSecret(u *unstructured.Unstructured) bool {
	return u.GetAPIVersion() == "v1" && u.GetKind() == "Secret"
}

// stackSecrets gathers the values of the stack's declared Secrets (stringData
// as written, data decoded) and of their live objects, so copies of them in
// other objects are masked too.
func stackSecrets(objs []declared, lives map[listKey]map[string]*unstructured.Unstructured) *drift.Secrets {
	sec := new(drift.Secrets)
	add := func(u *unstructured.Unstructured) {
		for _, field := range []string{"data", "stringData"} {
			m, _ := u.Object[field].(map[string]any)
			for _, v := range m {
				str, ok := v.(string)
				if !ok {
					continue
				}
				sec.Add(str)
				if b, err := base64.StdEncoding.DecodeString(str); err == nil && field == "data" {
					sec.Add(string(b))
				}
			}
		}
	}
	for _, d := range objs {
		if !isSecret(d.obj) {
			continue
		}
		add(d.obj)
		if l := lives[listKey{d.gvr, d.namespace}][d.obj.GetName()]; l != nil {
			add(l)
		}
	}
	return sec
}

// compareObject returns every declared leaf whose live value differs; copies of
// sec's values are masked in the others' values and map keys.
func compareObject(decl, live *unstructured.Unstructured, sec *drift.Secrets) []drift.AttributeChange {
	var out []drift.AttributeChange
	secret := isSecret(decl)
	keys := sortedKeys(decl.Object)
	for _, k := range keys {
		dv := decl.Object[k]
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			dm, _ := dv.(map[string]any)
			lm, _ := live.Object["metadata"].(map[string]any)
			// Only what users set and the server keeps as is; name and namespace
			// identify the object, the rest is server-set.
			for _, mk := range []string{"labels", "annotations"} {
				if v, ok := dm[mk]; ok {
					out = compare(out, "metadata."+mk, v, lm[mk], lm != nil && hasKey(lm, mk), sec)
				}
			}
		case "data", "stringData":
			if secret {
				out = compareSecret(out, k, dv, live.Object["data"])
				continue
			}
			out = compare(out, k, dv, live.Object[k], hasKey(live.Object, k), sec)
		default:
			out = compare(out, k, dv, live.Object[k], hasKey(live.Object, k), sec)
		}
	}
	return out
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// compare appends the differences between a declared value and the live one at
// path. Maps are compared key by key (live keys the declaration lacks are
// ignored), lists element by element when both have the same length, scalars by
// value with numbers compared numerically. Copies of sec's values are masked
// in reported values and in map keys on paths.
func compare(out []drift.AttributeChange, path string, decl, live any, present bool, sec *drift.Secrets) []drift.AttributeChange {
	switch d := decl.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok || !present {
			if len(d) == 0 && !present {
				return out // an empty declared map is the same as none
			}
			return append(out, change(path, decl, live, present, sec))
		}
		for _, k := range sortedKeys(d) {
			lv, ok := l[k]
			out = compare(out, join(path, sec.Key(k)), d[k], lv, ok, sec)
		}
		return out
	case []any:
		l, ok := live.([]any)
		if ok && len(l) == len(d) {
			for i := range d {
				out = compare(out, path+"["+strconv.Itoa(i)+"]", d[i], l[i], true, sec)
			}
			return out
		}
		if len(d) == 0 && (!present || (ok && len(l) == 0)) {
			return out
		}
		return append(out, change(path, decl, live, present, sec))
	case nil:
		// An explicit null declares nothing the server keeps.
		return out
	default:
		if present && equalScalar(decl, live) {
			return out
		}
		return append(out, change(path, decl, live, present, sec))
	}
}

func change(path string, decl, live any, present bool, sec *drift.Secrets) drift.AttributeChange {
	return drift.AttributeChange{Path: path, Declared: sec.Scrub(decl), Live: sec.Scrub(liveValue(live, present))}
}

func liveValue(v any, present bool) any {
	if !present {
		return nil
	}
	return v
}

// compareSecret compares a Secret's declared data or stringData with its live
// data, masking every value.
func compareSecret(out []drift.AttributeChange, field string, decl, liveData any) []drift.AttributeChange {
	d, _ := decl.(map[string]any)
	l, _ := liveData.(map[string]any)
	for _, k := range sortedKeys(d) {
		want, _ := d[k].(string)
		got, ok := l[k].(string)
		if field == "stringData" {
			want = base64.StdEncoding.EncodeToString([]byte(want))
		}
		if ok && sameBase64(want, got) {
			continue
		}
		c := drift.AttributeChange{Path: join(field, k), Declared: drift.Masked, Live: drift.Masked, Sensitive: true}
		if !ok {
			c.Live = nil
		}
		out = append(out, c)
	}
	return out
}

func sameBase64(a, b string) bool {
	x, err1 := base64.StdEncoding.DecodeString(a)
	y, err2 := base64.StdEncoding.DecodeString(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return bytes.Equal(x, y)
}

func equalScalar(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && (x == y || math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)))
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)

// join appends a map key to a path: tags.team, or labels["plat.dev/stack"] for
// keys that would be ambiguous after a dot.
func join(path, key string) string {
	if plainKey.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
