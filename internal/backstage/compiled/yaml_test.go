package compiled_test

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
