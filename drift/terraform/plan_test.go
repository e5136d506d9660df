package terraform

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// readPlan reads a plan's JSON or fails the test.
func readPlan(t *testing.T, src string) []drift.ResourceDrift {
	t.Helper()
	rs, err := ReadPlan(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// bigPlan is `tofu show -json` of the 1,000-resource stack of platbench's
// bigdrift scenario (500 local_file, 500 platjson_document; one in 20 of each
// changed behind tofu's back), as real tofu 1.10.6 wrote it. Regenerate with
// `go run ./internal/benchcmp/platbench -smoke=false -keep -only bigdrift` and
// `tofu show -json $WORK/bigdrift/big.tfplan` in $WORK/bigdrift/big.
func bigPlan(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open("testdata/bigplan.json.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestReadPlanBig: every drifted resource of the real 1,000-resource plan is
// reported, with each changed attribute: 50 files deleted outside, 50
// documents with content.team and rules[0].port changed.
func TestReadPlanBig(t *testing.T) {
	rs, err := ReadPlan(bytes.NewReader(bigPlan(t)))
	if err != nil {
		t.Fatal(err)
	}
	var want []drift.ResourceDrift
	for i := 0; i < 1000; i += 20 {
		want = append(want, drift.ResourceDrift{Address: fmt.Sprintf("local_file.f%04d", i), Type: "local_file", Action: drift.ActionDeleted},
			drift.ResourceDrift{Address: fmt.Sprintf("platjson_document.d%04d", i+1), Type: "platjson_document", Action: drift.ActionChanged,
				Changes: []drift.AttributeChange{
					{Path: "content.team", Declared: "payments", Live: "search"},
					{Path: "rules[0].port", Declared: json.Number("80"), Live: json.Number("8080")},
				}})
	}
	want = drift.Normalize(want)
	if fmt.Sprintf("%#v", rs) != fmt.Sprintf("%#v", want) {
		t.Errorf("got %d resources, want %d:\n got %v\nwant %v", len(rs), len(want), rs, want)
	}
}

// TestReadPlanSecretsEverywhere: sensitive values are gathered from every part
// of the plan the reader streams past (planned changes, outputs, the prior
// state's root and child modules, sensitive root variables) and masked in the
// drift, while the parts it skips (configuration expressions, planned values)
// are read past whatever they hold.
func TestReadPlanSecretsEverywhere(t *testing.T) {
	src := `{
  "format_version": "1.2",
  "variables": {"token": {"value": "var-secret-1"}, "plain": {"value": "var-plain-1"}},
  "planned_values": {"root_module": {"resources": [{"address": "x", "values": {"deep": [[{"a": ["b", {"c": 1}]}]]}}]}},
  "resource_drift": [
    {"address": "x_thing.a", "mode": "managed", "type": "x_thing", "name": "a",
     "change": {"actions": ["update"],
       "before": {"n": "var-secret-1 state-secret-1 child-secret-1 out-secret-1 change-secret-1 var-plain-1", "m": 1},
       "after": {"n": "x", "m": 2}, "before_sensitive": {}, "after_sensitive": {}}}],
  "resource_changes": [
    {"address": "x_thing.b", "mode": "managed", "type": "x_thing", "name": "b",
     "change": {"actions": ["no-op"], "before": {"k": "change-secret-1"}, "after": {"k": "change-secret-1"},
       "before_sensitive": {"k": true}, "after_sensitive": {"k": true}}}],
  "output_changes": {"o": {"actions": ["no-op"], "before": "out-secret-1", "after": "out-secret-1", "before_sensitive": true, "after_sensitive": true}},
  "prior_state": {"format_version": "1.0", "values": {
    "outputs": {"o": {"sensitive": true, "value": "out-secret-1"}},
    "root_module": {"resources": [{"address": "x_thing.c", "values": {"pw": "state-secret-1", "id": "c"}, "sensitive_values": {"pw": true}}],
      "child_modules": [{"address": "module.m", "resources": [{"address": "module.m.x_thing.d", "values": {"pw": "child-secret-1"}, "sensitive_values": {"pw": true}}]}]}}},
  "configuration": {"provider_config": {"x": {"name": "x"}}, "root_module": {
    "resources": [{"address": "x_thing.a", "expressions": {"n": {"constant_value": [1, {"deep": [[["z"]]]}]}}}],
    "variables": {"token": {"sensitive": true}, "plain": {}}}},
  "relevant_attributes": [{"resource": "x_thing.a", "attribute": ["n"]}],
  "checks": [], "timestamp": "2026-12-02T00:00:00Z", "errored": false
}`
	rs := readPlan(t, src)
	noLeak(t, rs, "var-secret-1", "state-secret-1", "child-secret-1", "out-secret-1", "change-secret-1")
	got := changes(rs)
	if !strings.Contains(got, "var-plain-1") || strings.Count(got, drift.Masked) != 5 {
		t.Errorf("want five secrets masked, the plain variable shown: %s", got)
	}
}

// TestReadPlanErrors: what is not a plan is an error that says what, never a
// partial report.
func TestReadPlanErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{``, "EOF"},
		{`[]`, "want {"},
		{`{"resource_drift": []}`, "no format_version"},
		{`{"format_version": "2.0"}`, "unsupported plan format version 2.0"},
		{`{"format_version": "x.y"}`, `format_version "x.y"`},
		{`{"format_version": "1.2", "resource_drift": [{"address": 1}]}`, "cannot unmarshal number"},
		{`{"format_version": "1.2", "resource_drift": {}}`, "want ["},
		{`{"format_version": "1.2", "configuration": {"root_module": {"resources": [{"a": trux}]}}}`, "invalid character"},
		{`{"format_version": "1.2", "prior_state": {"values": {"root_module": {"resources": [`, "EOF"},
	} {
		rs, err := ReadPlan(strings.NewReader(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "plan JSON: ") || rs != nil {
			t.Errorf("%s: got %v, %v; want an error with %q", tc.src, rs, err, tc.want)
		}
	}
}

// TestReadPlanAsTerraformJSON: on the real big plan, the streaming reader
// finds the drift that decoding the whole terraform-json Plan gives.
func TestReadPlanAsTerraformJSON(t *testing.T) {
	raw := bigPlan(t)
	var p tfjson.Plan
	p.UseJSONNumber(true)
	if err := p.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	whole := driftOf(p.ResourceDrift, new(drift.Secrets))
	rs, err := ReadPlan(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 100 || fmt.Sprintf("%#v", rs) != fmt.Sprintf("%#v", whole) {
		t.Errorf("streamed %d resources, whole plan %d", len(rs), len(whole))
	}
}

func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"format_version": "1.2", "resource_drift": [{"address": "a.b", "mode": "managed", "type": "a", "change": {"actions": ["update"], "before": {"x": 1}, "after": {"x": 2}}}]}`))
	f.Add([]byte(`{"format_version": "1.2", "prior_state": {"values": {"root_module": {"resources": [{"values": {"a": "s"}, "sensitive_values": {"a": true}}], "child_modules": [{}]}}}}`))
	f.Add([]byte(`{"format_version": "1.2", "configuration": {"root_module": {"variables": {"v": {"sensitive": true}}}}, "variables": {"v": {"value": "s"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ReadPlan(bytes.NewReader(b))
		if err != nil && rs != nil {
			t.Fatalf("error %v with a report", err)
		}
	})
}

// BenchmarkReadPlan reads the real 1,000-resource plan as the checker does,
// from the stream tofu show writes.
func BenchmarkReadPlan(b *testing.B) {
	raw := bigPlan(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadPlan(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeWholePlan is what the checker did before ReadPlan, through
// terraform-exec: tofu show's output read into a buffer, decoded by a
// json.Decoder into a terraform-json Plan (which decodes it again), then the
// drift taken from the Plan.
func BenchmarkDecodeWholePlan(b *testing.B) {
	raw := bigPlan(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		buf.ReadFrom(bytes.NewReader(raw))
		var p tfjson.Plan
		p.UseJSONNumber(true)
		dec := json.NewDecoder(&buf)
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			b.Fatal(err)
		}
		_ = driftOf(p.ResourceDrift, new(drift.Secrets))
	}
}
