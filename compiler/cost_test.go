package compiler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
)

func costOf(t *testing.T, c *compiler.Compiler, srcs ...compiler.Source) ([]*compiler.StackCost, compiler.Diagnostics) {
	t.Helper()
	res, diags := c.Compile(context.Background(), compiler.Input{Stacks: srcs, Now: now, Validate: true, Cost: true})
	return res.Costs, diags
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// TestCostExamples checks the estimates of the example stacks against figures
// worked out by hand from the shipped price tables (730 hours a month).
func TestCostExamples(t *testing.T) {
	costs, diags := costOf(t, newCompiler(t), examples(t)...)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]map[string]float64{
		// analytics, eu-central-1, staging.
		"analytics": {
			// db.r7g.xlarge Multi-AZ 1.10/h: 730 x 1.10 = 803.00; 500 GB x 2 x 0.137 = 137.00.
			"warehouse": 940.00,
			// 50 GB x 0.0245 = 1.225; 100 x 0.0054 = 0.54; 1000 x 0.00043 = 0.43; KMS key 1.00.
			"raw-events": 3.195,
			// 10 million standard requests x 0.40.
			"ingest": 4.00,
			// 2 nodes x 730 x 0.037 x 0.8 (valkey) = 43.216.
			"results": 43.216,
			// 940 + 3.195 + 4 + 43.216 = 990.411.
			"": 990.41,
		},
		// checkout, eu-west-1, prod (highAvailability and 2 cache nodes by default).
		"checkout": {
			// db.m7g.large Multi-AZ 0.392/h: 730 x 0.392 = 286.16; 100 GB x 2 x 0.127 = 25.40.
			"orders-db": 311.56,
			// 50 x 0.023 = 1.15; 100 x 0.005 = 0.50; 1000 x 0.0004 = 0.40; KMS 1.00.
			"assets": 3.05,
			// 10 million FIFO requests x 0.50.
			"order-events": 5.00,
			// 2 x 730 x 0.036 x 0.8 = 42.048.
			"sessions": 42.048,
			// 311.56 + 3.05 + 5 + 42.048 = 361.658.
			"": 361.66,
		},
	}
	if len(costs) != 2 {
		t.Fatalf("got %d estimates, want 2", len(costs))
	}
	for _, sc := range costs {
		w := want[sc.Stack]
		if !near(sc.Monthly, w[""]) {
			t.Errorf("%s: monthly %.2f, want %.2f", sc.Stack, sc.Monthly, w[""])
		}
		for _, r := range sc.Resources {
			if !r.Priced || math.Abs(r.Monthly-w[r.Resource]) > 0.0051 {
				t.Errorf("%s/%s: monthly %.2f (priced %v), want %.3f", sc.Stack, r.Resource, r.Monthly, r.Priced, w[r.Resource])
			}
		}
	}
	r := compiler.NewCostReport(examples(t), costs)
	if !near(r.Monthly, 1352.07) || len(r.Teams) != 2 || r.Teams[0].Name != "data" || !near(r.Environments[0].Monthly, 361.66) {
		t.Errorf("totals: %+v %+v %+v", r.Monthly, r.Teams, r.Environments)
	}
}

// TestCostConfirmedPrices estimates a us-east-1 stack of every template, the
// region whose figures the price tables confirm against a cited source,
// worked out by hand (730 hours a month).
func TestCostConfirmedPrices(t *testing.T) {
	src := `apiVersion: plat/v1
kind: Stack
metadata: {name: east, team: data, environment: staging, costCenter: CC-2001}
spec:
  target: terraform
  region: us-east-1
  resources:
    - {name: db, template: postgres, with: {highAvailability: true}}
    - {name: files, template: bucket}
    - {name: jobs, template: queue}
    - {name: cache, template: cache, with: {engine: redis}}
`
	costs, diags := costOf(t, newCompiler(t), compiler.Source{Name: "east.yaml", Data: []byte(src)})
	if diags.HasErrors() || len(costs) != 1 {
		t.Fatalf("%s", diags)
	}
	want := map[string]float64{
		// db.t4g.small Multi-AZ 0.065/h: 730 x 0.065 = 47.45; 20 GB x 2 x 0.115 = 4.60.
		"db": 52.05,
		// 50 GB x 0.023 = 1.15; 100 thousand PUT x 0.005 = 0.50; 1000 thousand GET x 0.0004 = 0.40; KMS key 1.00.
		"files": 3.05,
		// 10 million standard requests x 0.40.
		"jobs": 4.00,
		// 1 cache.t4g.small Redis OSS node (staging): 730 x 0.032 = 23.36.
		"cache": 23.36,
	}
	for _, r := range costs[0].Resources {
		if !near(r.Monthly, want[r.Resource]) {
			t.Errorf("%s: monthly %.2f, want %.2f", r.Resource, r.Monthly, want[r.Resource])
		}
	}
	// 52.05 + 3.05 + 4.00 + 23.36.
	if !near(costs[0].Monthly, 82.46) {
		t.Errorf("stack: monthly %.2f, want 82.46", costs[0].Monthly)
	}
}

