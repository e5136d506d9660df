package stackedit

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/yamlpos"
)

// FuzzSet feeds arbitrary bytes to Set: it must return either a clear
// refusal and no bytes, or valid YAML that is the input with exactly that one
// value changed, every other line untouched.
func FuzzSet(f *testing.F) {
	shop, err := os.ReadFile("../../examples/shop/platform.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shop, "orders-db", "storageGB", uint8(0))
	f.Add(shop, "assets", "versioning", uint8(1))
	f.Add([]byte(head+"    - {name: a, template: x, with: {size: small}}\n"), "a", "size", uint8(2))
	f.Add([]byte(head+"    - name: a\n      with:\n"), "a", "size", uint8(3))
	f.Add([]byte(head+"    - name: a\n      with: &x {a: 1}\n    - name: b\n      with: *x\n"), "b", "a", uint8(0))
	f.Add([]byte(head+"    - name: a\n      with:\n        <<: {size: big}\n"), "a", "size", uint8(2))
	values := []any{int64(200), true, "x y", "16", nil, 1.5, "a\n'b\"", map[string]any{"k": "v"}}
	f.Fuzz(func(t *testing.T, src []byte, res, param string, pick uint8) {
		value := values[int(pick)%len(values)]
		out, err := Set(src, "platform.yaml", res, param, value)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "platform.yaml:") {
				t.Fatalf("error without a position: %v", err)
			}
			if out != nil {
				t.Fatal("bytes returned with an error")
			}
			return
		}
		docs, err := yamlpos.Decode("out", out)
		if err != nil || len(docs) != 1 {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		in, _ := yamlpos.Decode("in", src)
		want := in[0].Go().(map[string]any)
		items := want["spec"].(map[string]any)["resources"].([]any)
		found := false
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok || m["name"] != res {
				continue
			}
			w, _ := m["with"].(map[string]any)
			if w == nil {
				w = map[string]any{}
				m["with"] = w
			}
			w[param] = value
			found = true
		}
		if !found {
			t.Fatalf("edited a resource %q that is not there:\n%s", res, out)
		}
		if !equal(docs[0].Go(), want) {
			t.Fatalf("output is not the input with %s.%s = %v:\n%s", res, param, value, out)
		}
		if isCollection(value) {
			return
		}
		// A scalar edit changes at most one line of the input.
		a, b := strings.Split(string(src), "\n"), strings.Split(string(out), "\n")
		p := 0
		for p < len(a) && p < len(b) && a[p] == b[p] {
			p++
		}
		s := 0
		for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
			s++
		}
		if len(a)-p-s > 1 {
			t.Fatalf("the edit touched %d lines of the input:\n%s", len(a)-p-s, out)
		}
	})
}
