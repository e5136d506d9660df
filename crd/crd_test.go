package crd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/platdev/plat/internal/testtools"
)

func providerCRDs(t testing.TB) string {
	return filepath.Join(testtools.SharedDir(t), "crds", "provider-aws")
}

func loadProvider(t testing.TB) *Set {
	t.Helper()
	s, err := LoadDir(providerCRDs(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testManifests reads every manifest under testdata/dir, keyed by file name.
func testManifests(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in testdata/%s: %v", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.ToSlash(p)] = b
	}
	return files
}

// wants returns the "# want: FIELD" lines of a test manifest.
func wants(b []byte) []string {
	var out []string
	for line := range strings.Lines(string(b)) {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "# want: "); ok {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func fields(errs []Error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestLoadDirIndexesWithoutParsing(t *testing.T) {
	s := loadProvider(t)
	if n := parsedFiles(s); n != 0 {
		t.Fatalf("LoadDir parsed %d files, want none", n)
	}
	if len(s.unsure) != 0 {
		t.Errorf("header scan failed on %v", s.unsure)
	}
	for _, gk := range []schema.GroupKind{
		{Group: "s3.aws.m.upbound.io", Kind: "Bucket"},
		{Group: "s3.aws.upbound.io", Kind: "Bucket"},
		{Group: "rds.aws.m.upbound.io", Kind: "Instance"},
		{Group: "aws.m.upbound.io", Kind: "ClusterProviderConfig"},
	} {
		if _, ok := s.index[gk]; !ok {
			t.Errorf("index misses %v", gk)
		}
	}
	errs := s.Validate(map[string]any{
		"apiVersion": "s3.aws.m.upbound.io/v1beta1",
		"kind":       "Bucket",
		"metadata":   map[string]any{"name": "b"},
		"spec":       map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
	})
	if len(errs) != 0 {
		t.Fatalf("valid bucket: %v", errs)
	}
	if n := parsedFiles(s); n != 1 {
		t.Fatalf("validating one Bucket parsed %d files, want 1", n)
	}
}

func TestValidManifests(t *testing.T) {
	s := loadProvider(t)
	files := testManifests(t, "valid")
	if errs := s.ValidateFiles(files); len(errs) != 0 {
		for _, e := range errs {
			t.Error(e)
		}
	}
}

func TestInvalidManifests(t *testing.T) {
	s := loadProvider(t)
	for name, b := range testManifests(t, "invalid") {
		t.Run(filepath.Base(name), func(t *testing.T) {
			errs := s.ValidateFiles(map[string][]byte{name: b})
			want := wants(b)
			if got := fields(errs); !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q\n%v", got, want, errs)
			}
			for _, e := range errs {
				if e.File != name || e.Line == 0 || e.Kind == "" || e.Name == "" {
					t.Errorf("error lacks its file, position or resource: %+v", e)
				}
			}
		})
	}
}

func TestErrorNamesFileResourceAndField(t *testing.T) {
	s := loadProvider(t)
	name := "testdata/invalid/misspelt-required.yaml"
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range s.ValidateFiles(map[string][]byte{name: b}) {
		got = append(got, e.Error())
	}
	want := []string{
		// The unknown key itself, and the mapping that lacks the required one.
		name + ":9:5: Bucket/misspelt-required: spec.forProvider.regoin: field not declared in schema",
		name + ":8:3: Bucket/misspelt-required: spec.forProvider.region: Required value",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDefaultsApplyBeforeValidation(t *testing.T) {
	s := loadProvider(t)
	// providerConfigRef and managementPolicies are defaulted; the CEL rule reads
	// managementPolicies, so without defaulting it would fail to evaluate.
	obj := map[string]any{
		"apiVersion": "s3.aws.m.upbound.io/v1beta1",
		"kind":       "BucketServerSideEncryptionConfiguration",
		"metadata":   map[string]any{"name": "b"},
		"spec": map[string]any{"forProvider": map[string]any{
			"region": "eu-west-1",
			"rule":   []any{map[string]any{"bucketKeyEnabled": true}},
		}},
	}
	if errs := s.Validate(obj); len(errs) != 0 {
		t.Fatal(errs)
	}
	if _, ok := obj["spec"].(map[string]any)["managementPolicies"]; ok {
		t.Fatal("Validate modified its argument")
	}
}

func TestUnknownKinds(t *testing.T) {
	s := loadProvider(t)
	cases := []struct {
		apiVersion, kind string
		field            string // "" = accepted
	}{
		{"v1", "Secret", ""},
		{"apps/v1", "Deployment", ""},
		{"s3.aws.m.upbound.io/v1beta1", "Bukket", "kind"},
		{"s3.aws.m.upbound.io/v1", "Bucket", "apiVersion"},
		{"example.org/v1", "Thing", "apiVersion"},
	}
	for _, c := range cases {
		errs := s.Validate(map[string]any{"apiVersion": c.apiVersion, "kind": c.kind, "metadata": map[string]any{"name": "x"}})
		switch {
		case c.field == "" && len(errs) != 0:
			t.Errorf("%s %s: %v", c.apiVersion, c.kind, errs)
		case c.field != "" && (len(errs) != 1 || errs[0].Field != c.field || errs[0].Type != TypeNoSchema):
			t.Errorf("%s %s: got %v, want one %s error on %s", c.apiVersion, c.kind, errs, TypeNoSchema, c.field)
		}
	}
}

func TestLoadMultiDocumentFile(t *testing.T) {
	dir := t.TempDir()
	var all []byte
	for _, f := range []string{"sqs.aws.m.upbound.io_queues.yaml", "kms.aws.m.upbound.io_keys.yaml"} {
		b, err := os.ReadFile(filepath.Join(providerCRDs(t), f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, "---\n"...), b...)
	}
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), all, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Validate(map[string]any{
		"apiVersion": "kms.aws.m.upbound.io/v1beta1", "kind": "Key",
		"metadata": map[string]any{"name": "k"},
		"spec":     map[string]any{"forProvider": map[string]any{"regoin": "x"}},
	})
	if got := fields(errs); !slices.Equal(got, []string{"spec.forProvider.region", "spec.forProvider.regoin"}) {
		t.Fatalf("got %v", errs)
	}
}

// parsedFiles counts the files of s that have been parsed.
func parsedFiles(s *Set) int {
	n := 0
	for _, f := range s.files {
		if f.kinds != nil || f.err != nil {
			n++
		}
	}
	return n
}

func TestConcurrentValidate(t *testing.T) {
	s := loadProvider(t)
	files := testManifests(t, "valid")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs := s.ValidateFiles(files); len(errs) != 0 {
				t.Error(errs)
			}
		}()
	}
	wg.Wait()
}

// TestCache checks that a second Set reads decoded CRDs from the cache and
// validates exactly as without it, and that a corrupt cache entry is ignored.
func TestCache(t *testing.T) {
	cache := t.TempDir()
	files := testManifests(t, "invalid")
	nocache := loadProvider(t).ValidateFiles(files)
	for i := range 2 {
		s, err := LoadDir(providerCRDs(t), WithCache(cache))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ValidateFiles(files); !slices.EqualFunc(got, nocache, func(a, b Error) bool { return a == b }) {
			t.Fatalf("run %d with cache: %v\nwithout: %v", i, got, nocache)
		}
	}
	entries, err := os.ReadDir(cache)
	if err != nil || len(entries) == 0 {
		t.Fatalf("nothing cached: %v", err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(cache, e.Name()), []byte("{broken"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := LoadDir(providerCRDs(t), WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ValidateFiles(files); len(got) != len(nocache) {
		t.Fatalf("with a corrupt cache: %v", got)
	}
}
