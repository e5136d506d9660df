package xrd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"cuelang.org/go/cue"

	"github.com/platdev/plat/crd"
	"github.com/platdev/plat/internal/kubetest"
	"github.com/platdev/plat/internal/testtools"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

var xrdGVR = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v2", Resource: "compositeresourcedefinitions"}

func crossplaneCRDs(t testing.TB) string {
	return filepath.Join(testtools.SharedDir(t), "crds", "crossplane")
}

// TestXRDsAcceptedByAPIServer creates the generated XRDs on a real API server
// that enforces Crossplane's own XRD CRD, and checks them offline against the
// same CRD.
func TestXRDsAcceptedByAPIServer(t *testing.T) {
	srv := kubetest.Shared(t)
	srv.ApplyCRDs(t, filepath.Join(crossplaneCRDs(t), "apiextensions.crossplane.io_compositeresourcedefinitions.yaml"))
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	offline, err := crd.LoadDir(crossplaneCRDs(t))
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string]cue.Value{
		"database.cue": loadTemplate(t, "database.cue"),
		"queue.cue":    loadTemplate(t, "queue.cue"),
	}
	for _, name := range catalogTemplates(t) {
		templates["catalog/"+name] = loadCatalogTemplate(t, name)
	}
	for f, tmpl := range templates {
		res, err := Generate(tmpl, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if errs := offline.Validate(res.XRD); len(errs) != 0 {
			t.Errorf("%s: offline validation: %v", f, errs)
		}
		// Through YAML, as a user would apply it.
		u := yamlObject(t, res)
		err = kubetest.RetryNotFound(func() error {
			_, err := dyn.Resource(xrdGVR).Create(context.Background(), u, metav1.CreateOptions{FieldValidation: "Strict"})
			return err
		})
		if err != nil {
			t.Errorf("%s: API server refused the XRD: %v", f, err)
		}
	}
}

func yamlObject(t *testing.T, res *Result) *unstructured.Unstructured {
	t.Helper()
	b, err := res.YAML()
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(yamlToJSON(t, b)); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestClusterEnforcesGuardrails serves the XRD's schema as the CRD Crossplane
// derives from it and sends self-service requests: the API server applies the
// defaults and refuses what the template's guardrails and bounds refuse.
func TestClusterEnforcesGuardrails(t *testing.T) {
	srv := kubetest.Shared(t)
	res, err := Generate(loadTemplate(t, "database.cue"), Options{Group: "guardrails.plat.dev"})
	if err != nil {
		t.Fatal(err)
	}
	spec := res.XRD["spec"].(map[string]any)
	v := spec["versions"].([]any)[0].(map[string]any)
	var props apiextensionsv1.JSONSchemaProps
	raw, _ := json.Marshal(v["schema"].(map[string]any)["openAPIV3Schema"])
	if err := json.Unmarshal(raw, &props); err != nil {
		t.Fatal(err)
	}
	cs, err := apiextensionsclient.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	def := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: res.XRD["metadata"].(map[string]any)["name"].(string)},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "guardrails.plat.dev",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "Database", ListKind: "DatabaseList", Plural: "databases", Singular: "database"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: DefaultVersion, Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &props},
			}},
		},
	}
	if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), def, metav1.CreateOptions{}); err != nil {
		t.Fatalf("API server refused the XRD's schema as a CRD: %v", err)
	}
	dir := t.TempDir()
	b, _ := json.Marshal(def)
	if err := os.WriteFile(filepath.Join(dir, "crd.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	srv.ApplyCRDs(t, filepath.Join(dir, "crd.json")) // waits until served
	ns := srv.Namespace(t, "xr")
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "guardrails.plat.dev", Version: DefaultVersion, Resource: "databases"}
	cases := []struct {
		name    string
		spec    map[string]any
		refusal string // "" = accepted
	}{
		{"defaults", map[string]any{"environment": "dev", "owner": "a@example.com"}, ""},
		{"prod with defaults", map[string]any{"environment": "prod", "owner": "a@example.com", "highAvailability": true}, ""},
		{"public", map[string]any{"environment": "dev", "owner": "a", "publiclyAccessible": true}, "database.no-public-access"},
		{"prod without HA", map[string]any{"environment": "prod", "owner": "a", "highAvailability": false}, "database.prod-high-availability"},
		{"prod without HA, waived", map[string]any{"environment": "prod", "owner": "a", "highAvailability": false,
			"waivers": []any{map[string]any{"guardrail": "database.prod-high-availability", "reason": "test", "owner": "a@example.com", "expires": "2027-01-31"}}}, ""},
		{"public cannot be waived", map[string]any{"environment": "dev", "owner": "a", "publiclyAccessible": true,
			"waivers": []any{map[string]any{"guardrail": "database.no-public-access", "reason": "test", "owner": "a@example.com", "expires": "2027-01-31"}}}, "database.no-public-access"},
		{"prod short backups", map[string]any{"environment": "prod", "owner": "a", "highAvailability": true, "backupRetentionDays": 7}, "database.prod-backup-retention"},
		{"storage below minimum", map[string]any{"environment": "dev", "owner": "a", "storageGB": 5}, "spec.storageGB"},
		{"unknown size", map[string]any{"environment": "dev", "owner": "a", "size": "huge"}, `spec.size: Unsupported value: "huge"`},
		{"missing owner", map[string]any{"environment": "dev"}, "spec.owner: Required value"},
		{"bad environment", map[string]any{"environment": "qa", "owner": "a"}, "spec.environment"},
	}
	for i, c := range cases {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "guardrails.plat.dev/" + DefaultVersion,
			"kind":       "Database",
			"metadata":   map[string]any{"name": "db-" + string(rune('a'+i))},
			"spec":       c.spec,
		}}
		var got *unstructured.Unstructured
		err := kubetest.RetryNotFound(func() (err error) {
			got, err = dyn.Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err
		})
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refusal != "" && err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.refusal != "" && !strings.Contains(err.Error(), c.refusal):
			t.Errorf("%s: refused with %v, want a mention of %s", c.name, err, c.refusal)
		}
		if c.name == "defaults" && err == nil {
			if size, _, _ := unstructured.NestedString(got.Object, "spec", "size"); size != "small" {
				t.Errorf("defaults not applied: %v", got.Object["spec"])
			}
		}
	}
}
