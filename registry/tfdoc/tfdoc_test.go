package tfdoc

import (
	"encoding/json"
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
