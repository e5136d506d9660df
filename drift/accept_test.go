package drift_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/drift"
)

const acceptStack = `# checkout: the payments team's stack
apiVersion: plat/v1
kind: Stack
metadata:
  name: checkout
  team: payments
  environment: prod
  costCenter: CC-1234
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: orders-db   # orders
      template: postgres
      with:
        size: medium
        storageGB: 100   # GiB
    - name: q
      template: queue
`

// acceptReport builds a drift report whose changes trace to acceptStack, the
// way plat drift check reports them.
func acceptReport(file string, changes ...drift.AttributeChange) drift.Report {
	return drift.Report{SchemaVersion: drift.SchemaVersion, Stacks: []drift.StackReport{{
		Dir: "out/checkout", Kind: drift.KindTerraform, Status: drift.StatusDrifted,
		Resources: []drift.ResourceDrift{{Address: "module.orders-db.aws_db_instance.this", Type: "aws_db_instance", Action: drift.ActionChanged, Changes: changes}},
	}}}
}

func traced(file, param string, line, col int, declared, live any) drift.AttributeChange {
	return drift.AttributeChange{Path: "attr_" + param, Declared: declared, Live: live,
		Stack: &drift.StackField{File: file, Line: line, Col: col, Resource: "orders-db", Parameter: param, Declared: declared, Live: live}}
}

