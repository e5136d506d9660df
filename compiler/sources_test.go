package compiler_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
)

const traceStack = `apiVersion: plat/v1
kind: Stack
metadata:
  name: shop
  team: payments
  environment: prod
  costCenter: CC-1234
spec:
  target: %s
  region: eu-west-1
  resources:
    - name: db
      template: postgres
      with:
        size: medium
        storageGB: 100
`

func renderRecord(t *testing.T, target string) *record.Record {
	t.Helper()
	res, diags := newCompiler(t).Compile(context.Background(), compiler.Input{
		Stacks: []compiler.Source{{Name: "platform.yaml", Data: []byte(strings.Replace(traceStack, "%s", target, 1))}}, Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, f := range res.Files() {
		if f.Path == "shop/"+record.FileName {
			if !compiler.IsGenerated(f.Data) {
				t.Errorf("the record does not start with the generated-file header:\n%.80s", f.Data)
			}
			r, err := record.Parse(f.Path, f.Data)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no %s among the rendered files", record.FileName)
	return nil
}

// TestRecordTerraform checks the rule of docs/compiler.md on the module inputs
// of a postgres resource: a parameter the stack sets points at its value in the
// stack file, a defaulted one says so, size's table lookup is derived, the
// template's constant is a constant and plat's name and tags are context.
func TestRecordTerraform(t *testing.T) {
	r := renderRecord(t, "terraform")
	db := r.Resource("db")
	if db == nil || db.Template != "postgres" || db.Line != 14 || db.Col != 7 {
		t.Fatalf("resource db = %+v", db)
	}
	want := map[string]record.Origin{
		"allocated_storage":   {Origin: record.OriginStack, Parameter: "storageGB", Field: "spec.resources[0].with.storageGB", Line: 16, Col: 20},
		"deletion_protection": {Origin: record.OriginDefault, Parameter: "deletionProtection"},
		"instance_class":      {Origin: record.OriginDerived, Parameters: []string{"size"}},
		"storage_encrypted":   {Origin: record.OriginConstant},
		"name":                {Origin: record.OriginContext},
		"tags":                {Origin: record.OriginContext},
	}
	for k, w := range want {
		if got := db.Inputs[k]; !reflect.DeepEqual(got, w) {
			t.Errorf("input %s: %+v, want %+v", k, got, w)
		}
	}
	if p := db.Parameters["storageGB"]; !p.Set || p.Line != 16 || p.Col != 20 || p.Value.(interface{ String() string }).String() != "100" {
		t.Errorf("parameter storageGB = %+v", p)
	}
	if p := db.Parameters["highAvailability"]; p.Set || p.Value != true {
		t.Errorf("parameter highAvailability (prod default) = %+v", p)
	}
	if r.Stack.Environment != "prod" || r.Source != "platform.yaml" {
		t.Errorf("stack = %+v, source %q", r.Stack, r.Source)
	}
}

// TestRecordCrossplane checks the same rule on emitted fields, and that a
// field below a reference has the origin of its nearest recorded ancestor.
func TestRecordCrossplane(t *testing.T) {
	r := renderRecord(t, "crossplane")
	db := r.Resource("db")
	if db == nil || len(db.Objects) != 1 {
		t.Fatalf("resource db = %+v", db)
	}
	o := db.Objects[0]
	if o.Address() != "rds.aws.m.upbound.io/v1beta1/Instance/payments/shop-db" {
		t.Errorf("address %s", o.Address())
	}
	for path, want := range map[string]string{
		"spec.forProvider.allocatedStorage":   record.OriginStack,
		"spec.forProvider.multiAz":            record.OriginDefault,
		"spec.forProvider.skipFinalSnapshot":  record.OriginDerived,
		"spec.forProvider.engine":             record.OriginConstant,
		"metadata.labels.team":                record.OriginContext,
		`spec.forProvider.tags["plat.dev/x"]`: record.OriginContext,
	} {
		got, _, ok := record.Lookup(o.Fields, path)
		if !ok || got.Origin != want {
			t.Errorf("%s: %+v (found %v), want %s", path, got, ok, want)
		}
	}
	if got, rest, _ := record.Lookup(o.Fields, "metadata.labels.team"); rest != "team" || got.Origin != record.OriginContext {
		t.Errorf("metadata.labels.team: %+v below %q", got, rest)
	}
}

// TestCheckResource re-evaluates a resource's guardrails with live values in
// place of its parameters.
func TestCheckResource(t *testing.T) {
	c := newCompiler(t)
	base := compiler.ResourceCheck{Name: "shop", Team: "payments", Environment: "prod", CostCenter: "CC-1234",
		Target: "terraform", Region: "eu-west-1", Resource: "db", Template: "postgres",
		With: map[string]any{"size": "medium", "storageGB": 100}, Now: now}
	ids := func(rc compiler.ResourceCheck) ([]string, compiler.Diagnostics) {
		t.Helper()
		vs, diags, err := c.CheckResource(context.Background(), rc)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.ID+":"+v.Severity.String()+":"+v.Path)
		}
		return out, diags
	}
	if got, diags := ids(base); len(got) != 0 || diags.HasErrors() {
		t.Errorf("declared values: violations %v, diagnostics %v", got, diags)
	}
	rc := base
	rc.Override = map[string]any{"publiclyAccessible": true, "storageGB": 200}
	if got, _ := ids(rc); !reflect.DeepEqual(got, []string{"postgres.no-public-access:error:publiclyAccessible"}) {
		t.Errorf("public: violations %v", got)
	}
	rc.Override = map[string]any{"highAvailability": false}
	if got, _ := ids(rc); !reflect.DeepEqual(got, []string{"postgres.prod-high-availability:error:highAvailability"}) {
		t.Errorf("no standby: violations %v", got)
	}
	// A waiver in the stack still counts; one of another resource is left out.
	rc.Waivers = []map[string]any{
		{"guardrail": "postgres.prod-high-availability", "resource": "db", "reason": "r", "owner": "a@example.com", "expires": "2099-01-31"},
		{"guardrail": "bucket.public-needs-waiver", "resource": "assets", "reason": "r", "owner": "a@example.com", "expires": "2099-01-31"},
	}
	if got, diags := ids(rc); len(got) != 0 || diags.HasErrors() {
		t.Errorf("waived: violations %v, diagnostics %v", got, diags)
	}
	// A live value the template refuses is no violation but an error.
	rc = base
	rc.Override = map[string]any{"storageGB": 5000}
	got, diags := ids(rc)
	if len(got) != 0 || !diags.HasErrors() || diags[0].ID != compiler.IDInvalidValue {
		t.Errorf("storageGB 5000: violations %v, diagnostics %v", got, diags)
	}
	rc.Template = "nope"
	if _, _, err := c.CheckResource(context.Background(), rc); err == nil {
		t.Error("unknown template: no error")
	}
}
