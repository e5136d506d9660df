package hclbound

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func TestCheckHCLRefuses(t *testing.T) {
	cases := map[string]string{
		"tuples":       "variable \"x\" { default = " + nested("[", "]", 100000) + " }\n",
		"objects":      "x = " + nested("{a=", "}", 300) + "\n",
		"parens":       "x = " + nested("(", ")", 300) + "\n",
		"calls":        "x = " + nested("f(", ")", 300) + "\n",
		"interp":       "x = " + nested("\"${", "}\"", 200) + "\n",
		"directives":   "x = \"" + strings.Repeat("%{if a}", 300) + strings.Repeat("%{endif}", 300) + "\"\n",
		"heredocs":     "x = " + strings.Repeat("<<EOT\n${", 200) + "1" + strings.Repeat("}\nEOT\n", 200) + "\n",
		"unary":        "x = " + strings.Repeat("!", 300) + "true\n",
		"negation":     "x = " + strings.Repeat("-", 300) + "1\n",
		"conditionals": "x = " + strings.Repeat("a ? b : ", 300) + "c\n",
		"binary chain": "x = 1" + strings.Repeat(" + 1", 300) + "\n",
		"index chain":  "x = f()" + strings.Repeat("[a]", 300) + "\n",
		"splat chain":  "x = f()" + strings.Repeat("[*]", 300) + "\n",
		"multiline":    "x = (\n" + strings.Repeat("a ?\n b :\n", 300) + "c)\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckHCL("main.tf", []byte(src), 0)
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("err = %v, want ErrTooDeep", err)
			}
			if !strings.HasPrefix(err.Error(), "main.tf:") || !strings.Contains(err.Error(), "more than 256 levels") {
				t.Errorf("message %q does not name the file and the limit", err)
			}
		})
	}
}

func TestCheckHCLPosition(t *testing.T) {
	src := "a = 1\nvariable \"x\" {\n  default = " + nested("[", "]", 300) + "\n}\n"
	err := CheckHCL("vars.tf", []byte(src), 0)
	// The 256th "[" opens depth 256 plus the block; the one after passes the limit.
	if err == nil || !strings.HasPrefix(err.Error(), "vars.tf:3:") {
		t.Fatalf("err = %v, want vars.tf:3:...", err)
	}
}

