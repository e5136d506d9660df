package crd

// The decode cache (WithCache; plat uses the user's cache directory): a file's
// slimmed CRDs as JSON, keyed by the digest of the file's content.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/internal/yamlpos"
)

// cacheVersion changes whenever what decode keeps changes (see slim).
const cacheVersion = "v1"

// decode returns the (slimmed) CRDs of a file's content, from the cache when it
// has them.
func (s *Set) decode(b []byte) ([]apiextensionsv1.CustomResourceDefinition, error) {
	var cached string
	if s.cache != "" {
		sum := sha256.Sum256(b)
		cached = filepath.Join(s.cache, cacheVersion+"-"+hex.EncodeToString(sum[:])+".json")
		if j, err := os.ReadFile(cached); err == nil {
			var crds []apiextensionsv1.CustomResourceDefinition
			if json.Unmarshal(j, &crds) == nil {
				return crds, nil
			}
		}
	}
	var crds []apiextensionsv1.CustomResourceDefinition
	for _, doc := range yamlpos.SplitDocuments(b) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(slim(doc), &crd); err != nil {
			return nil, err
		}
		crds = append(crds, crd)
	}
	if cached != "" {
		writeCache(cached, crds)
	}
	return crds, nil
}

// writeCache stores crds at path atomically; failures only cost speed later.
func writeCache(path string, crds []apiextensionsv1.CustomResourceDefinition) {
	j, err := json.Marshal(crds)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(j)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}
