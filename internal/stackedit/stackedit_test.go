package stackedit

import (
	"errors"
	"strings"
	"testing"
)

const head = `apiVersion: plat/v1
kind: Stack
metadata: {name: s, team: t, environment: dev, costCenter: CC-1000}
spec:
  target: terraform
  region: eu-west-1
  resources:
`

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name, in, res, param string
		value                any
		want                 string
	}{
		{"plain int keeps comment", `    - name: db   # the orders database
      template: postgres
      with:
        size: medium
        storageGB: 100   # GiB
        version: "16"
`, "db", "storageGB", float64(200), `    - name: db   # the orders database
      template: postgres
      with:
        size: medium
        storageGB: 200   # GiB
        version: "16"
`},
		{"quoted string keeps its quotes", `    - name: db
      template: postgres
      with:
        version: "16"
`, "db", "version", "17", `    - name: db
      template: postgres
      with:
        version: "17"
`},
		{"single quotes", `    - name: db
      template: postgres
      with: {size: 'small'}
`, "db", "size", "it's", `    - name: db
      template: postgres
      with: {size: 'it''s'}
`},
		{"plain string that would read as a number is quoted", `    - name: db
      template: postgres
      with:
        size: medium
`, "db", "size", "16", `    - name: db
      template: postgres
      with:
        size: "16"
`},
		{"flow mapping", `    - name: db
      template: postgres
      with: {size: medium, storageGB: 100} # flow
`, "db", "storageGB", 250, `    - name: db
      template: postgres
      with: {size: medium, storageGB: 250} # flow
`},
		{"added to a flow mapping", `    - name: db
      template: postgres
      with: {size: medium}
`, "db", "storageGB", int64(250), `    - name: db
      template: postgres
      with: {size: medium, storageGB: 250}
`},
		{"added to an empty flow mapping", `    - name: db
      template: postgres
      with: {}
`, "db", "public", true, `    - name: db
      template: postgres
      with: {public: true}
`},
		{"added to a block mapping, after its last line", `    - name: db
      template: postgres
      with:
        size: medium # m
    # next resource
    - name: b
      template: bucket
`, "db", "deletionProtection", false, `    - name: db
      template: postgres
      with:
        size: medium # m
        deletionProtection: false
    # next resource
    - name: b
      template: bucket
`},
		{"with: created", `    - name: a
      template: bucket
    - name: b
      template: bucket
`, "a", "versioning", true, `    - name: a
      template: bucket
      with:
        versioning: true
    - name: b
      template: bucket
`},
		{"with: created in a flow resource", `    - {name: a, template: bucket}
`, "a", "versioning", true, `    - {name: a, template: bucket, with: {versioning: true}}
`},
		{"with: holding nothing", `    - name: a
      template: bucket
      with:   # none yet
`, "a", "versioning", true, `    - name: a
      template: bucket
      with:   # none yet
        versioning: true
`},
		{"with: null", `    - name: a
      template: bucket
      with: null
`, "a", "versioning", true, `    - name: a
      template: bucket
      with: {versioning: true}
`},
		{"parameter holding nothing", `    - name: a
      template: bucket
      with:
        expireAfterDays:
`, "a", "expireAfterDays", 30, `    - name: a
      template: bucket
      with:
        expireAfterDays: 30
`},
		{"object value in flow style", `    - name: a
      template: x
      with:
        labels: {a: "1"}
`, "a", "labels", map[string]any{"a": "2", "b c": "x y"}, `    - name: a
      template: x
      with:
        labels: {a: "2", b c: x y}
`},
		{"object value in block style", `    - name: a
      template: x
      with:
        labels:
          a: "1"   # old
        size: small
`, "a", "labels", map[string]any{"a": "2", "b": []any{"x", int64(1)}}, `    - name: a
      template: x
      with:
        labels:
          a: "2"
          b:
            - x
            - 1   # old
        size: small
`},
		{"new object parameter", `    - name: a
      template: x
      with:
        size: small
`, "a", "labels", map[string]any{"team": "web"}, `    - name: a
      template: x
      with:
        size: small
        labels:
          team: web
`},
		{"float stays a float", `    - name: a
      template: x
      with:
        ratio: 1.5
`, "a", "ratio", 2.0, `    - name: a
      template: x
      with:
        ratio: 2.0
`},
		{"string needing escapes", `    - name: a
      template: x
      with:
        note: hi
`, "a", "note", "a: b\n\"c\"", `    - name: a
      template: x
      with:
        note: "a: b\n\"c\""
`},
		{"no final newline", `    - name: a
      template: x
      with:
        size: small`, "a", "nodes", 2, `    - name: a
      template: x
      with:
        size: small
        nodes: 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Set([]byte(head+tc.in), "platform.yaml", tc.res, tc.param, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != head+tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, head+tc.want)
			}
		})
	}
}

func TestSetCRLF(t *testing.T) {
	in := strings.ReplaceAll(head+"    - name: a\n      template: x\n      with:\n        size: small\n", "\n", "\r\n")
	got, err := Set([]byte(in), "platform.yaml", "a", "nodes", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(in, "\r\n") + "\r\n        nodes: 2\r\n"
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestSetRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file, in, res, param string
		value                      any
		want                       string
		sentinel                   error
	}{
		{"cue", "platform.cue", "spec: {}", "a", "size", "x", "platform.cue:1:1: editing CUE stack files is not supported; set a.size to x by hand", ErrUnsupported},
		{"no resource", "platform.yaml", "    - name: a\n      template: x\n", "b", "size", "x", `platform.yaml:8:5: the stack has no resource "b"`, ErrNoResource},
		{"block scalar", "platform.yaml", "    - name: a\n      template: x\n      with:\n        note: |\n          hi\n", "a", "note", "x", "platform.yaml:11:15: a block scalar (| or >); edit it by hand", ErrUnsupported},
		{"alias", "platform.yaml", "    - name: a\n      template: x\n      with: &w {size: small}\n    - name: b\n      template: x\n      with: *w\n", "b", "size", "large", "platform.yaml:13:13: an alias (*w) on the path to the value; edit the anchor by hand", ErrUnsupported},
		{"anchor", "platform.yaml", "    - name: a\n      template: x\n      with: &w {size: small}\n", "a", "size", "large", "platform.yaml:10:13: an anchor (&w) on the path to the value; edit it by hand", ErrUnsupported},
		{"repeated key", "platform.yaml", "    - name: a\n      template: x\n      with:\n        size: small\n        size: large\n", "a", "size", "x", `platform.yaml:12:9: key "size" repeats the one on line 11`, ErrUnsupported},
		{"spans lines", "platform.yaml", "    - name: a\n      template: x\n      with:\n        note: one\n          two\n", "a", "note", "x", "platform.yaml:11:15: a value that spans lines; edit it by hand", ErrUnsupported},
		{"twice", "platform.yaml", "    - name: a\n      template: x\n    - name: a\n      template: x\n", "a", "size", "x", `platform.yaml:10:13: resource "a" is named twice`, ErrUnsupported},
		{"bad value", "platform.yaml", "    - name: a\n      template: x\n", "a", "size", struct{}{}, "platform.yaml:1:1: a.size: unsupported value of type struct {}", ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.in
			if tc.file != "platform.cue" {
				src = head + tc.in
			}
			got, err := Set([]byte(src), tc.file, tc.res, tc.param, tc.value)
			if err == nil {
				t.Fatalf("no error; got\n%s", got)
			}
			if got != nil {
				t.Errorf("bytes returned with the error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n%s\nwant\n%s", err, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not wrap %v", tc.sentinel)
			}
		})
	}
}

func TestSetInvalidYAML(t *testing.T) {
	_, err := Set([]byte("spec: [\n"), "platform.yaml", "a", "b", 1)
	var e *Error
	if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "platform.yaml:") || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("got %v", err)
	}
}
