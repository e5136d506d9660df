package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/internal/testtools"
)

// crdSchema is the part of a CRD this test needs.
type crdSchema struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Scope    string `json:"scope"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema struct {
				OpenAPIV3Schema *openAPI `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

type openAPI struct {
	Type                   string              `json:"type"`
	Properties             map[string]*openAPI `json:"properties"`
	Items                  *openAPI            `json:"items"`
	AdditionalProperties   any                 `json:"additionalProperties"`
	Required               []string            `json:"required"`
	PreserveUnknownFields  bool                `json:"x-kubernetes-preserve-unknown-fields"`
	XKubernetesValidations []struct {
		Rule    string `json:"rule"`
		Message string `json:"message"`
	} `json:"x-kubernetes-validations"`
}

func loadCRDs(t *testing.T) map[string]*openAPI {
	t.Helper()
	dir := filepath.Join(testtools.SharedDir(t), "crds", "provider-aws")
	paths, err := filepath.Glob(filepath.Join(dir, "*.aws.m.upbound.io_*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no namespaced CRDs in %s: %v", dir, err)
	}
	out := map[string]*openAPI{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var crd crdSchema
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if crd.Spec.Scope != "Namespaced" {
			t.Fatalf("%s: scope %s, want Namespaced", p, crd.Spec.Scope)
		}
		for _, v := range crd.Spec.Versions {
			if v.Served {
				out[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	return out
}

// walk checks that every path of x is declared by s with a matching type, and
// that required properties are present.
func walk(path string, x any, s *openAPI, errs *[]string) {
	if s == nil {
		*errs = append(*errs, path+": no schema")
		return
	}
	if s.PreserveUnknownFields && s.Properties == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		if s.Type != "object" {
			*errs = append(*errs, fmt.Sprintf("%s: object, schema says %s", path, s.Type))
			return
		}
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				*errs = append(*errs, fmt.Sprintf("%s: required %s missing", path, r))
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := s.Properties[k]; ok {
				walk(path+"."+k, x[k], p, errs)
				continue
			}
			if ap, ok := s.AdditionalProperties.(map[string]any); ok {
				if ap["type"] == "string" {
					if _, isStr := x[k].(string); !isStr {
						*errs = append(*errs, fmt.Sprintf("%s.%s: want string", path, k))
					}
				}
				continue
			}
			if s.Properties == nil && s.AdditionalProperties == nil && path == ".metadata" {
				continue // metadata is validated by the API server itself
			}
			*errs = append(*errs, fmt.Sprintf("%s.%s: field not declared in schema", path, k))
		}
	case []any:
		if s.Type != "array" {
			*errs = append(*errs, fmt.Sprintf("%s: array, schema says %s", path, s.Type))
			return
		}
		for i, e := range x {
			walk(fmt.Sprintf("%s[%d]", path, i), e, s.Items, errs)
		}
	case string:
		if s.Type != "string" {
			*errs = append(*errs, fmt.Sprintf("%s: string, schema says %s", path, s.Type))
		}
	case bool:
		if s.Type != "boolean" {
			*errs = append(*errs, fmt.Sprintf("%s: boolean, schema says %s", path, s.Type))
		}
	case int, int64, float64:
		if s.Type != "number" && s.Type != "integer" {
			*errs = append(*errs, fmt.Sprintf("%s: number, schema says %s", path, s.Type))
		}
	default:
		*errs = append(*errs, fmt.Sprintf("%s: unexpected %T", path, x))
	}
}

// TestCrossplaneMatchesCRDs renders every template for the crossplane target,
// with default and non-default parameters, and checks every emitted path
// against the real CRDs of the Upbound AWS provider.
func TestCrossplaneMatchesCRDs(t *testing.T) {
	crds := loadCRDs(t)
	stack := strings.NewReplacer("target: terraform", "target: crossplane", "environment: prod", "environment: staging").Replace(head) + `    - name: db
      template: postgres
    - name: db2
      template: postgres
      with: {deletionProtection: false, size: large, version: "15"}
    - name: b
      template: bucket
    - name: b2
      template: bucket
      with: {encryption: aes256, expireAfterDays: 30, versioning: true}
    - name: q
      template: queue
    - name: q2
      template: queue
      with: {fifo: true, encryption: kms}
    - name: c
      template: cache
      with: {engine: redis, nodes: 3}
`
	res, diags := compileOne(t, stack)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	kinds := map[string]bool{}
	n := 0
	for _, f := range res.Files() {
		if path.Base(f.Path) == record.FileName {
			continue
		}
		if len(f.Objects) == 0 {
			t.Errorf("%s: no objects", f.Path)
		}
		var docs []map[string]any
		for _, d := range strings.Split(string(f.Data), "\n---\n")[1:] {
			var o map[string]any
			if err := yaml.Unmarshal([]byte(d), &o); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			docs = append(docs, o)
		}
		if len(docs) != len(f.Objects) {
			t.Errorf("%s: %d documents, %d objects", f.Path, len(docs), len(f.Objects))
		}
		for _, o := range docs {
			n++
			apiVersion, _ := o["apiVersion"].(string)
			kind, _ := o["kind"].(string)
			kinds[kind] = true
			s := crds[apiVersion+"/"+kind]
			if !strings.HasSuffix(strings.Split(apiVersion, "/")[0], ".aws.m.upbound.io") || s == nil {
				t.Errorf("%s: %s %s is not a namespaced Upbound AWS kind", f.Path, apiVersion, kind)
				continue
			}
			meta, _ := o["metadata"].(map[string]any)
			if meta["namespace"] == nil || meta["name"] == nil {
				t.Errorf("%s: %s without metadata.name/namespace", f.Path, kind)
			}
			var errs []string
			walk("", o, s, &errs)
			// CEL rules of the form has(self.forProvider.X) that Upbound uses for
			// parameters required on create.
			spec := s.Properties["spec"]
			for _, v := range spec.XKubernetesValidations {
				if i := strings.Index(v.Rule, "has(self.forProvider."); i >= 0 {
					field := v.Rule[i+len("has(self.forProvider."):]
					field = field[:strings.Index(field, ")")]
					fp, _ := o["spec"].(map[string]any)["forProvider"].(map[string]any)
					if _, ok := fp[field]; !ok {
						errs = append(errs, "spec.forProvider."+field+": "+v.Message)
					}
				}
			}
			for _, e := range errs {
				t.Errorf("%s: %s %s: %s", f.Path, kind, meta["name"], e)
			}
		}
	}
	for _, k := range []string{"Instance", "Bucket", "BucketServerSideEncryptionConfiguration", "BucketPublicAccessBlock",
		"BucketVersioning", "BucketOwnershipControls", "BucketLifecycleConfiguration", "Queue", "QueueRedrivePolicy", "ReplicationGroup", "Key"} {
		if !kinds[k] {
			t.Errorf("no %s rendered", k)
		}
	}
	if n < 20 {
		t.Errorf("only %d objects checked", n)
	}
	_ = context.Background
	_ = compiler.Header
}
