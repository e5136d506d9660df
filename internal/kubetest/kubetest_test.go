package kubetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platdev/plat/internal/testtools"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestSharedServer starts the real API server, loads a provider CRD and lists
// its (empty) resource through both the rest.Config and the kubeconfig file.
func TestSharedServer(t *testing.T) {
	srv := Shared(t)
	if again := Shared(t); again != srv {
		t.Fatal("Shared started a second server")
	}
	crd := filepath.Join(testtools.SharedDir(t), "crds/provider-aws/s3.aws.m.upbound.io_buckets.yaml")
	srv.ApplyCRDs(t, crd)
	srv.ApplyCRDs(t, crd) // idempotent
	ns := srv.Namespace(t, "smoke")

	cfg, err := clientcmd.BuildConfigFromFlags("", srv.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "s3.aws.m.upbound.io", Version: "v1beta1", Resource: "buckets"}
	l, err := dyn.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 0 {
		t.Fatalf("new namespace holds %d buckets", len(l.Items))
	}
}
