package tfdoc

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary HCL (uploaded modules are untrusted) to Parse: it must
// never panic, and every input it reports must have a name.
func FuzzParse(f *testing.F) {
	f.Add([]byte("variable \"x\" {\n  type = string\n  default = \"a\"\n}\noutput \"y\" { value = 1 }\n"))
	f.Add([]byte("variable \"m\" {\n  default = { a = [1, 2], b = null }\n  description = <<EOT\nhi\nEOT\n}\n"))
	f.Add([]byte("variable {\n}\noutput \"o\" \"extra\" {}\n"))
	f.Add([]byte("variable \"x\" { default = " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + " }\n"))
	f.Add([]byte("x = \"" + strings.Repeat("%{if a}", 300) + "\"\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, _ := Parse(map[string][]byte{"main.tf": src})
		for _, in := range m.Inputs {
			if in.Name == "" {
				t.Fatalf("input without a name from %q", src)
			}
		}
	})
}