// TestCostSameForBothTargets: the estimate comes from the typed stack, so the
// terraform and crossplane targets give the same figures.
func TestCostSameForBothTargets(t *testing.T) {
	c := newCompiler(t)
	for _, src := range examples(t) {
		tf := strings.Replace(string(src.Data), "target: crossplane", "target: terraform", 1)
		xp := strings.Replace(string(src.Data), "target: terraform", "target: crossplane", 1)
		a, da := costOf(t, c, compiler.Source{Name: "tf.yaml", Data: []byte(tf)})
		b, db := costOf(t, c, compiler.Source{Name: "xp.yaml", Data: []byte(xp)})
		if da.HasErrors() || db.HasErrors() || len(a) != 1 || len(b) != 1 {
			t.Fatalf("%s: %v %v", src.Name, da, db)
		}
		if a[0].Target == b[0].Target {
			t.Fatalf("%s: both %s", src.Name, a[0].Target)
		}
		ja, _ := json.Marshal(a[0].Resources)
		jb, _ := json.Marshal(b[0].Resources)
		if a[0].Monthly != b[0].Monthly || !bytes.Equal(ja, jb) {
			t.Errorf("%s: terraform %v, crossplane %v\n%s\n%s", src.Name, a[0].Monthly, b[0].Monthly, ja, jb)
		}
	}
}

const devStack = `apiVersion: plat/v1
kind: Stack
metadata:
  name: big
  team: data
  environment: dev
  costCenter: CC-2001
spec:
  target: terraform
  region: us-east-1
  resources:
    - name: db
      template: postgres
      with: {size: large, highAvailability: true, storageGB: 100}
`

// TestBudget: the shipped catalog's dev budget is $500; a Multi-AZ
// db.r7g.xlarge in us-east-1 costs 730 x 0.956 = 697.88 plus 200 GB x
// 0.115 = 23.00, 720.88 in all.
func TestBudget(t *testing.T) {
	c := newCompiler(t)
	waiver := func(exp string) string {
		return devStack + "  waivers:\n    - guardrail: org.budget\n      reason: load test this month\n      owner: ann@example.com\n      expires: " + exp + "\n"
	}
	for _, tc := range []struct {
		name, src string
		ids       []string // diagnostics, in order
	}{
		{"over", devStack, []string{"org.budget", "postgres.dev-cost"}},
		{"waived", waiver("2026-06-30"), []string{"postgres.dev-cost"}},
		{"expired", waiver("2026-05-31"), []string{"org.budget", "postgres.dev-cost", "waiver.expired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			costs, diags := costOf(t, c, compiler.Source{Name: "big.yaml", Data: []byte(tc.src)})
			var ids []string
			for _, d := range diags {
				ids = append(ids, d.ID)
				if d.ID == "org.budget" {
					if d.Line != 6 || d.Col != 16 || d.Severity != compiler.SeverityError ||
						d.Message != "stack big is estimated at $720.88 a month, over the environment budget of $500.00 for environment dev" {
						t.Errorf("budget diagnostic: %s", d)
					}
				}
			}
			if strings.Join(ids, " ") != strings.Join(tc.ids, " ") {
				t.Errorf("diagnostics %v, want %v\n%s", ids, tc.ids, diags)
			}
			if len(costs) != 1 || !near(costs[0].Monthly, 720.88) {
				t.Fatalf("costs: %+v", costs)
			}
		})
	}
	// Within budget: no diagnostic.
	small := strings.Replace(devStack, "{size: large, highAvailability: true, storageGB: 100}", "{size: small}", 1)
	if _, diags := costOf(t, c, compiler.Source{Name: "small.yaml", Data: []byte(small)}); len(diags) != 0 {
		t.Errorf("small: %s", diags)
	}
}

// TestCostUsage: a stack overrides a usage assumption per resource; unknown
// usage fields are errors with a position.
func TestCostUsage(t *testing.T) {
	c := newCompiler(t)
	base := strings.Replace(devStack, "      template: postgres\n      with: {size: large, highAvailability: true, storageGB: 100}\n", "      template: queue\n", 1)
	costs, diags := costOf(t, c, compiler.Source{Name: "q.yaml", Data: []byte(base + "      usage: {requestsPerMonth: 250000000}\n")})
	if len(diags) != 0 || len(costs) != 1 {
		t.Fatalf("%s", diags)
	}
	// 250 million standard requests x 0.40 = 100.00.
	r := costs[0].Resources[0]
	if !near(r.Monthly, 100) || r.Assumptions[0].Source != "stack" {
		t.Errorf("%+v", r)
	}
	_, diags = costOf(t, c, compiler.Source{Name: "q.yaml", Data: []byte(base + "      usage: {requestPerMonth: 5}\n")})
	if len(diags) != 1 || diags[0].ID != compiler.IDUnknownField || diags[0].Line != 14 || !strings.Contains(diags[0].Message, `did you mean "requestsPerMonth"`) {
		t.Errorf("%s", diags)
	}
	pg := strings.Replace(devStack, "storageGB: 100}\n", "storageGB: 100}\n      usage: {requestsPerMonth: 5}\n", 1)
	_, diags = costOf(t, c, compiler.Source{Name: "p.yaml", Data: []byte(pg)})
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "template postgres takes no usage assumptions") {
		t.Errorf("%s", diags)
	}
}

