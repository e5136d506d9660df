package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/platdev/plat/internal/kubetest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/internal/yamlpos"
)

// TestScriptCrossplane runs the scripts in testdata/script/crossplane against a
// real kube-apiserver holding the Upbound AWS provider's namespaced CRDs and
// Crossplane's XRD CRD. Scripts get $KUBECONFIG, $CRDS (the provider's CRD
// directory), `exitcode N cmd...`, and a `kube` command that stands in for
// kubectl and for someone changing things behind plat's back:
//
//	kube apply FILE...                             server-side apply, creating namespaces
//	kube patch APIVERSION KIND NS NAME JSON [status]  JSON merge patch
//	kube delete APIVERSION KIND NS NAME
//	kube diff FILE...                              server-side diff: fails when a server-side
//	                                               apply (dry run) of FILE would change a live object
func TestScriptCrossplane(t *testing.T) {
	srv := kubetest.Start(t)
	shared := testtools.SharedDir(t)
	crds, err := filepath.Glob(filepath.Join(shared, "crds", "provider-aws", "*.aws.m.upbound.io_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv.ApplyCRDs(t, append(crds, filepath.Join(shared, "crds", "crossplane", "apiextensions.crossplane.io_compositeresourcedefinitions.yaml"))...)
	k := newKube(t, srv)

	p := scriptParams(filepath.Join("testdata", "script", "crossplane"))
	p.Setup = func(e *testscript.Env) error {
		bin := filepath.Join(e.WorkDir, ".bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return err
		}
		e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
		e.Setenv("KUBECONFIG", srv.Kubeconfig)
		e.Setenv("CRDS", filepath.Join(shared, "crds", "provider-aws"))
		return nil
	}
	p.Cmds["kube"] = k.run
	testscript.Run(t, p)
}

type kube struct {
	dyn    dynamic.Interface
	cs     kubernetes.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newKube(t *testing.T, srv *kubetest.Server) *kube {
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &kube{dyn: dyn, cs: cs, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

func (k *kube) resource(apiVersion, kind, ns string) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	m, err := k.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		k.mapper.Reset()
		m, err = k.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	}
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return k.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return k.dyn.Resource(m.Resource), nil
}

func (k *kube) run(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: kube apply|patch|delete ...")
	}
	ctx := context.Background()
	var err error
	switch args[0] {
	case "apply":
		for _, f := range args[1:] {
			if err = k.apply(ctx, ts, ts.MkAbs(f)); err != nil {
				break
			}
		}
	case "patch":
		if len(args) != 6 && len(args) != 7 {
			ts.Fatalf("usage: kube patch APIVERSION KIND NAMESPACE NAME JSON [status]")
		}
		var ri dynamic.ResourceInterface
		if ri, err = k.resource(args[1], args[2], args[3]); err == nil {
			_, err = ri.Patch(ctx, args[4], types.MergePatchType, []byte(args[5]), metav1.PatchOptions{}, args[6:]...)
		}
	case "diff":
		for _, f := range args[1:] {
			if err = k.diff(ctx, ts, ts.MkAbs(f)); err != nil {
				break
			}
		}
	case "delete":
		if len(args) != 5 {
			ts.Fatalf("usage: kube delete APIVERSION KIND NAMESPACE NAME")
		}
		var ri dynamic.ResourceInterface
		if ri, err = k.resource(args[1], args[2], args[3]); err == nil {
			err = ri.Delete(ctx, args[4], metav1.DeleteOptions{})
		}
	default:
		ts.Fatalf("kube: unknown subcommand %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(ts.Stderr(), "kube %s: %v\n", args[0], err)
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("kube %s succeeded unexpectedly", args[0])
	case !neg && err != nil:
		ts.Fatalf("kube %s: %v", strings.Join(args, " "), err)
	}
}

// diff server-side applies every manifest of file as a dry run and compares
// the object the server would then hold with the live one (spec, labels and
// annotations): the server-side diff kubectl diff shows. Any difference is an
// error naming the object.
func (k *kube) diff(ctx context.Context, ts *testscript.TestScript, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ms, err := yamlpos.Parse(filepath.Base(file), b)
	if err != nil {
		return err
	}
	for _, m := range ms {
		u := &unstructured.Unstructured{Object: m.Object}
		ri, err := k.resource(u.GetAPIVersion(), u.GetKind(), u.GetNamespace())
		if err != nil {
			return err
		}
		live, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		next, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kubectl", Force: true, DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		for _, f := range [][]string{{"spec"}, {"metadata", "labels"}, {"metadata", "annotations"}} {
			a, _, _ := unstructured.NestedFieldNoCopy(live.Object, f...)
			n, _, _ := unstructured.NestedFieldNoCopy(next.Object, f...)
			if !reflect.DeepEqual(a, n) {
				return fmt.Errorf("%s %s: %s differs:\n live %v\n file %v", u.GetKind(), u.GetName(), strings.Join(f, "."), a, n)
			}
		}
		fmt.Fprintf(ts.Stdout(), "%s/%s unchanged\n", strings.ToLower(u.GetKind()), u.GetName())
	}
	return nil
}

// apply server-side applies every manifest of file, creating its namespace.
func (k *kube) apply(ctx context.Context, ts *testscript.TestScript, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ms, err := yamlpos.Parse(filepath.Base(file), b)
	if err != nil {
		return err
	}
	for _, m := range ms {
		u := &unstructured.Unstructured{Object: m.Object}
		if ns := u.GetNamespace(); ns != "" {
			_, err := k.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
		}
		ri, err := k.resource(u.GetAPIVersion(), u.GetKind(), u.GetNamespace())
		if err != nil {
			return err
		}
		err = kubetest.RetryNotFound(func() error {
			_, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kubectl", Force: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		fmt.Fprintf(ts.Stdout(), "%s/%s applied\n", strings.ToLower(u.GetKind()), u.GetName())
	}
	return nil
}