func newAccept(t *testing.T) (string, drift.AcceptOptions) {
	t.Helper()
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "platform.yaml")
	if err := os.WriteFile(path, []byte(acceptStack), 0o640); err != nil {
		t.Fatal(err)
	}
	return path, drift.AcceptOptions{Compiler: c, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

func TestAcceptAdoptsLiveValues(t *testing.T) {
	path, opts := newAccept(t)
	rep := acceptReport(path,
		traced(path, "storageGB", 17, 20, 100.0, 200.0),
		// A second attribute the same parameter controls: one edit.
		traced(path, "storageGB", 17, 20, 100.0, 200.0),
		// A defaulted parameter: added under with:.
		traced(path, "backupRetentionDays", 15, 7, 14.0, 21.0),
		drift.AttributeChange{Path: "tags.owner", Declared: nil, Live: "ops", Traced: new(false), Origin: "provider"},
	)
	res := drift.Accept(context.Background(), rep, opts)
	if got := res.Count(drift.OutcomeAccepted); got != 3 {
		t.Fatalf("accepted %d, want 3: %+v", got, res.Decisions)
	}
	if got := res.Count(drift.OutcomeUntraced); got != 1 {
		t.Errorf("untraced %d, want 1", got)
	}
	if len(res.Edits) != 1 {
		t.Fatalf("%d edits, want 1", len(res.Edits))
	}
	want := strings.Replace(acceptStack, "storageGB: 100   # GiB", "storageGB: 200   # GiB\n        backupRetentionDays: 21", 1)
	if got := string(res.Edits[0].New); got != want {
		t.Errorf("edited stack:\n%s\nwant:\n%s", got, want)
	}
	if res.Edits[0].File.Mode != 0o640 {
		t.Errorf("mode %v, want 0640", res.Edits[0].File.Mode)
	}
	var diff, text bytes.Buffer
	if err := res.WriteDiff(&diff); err != nil {
		t.Fatal(err)
	}
	name := res.Edits[0].File.Name
	for _, s := range []string{"--- a/" + name + "\n", "+++ b/" + name + "\n", "-        storageGB: 100   # GiB\n", "+        storageGB: 200   # GiB\n", "+        backupRetentionDays: 21\n"} {
		if !strings.Contains(diff.String(), s) {
			t.Errorf("diff lacks %q:\n%s", s, diff.String())
		}
	}
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		name + ":17:20: orders-db.storageGB: accepted: declared 100, live 200 (module.orders-db.aws_db_instance.this attr_storageGB)\n",
		"out/checkout: module.orders-db.aws_db_instance.this tags.owner: not traced: traces to nothing in the stack file (provider); to revert, run tofu apply in out/checkout, or ignore it in .platdriftignore\n",
		"plat: 3 accepted, 0 refused, 1 not traced\n",
	} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

func TestAcceptRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) []drift.AttributeChange
		reason string
	}{
		{"invalid parameter value", func(p string) []drift.AttributeChange {
			return []drift.AttributeChange{traced(p, "storageGB", 17, 20, 100.0, 5000.0)}
		}, "live value 5000 is not a valid value of storageGB: "},
		{"breaks a guardrail", func(p string) []drift.AttributeChange {
			return []drift.AttributeChange{traced(p, "publiclyAccessible", 15, 7, false, true)}
		}, "live value true would break guardrail postgres.no-public-access: "},
		{"guardrail in the report", func(p string) []drift.AttributeChange {
			c := traced(p, "storageGB", 17, 20, 100.0, 200.0)
			c.Guardrail = &drift.GuardrailViolation{ID: "postgres.x", Severity: "error", Message: "m"}
			return []drift.AttributeChange{c}
		}, "the live value breaks guardrail postgres.x (error): m; to revert, run tofu apply in out/checkout"},
		{"not invertible", func(p string) []drift.AttributeChange {
			return []drift.AttributeChange{traced(p, "size", 16, 15, "medium", nil)}
		}, "the live value does not map back to a value of size"},
		{"sensitive", func(p string) []drift.AttributeChange {
			c := traced(p, "size", 16, 15, "medium", "large")
			c.Sensitive = true
			return []drift.AttributeChange{c}
		}, "the value is sensitive"},
		{"stack file changed since", func(p string) []drift.AttributeChange {
			return []drift.AttributeChange{traced(p, "storageGB", 17, 20, 50.0, 200.0)}
		}, "the stack file now sets 100, not the declared 50: render and check drift again"},
		{"attributes disagree", func(p string) []drift.AttributeChange {
			return []drift.AttributeChange{traced(p, "storageGB", 17, 20, 100.0, 200.0), traced(p, "storageGB", 17, 20, 100.0, 300.0)}
		}, "live attributes disagree on the value of storageGB"},
		{"no such resource", func(p string) []drift.AttributeChange {
			c := traced(p, "storageGB", 17, 20, 100.0, 200.0)
			c.Stack.Resource = "gone"
			return []drift.AttributeChange{c}
		}, `the stack has no resource "gone"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opts := newAccept(t)
			res := drift.Accept(context.Background(), acceptReport(path, tc.change(path)...), opts)
			if res.Count(drift.OutcomeRefused) == 0 || res.Count(drift.OutcomeAccepted) != 0 {
				t.Fatalf("decisions %+v, want all refused", res.Decisions)
			}
			for _, d := range res.Decisions {
				if !strings.Contains(d.Reason, tc.reason) {
					t.Errorf("reason %q lacks %q", d.Reason, tc.reason)
				}
			}
			if len(res.Edits) != 0 {
				t.Errorf("edits for a refused change: %s", res.Edits[0].New)
			}
		})
	}
}

func TestAcceptKeepsGoodEditsBesideRefusedOnes(t *testing.T) {
	path, opts := newAccept(t)
	res := drift.Accept(context.Background(), acceptReport(path,
		traced(path, "storageGB", 17, 20, 100.0, 5000.0),
		traced(path, "size", 16, 15, "medium", "large"),
	), opts)
	if res.Count(drift.OutcomeAccepted) != 1 || res.Count(drift.OutcomeRefused) != 1 {
		t.Fatalf("decisions %+v", res.Decisions)
	}
	want := strings.Replace(acceptStack, "size: medium", "size: large", 1)
	if len(res.Edits) != 1 || string(res.Edits[0].New) != want {
		t.Fatalf("edits %+v", res.Edits)
	}
}

func TestAcceptDeletedAndFailedStacks(t *testing.T) {
	_, opts := newAccept(t)
	rep := drift.Report{SchemaVersion: drift.SchemaVersion, Stacks: []drift.StackReport{
		{Dir: "a", Kind: drift.KindCrossplane, Status: drift.StatusDrifted, Resources: []drift.ResourceDrift{{Address: "v1/ConfigMap/ns/x", Action: drift.ActionDeleted}}},
		{Dir: "b", Kind: drift.KindTerraform, Status: drift.StatusError, Error: "tofu plan: boom\nmore"},
	}}
	res := drift.Accept(context.Background(), rep, opts)
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := "a: v1/ConfigMap/ns/x: not traced: deleted outside plat: nothing to adopt; to revert, apply the rendered manifests again (kubectl apply -f a)\n" +
		"b: error: the stack could not be checked: tofu plan: boom\n" +
		"plat: 0 accepted, 0 refused, 1 not traced, 1 stack not checked\n"
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
}

func TestDecodeReport(t *testing.T) {
	path, _ := newAccept(t)
	var b bytes.Buffer
	rep := acceptReport(path, traced(path, "storageGB", 17, 20, 100.0, 200.0))
	if err := drift.WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"stack": {`, `"parameter": "storageGB"`, `"live": 200`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, b.String())
		}
	}
	got, err := drift.DecodeReport("r.json", &b)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Stacks[0].Resources[0].Changes[0]; c.Stack == nil || c.Stack.Live != 200.0 || c.Stack.Line != 17 {
		t.Errorf("decoded change %+v", c)
	}
	if _, err := drift.DecodeReport("x.json", strings.NewReader(`{"schemaVersion": "other"}`)); err == nil || !strings.Contains(err.Error(), `x.json: not a drift report of schema plat.dev/drift-report/v1 (schemaVersion "other")`) {
		t.Errorf("other schema: %v", err)
	}
	if _, err := drift.DecodeReport("x.json", strings.NewReader(`{`)); err == nil || !strings.HasPrefix(err.Error(), "x.json: not a drift report: ") {
		t.Errorf("bad JSON: %v", err)
	}
}