// patched returns the shipped catalog with one template's source edited.
func patched(t *testing.T, tmpl, old, new string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(catalog.FS, p)
		if p == tmpl+"/template.cue" {
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s has no %q", p, old)
			}
			b = []byte(strings.Replace(string(b), old, new, 1))
		}
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBadPriceTables: a missing price entry is a catalog error naming the
// template and the parameter, never a silent zero; a typo in a cost item is a
// contract error with the template's file:line:col.
func TestBadPriceTables(t *testing.T) {
	c, err := compiler.New(patched(t, "postgres", `"db.r7g.xlarge": {singleAZ: 0.478, multiAZ: 0.956}`, `"db.r7g.xlarg": {singleAZ: 0.478, multiAZ: 0.956}`))
	if err != nil {
		t.Fatal(err)
	}
	costs, diags := costOf(t, c, compiler.Source{Name: "big.yaml", Data: []byte(devStack)})
	if len(costs) != 0 || len(diags) != 1 || diags[0].ID != compiler.IDCostCatalog ||
		!strings.Contains(diags[0].Message, `template postgres has no price for "db.r7g.xlarge instance and its Multi-AZ standby" with size large, region us-east-1`) {
		t.Errorf("missing entry: %s", diags)
	}
	// Without --cost, and without a budget (prod), the guardrail reading the
	// estimate still surfaces the missing price, not a guardrail failure.
	prod := strings.Replace(devStack, "environment: dev", "environment: prod", 1)
	_, diags = c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "p.yaml", Data: []byte(prod)}}, Now: now, Validate: true})
	if len(diags) != 1 || diags[0].ID != compiler.IDCostCatalog {
		t.Errorf("missing entry without --cost: %s", diags)
	}

	c, err = compiler.New(patched(t, "queue", "		assumed:   true\n", "		asumed:    true\n"))
	if err != nil {
		t.Fatal(err)
	}
	q := strings.Replace(devStack, "      template: postgres\n      with: {size: large, highAvailability: true, storageGB: 100}\n", "      template: queue\n", 1)
	_, diags = costOf(t, c, compiler.Source{Name: "q.yaml", Data: []byte(q)})
	if len(diags) != 1 || diags[0].ID != compiler.IDCatalog || !strings.Contains(diags[0].Message, "queue/template.cue:") || !strings.Contains(diags[0].Message, "asumed") {
		t.Errorf("typo: %s", diags)
	}
}

// TestCostFormats pins the JSON schema's members and the Markdown shape.
func TestCostFormats(t *testing.T) {
	costs, _ := costOf(t, newCompiler(t), examples(t)...)
	r := compiler.NewCostReport(examples(t), costs)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schemaVersion"] != "plat.cost/v1" || doc["currency"] != "USD" || doc["hoursPerMonth"] != 730.0 {
		t.Errorf("header: %v", doc)
	}
	st := doc["stacks"].([]any)[1].(map[string]any)
	res := st["resources"].([]any)[0].(map[string]any)
	item := res["items"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"what": "db.m7g.large instance and its Multi-AZ standby", "unit": "hour", "quantity": 1.0, "unitPrice": 0.392, "monthly": 286.16, "assumed": false} {
		if item[k] != want {
			t.Errorf("item %s = %v, want %v", k, item[k], want)
		}
	}
	for _, k := range []string{"stack", "file", "team", "environment", "target", "region", "monthly", "resources"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stack lacks %s", k)
		}
	}
	buf.Reset()
	r.WriteMarkdown(&buf)
	md := buf.String()
	for _, want := range []string{
		"## Monthly cost estimate\n\n| stack | team | environment | target | region | monthly |\n| --- | --- | --- | --- | --- | ---: |\n| analytics | data | staging | crossplane | eu-central-1 | $990.41 |\n| checkout | payments | prod | terraform | eu-west-1 | $361.66 |\n| **total** | | | | | **$1,352.07** |\n",
		"| orders-db | postgres | db.m7g.large instance and its Multi-AZ standby: 1 x 730 h x $0.392/h; 100 GB gp3 storage and its Multi-AZ standby: 200 GB-month x $0.127 | $311.56 |",
		"- order-events assumes requestsPerMonth = 10000000 (template default)",
		"| team payments | 1 | $361.66 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	d := compiler.NewCostDelta("main", costs[:1], costs)
	buf.Reset()
	d.WriteMarkdown(&buf)
	if !strings.Contains(buf.String(), "| checkout | added | $0.00 | $361.66 | +$361.66 |\n| **total** | | **$990.41** | **$1,352.07** | **+$361.66** |") {
		t.Errorf("delta:\n%s", buf.String())
	}
}
