package crd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/internal/testtools"
)

// TestSlimKeepsWhatValidationReads checks, on every real CRD we have, that the
// text-level slimming only removes descriptions and subresource status schemas:
// decoding the slim text gives the same CRD as decoding the original and then
// dropping those.
func TestSlimKeepsWhatValidationReads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testtools.SharedDir(t), "crds", "*", "*.yaml"))
	if err != nil || len(files) < 50 {
		t.Fatalf("CRD files: %d, %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want, got apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(slim(b), &got); err != nil {
			t.Fatalf("%s: slim text does not decode: %v", filepath.Base(f), err)
		}
		if filepath.Base(filepath.Dir(f)) == "provider-aws" {
			if _, kept := got.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"]; kept {
				t.Errorf("%s: status schema of a provider kind not dropped", filepath.Base(f))
			}
		}
		for i := range want.Spec.Versions {
			v := &want.Spec.Versions[i]
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			dropDescriptions(v.Schema.OpenAPIV3Schema)
			if v.Subresources != nil && v.Subresources.Status != nil {
				// slim may keep it (when unsure of the layout); either is fine.
				delete(v.Schema.OpenAPIV3Schema.Properties, "status")
				if g := got.Spec.Versions[i].Schema; g != nil && g.OpenAPIV3Schema != nil {
					delete(g.OpenAPIV3Schema.Properties, "status")
				}
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: slim changed more than descriptions and status", filepath.Base(f))
		}
	}
}

func dropDescriptions(s *apiextensionsv1.JSONSchemaProps) {
	if s == nil {
		return
	}
	s.Description = ""
	for k, p := range s.Properties {
		dropDescriptions(&p)
		s.Properties[k] = p
	}
	if s.Items != nil {
		dropDescriptions(s.Items.Schema)
		for i := range s.Items.JSONSchemas {
			dropDescriptions(&s.Items.JSONSchemas[i])
		}
	}
	if s.AdditionalProperties != nil {
		dropDescriptions(s.AdditionalProperties.Schema)
	}
	for _, l := range [][]apiextensionsv1.JSONSchemaProps{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range l {
			dropDescriptions(&l[i])
		}
	}
	dropDescriptions(s.Not)
}
