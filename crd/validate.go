package crd

import (
	"context"
	"fmt"
	"sort"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Error types that are not field.ErrorType values.
const (
	// TypeUnknownField is a field the schema does not declare (the API server
	// refuses it under strict field validation and server-side apply).
	TypeUnknownField = "FieldValueUnknown"
	// TypeNoSchema is an object whose kind or version no CRD in the set serves.
	TypeNoSchema = "SchemaNotFound"
)

// Error is one way a manifest breaks its schema.
type Error struct {
	// File, Line and Column locate the offending value (or the key that is
	// missing a child) when the manifest came from a file; Line is 0 otherwise.
	File         string
	Line, Column int

	APIVersion, Kind, Namespace, Name string

	// Field is the path of the offending field, dot-separated with [i] for list
	// indexes (spec.forProvider.regoin); empty for the whole object.
	Field string
	// Type classifies the error: a k8s.io/apimachinery field.ErrorType value
	// (FieldValueRequired, FieldValueTypeInvalid, FieldValueNotSupported,
	// FieldValueInvalid, ...), TypeUnknownField or TypeNoSchema.
	Type string
	// Detail says what is wrong, as the API server words it.
	Detail string
}

// Error formats e like a compiler diagnostic:
// out/checkout/assets.yaml:12:7: Bucket/assets: spec.forProvider.regoin: field not declared in schema.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	if e.Kind != "" {
		b.WriteString(e.Kind)
		if e.Name != "" {
			b.WriteString("/" + e.Name)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// builtinGroup reports whether group belongs to Kubernetes itself (core, apps,
// rbac.authorization.k8s.io, ...), whose kinds no CRD describes.
func builtinGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
}

// Validate checks one object (as decoded from YAML or JSON: maps, slices,
// strings, bools, int64/float64 numbers) against its CRD and returns every
// violation the API server would report on create, sorted by field. Objects of
// built-in Kubernetes kinds (Secret, ConfigMap, ...) are not checked. obj is not
// modified.
func (s *Set) Validate(obj map[string]any) []Error {
	apiVersion, _ := obj["apiVersion"].(string)
	kindName, _ := obj["kind"].(string)
	base := Error{APIVersion: apiVersion, Kind: kindName}
	if md, ok := obj["metadata"].(map[string]any); ok {
		base.Name, _ = md["name"].(string)
		base.Namespace, _ = md["namespace"].(string)
	}
	fail := func(typ, fieldPath, detail string) []Error {
		e := base
		e.Type, e.Field, e.Detail = typ, fieldPath, detail
		return []Error{e}
	}
	if apiVersion == "" || kindName == "" {
		return fail(string(field.ErrorTypeRequired), "", "apiVersion and kind are required")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return fail(string(field.ErrorTypeInvalid), "apiVersion", err.Error())
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: kindName}
	k := s.lookup(gk)
	if k == nil {
		if builtinGroup(gv.Group) {
			return nil
		}
		if s.knowsGroup(gv.Group) {
			return fail(TypeNoSchema, "kind", fmt.Sprintf("no CRD defines kind %s in group %s", kindName, gv.Group))
		}
		return fail(TypeNoSchema, "apiVersion", fmt.Sprintf("no CRD serves group %s", gv.Group))
	}
	if k.err != nil {
		return fail(TypeNoSchema, "", k.err.Error())
	}
	v := k.versions[gv.Version]
	if v == nil || !v.served {
		return fail(TypeNoSchema, "apiVersion", fmt.Sprintf("version %s is not served by CRD %s (served: %s)", gv.Version, k.crd, strings.Join(k.served(), ", ")))
	}
	if v.structural == nil {
		return nil // preserves unknown fields, no schema to check
	}

	u := deepCopy(obj).(map[string]any)
	if v.statusSubres {
		// The main endpoint ignores status when a status subresource exists (and
		// the loaded schema may not describe it, see slim).
		delete(u, "status")
	}
	var errs field.ErrorList
	var out []Error

	// Decoding: unknown fields, the way strict field validation and server-side
	// apply refuse them, then nulls and defaults.
	_, _, metaUnknown, metaErr := schemaobjectmeta.GetObjectMetaWithOptions(u, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if metaErr != nil {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), u["metadata"], metaErr.Error()))
	}
	var unknown []string
	unknown = append(unknown, metaUnknown...)
	if !v.preserveUnknown {
		unknown = append(unknown, structuralpruning.PruneWithOptions(u, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, v.structural)
	}
	for _, p := range unknown {
		e := base
		e.Type, e.Field, e.Detail = TypeUnknownField, p, "field not declared in schema"
		out = append(out, e)
	}
	if fe, _ := schemaobjectmeta.CoerceWithOptions(nil, u, v.structural, false, schemaobjectmeta.CoerceOptions{}); fe != nil {
		errs = append(errs, fe)
	}
	structuraldefaulting.Default(u, v.structural)

	// Validation, in the order of the API server's custom resource strategy.
	uns := &unstructured.Unstructured{Object: u}
	if k.namespaced && uns.GetNamespace() == "" {
		// The namespace comes from the request (kubectl -n, the kubeconfig).
		uns.SetNamespace("default")
	}
	if metaErr == nil {
		errs = append(errs, metavalidation.ValidateObjectMetaAccessor(uns, k.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	}
	errs = append(errs, validation.ValidateCustomResource(nil, u, v.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u, v.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, v.structural, u)...)
	if c := v.celValidator(); c != nil && !blocking(errs) {
		celErrs, _ := c.Validate(context.Background(), nil, v.structural, u, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, fe := range errs {
		e := base
		e.Type = string(fe.Type)
		e.Field = strings.TrimPrefix(fe.Field, ".")
		if e.Field == "<nil>" {
			e.Field = ""
		}
		e.Detail = fe.ErrorBody()
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// blocking reports whether errs hold an error after which the API server does
// not run CEL rules (they could not be evaluated meaningfully).
func blocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

func (k *kind) served() []string {
	var out []string
	for name, v := range k.versions {
		if v.served {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// deepCopy copies a decoded JSON/YAML value; unlike runtime.DeepCopyJSONValue it
// accepts any scalar type.
func deepCopy(x any) any {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = deepCopy(v)
		}
		return l
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	default:
		return x
	}
}
