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

	"github.com/platdev/plat/compiler/crd/manifest"
	"github.com/platdev/plat/internal/kubetest"
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
			if c.Field != "" {
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
			ms, err := manifest.Parse(name, b)
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
