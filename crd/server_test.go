package crd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/kubetest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/internal/yamlpos"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// apiServer applies the provider's namespaced CRDs to the shared API server and
// returns a function that server-side-apply dry-runs an object in a fresh
// namespace, returning the server's error.
func apiServer(t *testing.T) func(obj map[string]any) error {
	t.Helper()
	srv := kubetest.Shared(t)
	crds, err := filepath.Glob(filepath.Join(providerCRDs(t), "*.aws.m.upbound.io_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv.ApplyCRDs(t, crds...)
	ns := srv.Namespace(t, "crd")
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return func(obj map[string]any) error {
		u := &unstructured.Unstructured{Object: deepCopy(obj).(map[string]any)}
		u.SetNamespace(ns) // rendered manifests name their team's namespace
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%v: %v", gvk, err)
		}
		return kubetest.RetryNotFound(func() error {
			_, err := dyn.Resource(m.Resource).Namespace(ns).Apply(context.Background(), u.GetName(), u, metav1.ApplyOptions{
				FieldManager: "plat-test",
				DryRun:       []string{metav1.DryRunAll},
				Force:        true,
			})
			return err
		})
	}
}

// smdField matches the paths structured-merge-diff names in server-side apply
// errors: ".spec.forProvidr: field not declared in schema".
var smdField = regexp.MustCompile(`(?m)(?:^|[\s:])\.([A-Za-z0-9_\-\[\]\.=]+): `)

// serverFields returns the field paths an API server error names.
func serverFields(t *testing.T, err error) []string {
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("not an API status error: %v", err)
	}
	var out []string
	if d := se.ErrStatus.Details; d != nil {
		for _, c := range d.Causes {
			// "<nil>" carries the server's note that CEL rules were skipped
			// after a blocking error; it names no field.
			if c.Field != "" && c.Field != "<nil>" {
				out = append(out, strings.TrimPrefix(c.Field, "."))
			}
		}
	}
	if len(out) == 0 {
		for _, m := range smdField.FindAllStringSubmatch(se.ErrStatus.Message, -1) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestOfflineMatchesAPIServer runs every valid and broken test manifest through a
// real kube-apiserver's server-side dry-run apply and through Set.Validate, and
// requires the same verdict and the same field paths from both.
func TestOfflineMatchesAPIServer(t *testing.T) {
	dryRun := apiServer(t)
	s := loadProvider(t)
	for _, dir := range []string{"valid", "invalid"} {
		for name, b := range testManifests(t, dir) {
			ms, err := yamlpos.Parse(name, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				u := unstructured.Unstructured{Object: m.Object}
				t.Run(dir+"/"+filepath.Base(name)+"/"+u.GetKind()+"/"+u.GetName(), func(t *testing.T) {
					serverErr := dryRun(m.Object)
					plat := s.Validate(m.Object)
					if dir == "valid" {
						if serverErr != nil {
							t.Fatalf("server refused a valid manifest: %v", serverErr)
						}
						if len(plat) != 0 {
							t.Fatalf("plat refused a manifest the server accepts: %v", plat)
						}
						return
					}
					if serverErr == nil {
						t.Fatalf("server accepted a broken manifest (plat says %v)", plat)
					}
					want := serverFields(t, serverErr)
					got := fields(plat)
					t.Logf("server: %v\nplat:   %v", serverErr, plat)
					if len(want) == 0 {
						t.Fatalf("cannot find field paths in the server's error %v", serverErr)
					}
					for _, f := range want {
						if !slices.Contains(got, f) {
							t.Errorf("server reports %s, plat does not (plat: %q)", f, got)
						}
					}
					if len(plat) == 0 {
						t.Errorf("plat accepts what the server refuses")
					}
				})
			}
		}
	}
}

// renderedExamples compiles every example stack for the crossplane target (the
// terraform ones too, with their target switched) and returns its objects.
func renderedExamples(t *testing.T) []map[string]any {
	t.Helper()
	stacks, err := filepath.Glob(filepath.Join(testtools.RepoRoot(t), "examples", "*", "platform.yaml"))
	if err != nil || len(stacks) == 0 {
		t.Fatalf("no example stacks: %v", err)
	}
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	for _, p := range stacks {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.Replace(string(b), "target: terraform", "target: crossplane", 1))
		res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: p, Data: b}}})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", p, diags)
		}
		for _, f := range res.Files() {
			objs = append(objs, f.Objects...)
		}
	}
	return objs
}

// TestRenderedExamplesMatchAPIServer sends every object of every example stack,
// rendered for Crossplane, to a real API server (server-side dry-run apply) and
// through Set.Validate: both accept them. Then it breaks each object in three
// ways (a misspelt field, a wrong type, a missing required field) and requires
// both to refuse it, with plat naming every field the server names.
func TestRenderedExamplesMatchAPIServer(t *testing.T) {
	dryRun := apiServer(t)
	s := loadProvider(t)
	objs := renderedExamples(t)
	kinds := map[string]bool{}
	for _, obj := range objs {
		u := unstructured.Unstructured{Object: obj}
		kinds[u.GetKind()] = true
		name := u.GetKind() + "/" + u.GetName()
		if err := dryRun(obj); err != nil {
			t.Errorf("%s: server refused a rendered manifest: %v", name, err)
		}
		if errs := s.Validate(obj); len(errs) != 0 {
			t.Errorf("%s: plat refused a rendered manifest: %v", name, errs)
		}
		breakages := map[string]func(fp map[string]any){
			"misspelt": func(fp map[string]any) { fp["regoin"] = fp["region"] },
			"type":     func(fp map[string]any) { fp["region"] = int64(5) },
			"required": func(fp map[string]any) { delete(fp, "region") },
		}
		for how, breakIt := range breakages {
			broken := deepCopy(obj).(map[string]any)
			fp, ok, _ := unstructured.NestedMap(broken, "spec", "forProvider")
			if !ok {
				t.Fatalf("%s: no spec.forProvider", name)
			}
			breakIt(fp)
			if err := unstructured.SetNestedMap(broken, fp, "spec", "forProvider"); err != nil {
				t.Fatal(err)
			}
			serverErr := dryRun(broken)
			if serverErr == nil {
				t.Errorf("%s %s: server accepted it", name, how)
				continue
			}
			got := fields(s.Validate(broken))
			for _, f := range serverFields(t, serverErr) {
				if !slices.Contains(got, f) {
					t.Errorf("%s %s: server reports %s, plat does not (plat: %q; server: %v)", name, how, f, got, serverErr)
				}
			}
		}
	}
	if len(kinds) < 8 {
		t.Errorf("examples render only %d kinds: %v", len(kinds), kinds)
	}
	t.Logf("%d objects of %d kinds", len(objs), len(kinds))
}