func TestCheckHCLAccepts(t *testing.T) {
	cases := map[string]string{
		"brackets in strings":  "x = \"" + strings.Repeat("[{(", 1000) + "\"\n",
		"brackets in comments": "# " + strings.Repeat("[", 1000) + "\n// " + strings.Repeat("{", 1000) + "\n/* " + strings.Repeat("(", 1000) + " */\nx = 1\n",
		"brackets in heredoc":  "x = <<EOT\n" + strings.Repeat("[", 1000) + "\nEOT\n",
		"escaped sequences":    "x = \"" + strings.Repeat("$${", 1000) + strings.Repeat("%%{", 1000) + "\"\n",
		"many attributes":      strings.Repeat("x = a ? b : !c + 1 - d[0]\n", 1000),
		"trailing comments":    strings.Repeat("x = a ? b : c # note\ny = 1 + 2 // note\n", 1000),
		"long list":            "x = [" + strings.Repeat("[1 + 2, a ? b : c],\n", 1000) + "]\n",
		"many blocks":          strings.Repeat("resource \"a\" \"b\" {\n  x = { y = [1, 2] }\n}\n", 1000),
		"closed directives":    "x = \"" + strings.Repeat("%{if a}x%{endif}", 1000) + "\"\n",
		"at the limit":         "x = " + nested("[", "]", 256) + "\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if err := CheckHCL("main.tf", []byte(src), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	refused := map[string]string{
		"arrays":            `{"variable": {"x": {"default": ` + nested("[", "]", 100000) + `}}}`,
		"objects":           nested(`{"a":`, "}", 300),
		"template":          `{"output": {"x": {"value": "` + nested("${", "}", 300) + `"}}}`,
		"template brackets": `{"output": {"x": {"value": "${` + nested("[", "]", 300) + `}"}}}`,
		"escaped template":  `{"output": {"x": {"value": "` + nested(`\u0024\u007b`, "}", 300) + `"}}}`,
		"template in key":   `{"locals": {"` + nested("${", "}", 300) + `": 1}}`,
		// tofu parses some strings as expressions (a variable's type, depends_on,
		// provider): list(list(...)) 100,000 deep killed tofu init.
		"expression in string": `{"variable": {"x": {"type": "` + nested("list(", ")", 100000) + `"}}}`,
		"unary in string":      `{"variable": {"x": {"type": "` + strings.Repeat("!", 300) + `true"}}}`,
	}
	for name, src := range refused {
		t.Run(name, func(t *testing.T) {
			err := CheckJSON("main.tf.json", []byte(src), 0)
			if !errors.Is(err, ErrTooDeep) || !strings.HasPrefix(err.Error(), "main.tf.json:1:") {
				t.Fatalf("err = %v, want main.tf.json:1:... ErrTooDeep", err)
			}
		})
	}
	accepted := map[string]string{
		// Brackets in strings count as an expression's would (tofu parses some
		// strings as expressions), so only up to the limit are accepted.
		"brackets in strings": `{"a": "` + strings.Repeat("[{", 100) + `"}`,
		"escaped quotes":      `{"a": "\"[[[[` + strings.Repeat("[", 200) + `"}`,
		"type expression":     `{"variable": {"x": {"type": "object({a = list(string), b = map(number)})"}}}`,
		"at the limit":        nested("[", "]", 256),
		"wide":                "[" + strings.Repeat(`{"a": [1, {"b": "${x}"}]},`, 1000) + "1]",
	}
	for name, src := range accepted {
		t.Run(name, func(t *testing.T) {
			if err := CheckJSON("x.tf.json", []byte(src), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// astDepth is the depth of the syntax tree hclsyntax builds (only for sources
// already bounded: Walk recurses).
func astDepth(n hclsyntax.Node) int {
	var w depthWalker
	hclsyntax.Walk(n, &w)
	return w.max
}

type depthWalker struct{ cur, max int }

func (w *depthWalker) Enter(hclsyntax.Node) hcl.Diagnostics {
	w.cur++
	w.max = max(w.max, w.cur)
	return nil
}

func (w *depthWalker) Exit(hclsyntax.Node) hcl.Diagnostics {
	w.cur--
	return nil
}

// FuzzCheckHCL checks the guard never under-counts: whatever it accepts parses
// into a syntax tree no deeper than a small multiple of the limit.
func FuzzCheckHCL(f *testing.F) {
	for _, s := range []string{
		"variable \"x\" { default = [[[[1]]]] }\n",
		"x = \"${a ? \"${b}\" : <<EOT\n%{for x in y}${x}%{endfor}\nEOT\n}\"\n",
		"x = !!-1 + f(a[0][1], {b = c.d[*].e}) ? 1 : 2\n",
		"x = [for k, v in m : k => v if v]\n# [[[[\n/* {{{ */\n",
		"x = \"" + strings.Repeat("%{if a}", 10) + "\"\n",
	} {
		f.Add([]byte(s))
	}
	const limit = 32
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := CheckHCL("f.tf", src, limit); err != nil {
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		file, _ := hclsyntax.ParseConfig(src, "f.tf", hcl.InitialPos)
		if file == nil {
			return
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			return
		}
		// Each counted level costs the parser a few nodes (a template wraps its
		// parts, a body its blocks and attributes).
		if d := astDepth(body); d > 4*limit+8 {
			t.Fatalf("accepted a source %d nodes deep (limit %d): %q", d, limit, src)
		}
	})
}

// FuzzCheckJSON checks the JSON guard the same way against hcl's JSON parser.
func FuzzCheckJSON(f *testing.F) {
	f.Add([]byte(`{"variable": {"x": {"default": [[[1]]]}}}`))
	f.Add([]byte(`{"output": {"x": {"value": "${[[1]]}"}}, "a": "\"[[[["}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := CheckJSON("f.tf.json", src, 32); err != nil {
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if file, _ := hcljson.Parse(src, "f.tf.json"); file != nil {
			_, _ = file.Body.JustAttributes()
		}
	})
}
