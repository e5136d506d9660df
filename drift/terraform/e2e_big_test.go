package terraform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/drift/terraform"
)

// TestBigStackDrift checks one stack of 200 resources with real tofu: 100
// hashicorp/local files and 100 platjson documents, one in ten of each changed
// behind tofu's back. The report lists every file deleted outside and every
// changed attribute of every changed document (the secret masked), nothing
// else, in the JSON and text reports alike.
func TestBigStackDrift(t *testing.T) {
	rt := setupTofu(t)
	const n = 200
	var tf strings.Builder
	tf.WriteString("terraform {\n  required_providers {\n    platjson = { source = \"plat/platjson\" }\n  }\n}\n")
	for i := 0; i < n; i += 2 {
		fmt.Fprintf(&tf, "resource \"local_file\" \"f%03d\" {\n  filename = \"${path.module}/f%03d.txt\"\n  content  = \"file %d\"\n}\n", i, i, i)
		fmt.Fprintf(&tf, `resource "platjson_document" "d%03d" {
  path    = "${path.module}/d%03d.json"
  content = { team = "payments", env = "prod" }
  rules   = [{ name = "http", port = 80 }, { name = "https", port = 443 }]
  secret  = "declared-secret-%03d"
}
`, i+1, i+1, i+1)
	}
	dir := rt.stack(t, t.TempDir(), "big", tf.String())

	var want []drift.ResourceDrift
	for i := 0; i < n; i += 20 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%03d.txt", i)), "edited")
		want = append(want, drift.ResourceDrift{Address: fmt.Sprintf("local_file.f%03d", i), Type: "local_file", Action: drift.ActionDeleted})
		d := i + 1
		editDoc(t, filepath.Join(dir, fmt.Sprintf("d%03d.json", d)), func(m map[string]any) {
			c := m["content"].(map[string]any)
			c["team"] = fmt.Sprintf("team-%d", d)
			c["owner"] = "bob"
			delete(c, "env")
			m["rules"].([]any)[1].(map[string]any)["port"] = 8000 + d
			m["secret"] = fmt.Sprintf("live-secret-%03d", d)
		})
		want = append(want, drift.ResourceDrift{Address: fmt.Sprintf("platjson_document.d%03d", d), Type: "platjson_document", Action: drift.ActionChanged,
			Changes: []drift.AttributeChange{
				{Path: "content.env", Declared: "prod", Live: nil},
				{Path: "content.owner", Declared: nil, Live: "bob"},
				{Path: "content.team", Declared: "payments", Live: fmt.Sprintf("team-%d", d)},
				{Path: "rules[1].port", Declared: json.Number("443"), Live: json.Number(fmt.Sprint(8000 + d))},
				{Path: "secret", Declared: drift.Masked, Live: drift.Masked, Sensitive: true},
			}})
	}
	want = drift.Normalize(want)
	hash := stateHash(t, dir)

	r := run(rt.checker(t, terraform.Options{}), dir)
	s := r.Stacks[0]
	if s.Status != drift.StatusDrifted {
		t.Fatalf("status %s (%s), want drifted", s.Status, s.Error)
	}
	if got, w := fmt.Sprint(s.Resources), fmt.Sprint(want); got != w {
		t.Errorf("drift of %d resources, want %d:\n got %s\nwant %s", len(s.Resources), len(want), got, w)
	}
	var text bytes.Buffer
	if err := drift.WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	// In the text report, each resource's line is followed by one line per
	// changed attribute.
	for _, rd := range want {
		var block strings.Builder
		for _, c := range rd.Changes {
			d, l := drift.FormatValue(c.Declared), drift.FormatValue(c.Live)
			if c.Sensitive {
				d, l = drift.Masked, drift.Masked
			}
			fmt.Fprintf(&block, "      %s: %s -> %s\n", c.Path, d, l)
		}
		i := strings.Index(text.String(), " "+rd.Address+": ")
		if i < 0 {
			t.Errorf("text report lacks %s", rd.Address)
			continue
		}
		_, rest, _ := strings.Cut(text.String()[i:], "\n")
		if !strings.HasPrefix(rest, block.String()) {
			t.Errorf("text report for %s: want\n%s", rd.Address, block.String())
		}
	}
	if out := allFormats(t, r); strings.Contains(out, "-secret-") {
		t.Errorf("a secret leaked into a report")
	}
	if stateHash(t, dir) != hash {
		t.Error("state file changed by a drift check")
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform.tfstate.lock.info")); err == nil {
		t.Error("lock info left behind")
	}
}
