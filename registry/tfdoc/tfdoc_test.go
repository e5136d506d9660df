package tfdoc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	files := map[string][]byte{
		"variables.tf": []byte(`variable "tags" {
  type = map(string)
  description = <<-EOT
    Tags for everything.
  EOT
  default = { team = "payments" }
}

variable "size" {
  type = object({
    cpu    = number
    memory = optional(number, 2)
  })
  validation {
    condition     = var.size.cpu > 0
    error_message = "cpu must be positive."
  }
}

variable "password" {
  sensitive = true
  default   = null
}

variable "computed" {
  default = "${1 + 1}x"
}

variable "region" {
  default = local.region
}
`),
		"outputs.tf": []byte(`output "id" {
  value       = "x"
  description = "The ID."
}

output "secret" {
  value     = var.password
  sensitive = true
}
`),
		"broken.tf": []byte(`variable "half" {`),
		"notes.md":  []byte(`variable "ignored" {}`),
	}
	m, diags := Parse(files)
	if !diags.HasErrors() {
		t.Error("broken.tf gave no diagnostics")
	}
	got, _ := json.Marshal(m)
	want := `{"inputs":[` +
		`{"name":"computed","type":"","description":"","default":"\"2x\"","required":false},` +
		`{"name":"half","type":"","description":"","required":true},` +
		`{"name":"password","type":"","description":"","default":"null","required":false,"sensitive":true},` +
		`{"name":"region","type":"","description":"","default":"local.region","required":false},` +
		`{"name":"size","type":"object({\n    cpu    = number\n    memory = optional(number, 2)\n  })","description":"","required":true},` +
		`{"name":"tags","type":"map(string)","description":"Tags for everything.\n","default":"{\"team\":\"payments\"}","required":false}],` +
		`"outputs":[{"name":"id","description":"The ID."},{"name":"secret","description":"","sensitive":true}]}`
	if string(got) != want {
		t.Errorf("Parse =\n%s\nwant\n%s", got, want)
	}
}

func TestParseRefusesDeepNesting(t *testing.T) {
	deep := "variable \"x\" {\n  default = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n}\n"
	deepJSON := `{"variable": {"x": {"default": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}}`
	for name, src := range map[string]string{"main.tf": deep, "main.tf.json": deepJSON} {
		_, diags := Parse(map[string][]byte{name: []byte(src)})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), name+":") || !strings.Contains(diags.Error(), "more than 256 levels") {
			t.Errorf("%s: diags = %v", name, diags)
		}
	}
}

func TestParseJSON(t *testing.T) {
	m, diags := Parse(map[string][]byte{"main.tf.json": []byte(`{
  "variable": {"size": {"type": "number", "default": 3, "description": "How many."}},
  "output": {"id": {"value": "${var.size}", "sensitive": true}}
}`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got, _ := json.Marshal(m)
	want := `{"inputs":[{"name":"size","type":"number","description":"How many.","default":"3","required":false}],"outputs":[{"name":"id","description":"","sensitive":true}]}`
	if string(got) != want {
		t.Errorf("Parse =\n%s\nwant\n%s", got, want)
	}
	_, diags = Parse(map[string][]byte{"main.tf.json": []byte(`{"variable": {"x": {`)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "main.tf.json:1") {
		t.Errorf("broken JSON: diags = %v", diags)
	}
}

func TestParseShortensValues(t *testing.T) {
	long := strings.Repeat("a", 512<<10) // a root file plat parses is at most 1 MiB
	_, diags := Parse(map[string][]byte{"main.tf": []byte("variable \"x\" { default = \"%{" + long + "}\" }\n")})
	if !diags.HasErrors() {
		t.Fatal("no diagnostics")
	}
	for _, d := range diags {
		if n := len(d.Error()); n > 700 {
			t.Errorf("diagnostic of %d bytes: %.200s", n, d.Error())
		}
		if !strings.Contains(d.Error(), "aaa...") {
			t.Errorf("no ellipsis: %.200s", d.Error())
		}
	}
}
