package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/tfdoc"
)

// ModuleDetails is the body of the details and latest-version endpoints, in the
// shape of the public registry's API.
type ModuleDetails struct {
	ModuleSummary
	Root       ModuleRoot `json:"root"`
	Submodules []any      `json:"submodules"`
	Providers  []string   `json:"providers"`
	Versions   []string   `json:"versions"`
	SHA256     string     `json:"sha256"`
	Size       int64      `json:"size"`
	// Deprecated and Yanked are the version's lifecycle marks (lifecycle.go).
	Deprecated *MarkJSON `json:"deprecated,omitempty"`
	Yanked     *MarkJSON `json:"yanked,omitempty"`
}

// ModuleRoot documents a module's root: README, inputs and outputs.
type ModuleRoot struct {
	Path         string         `json:"path"`
	Readme       string         `json:"readme"`
	Empty        bool           `json:"empty"`
	Inputs       []tfdoc.Input  `json:"inputs"`
	Outputs      []tfdoc.Output `json:"outputs"`
	Dependencies []any          `json:"dependencies"`
	Resources    []any          `json:"resources"`
}

// Details returns the documentation of version k (the latest when k.Version is "").
func (s *Service) Details(ctx context.Context, tok *store.Token, k store.Key) (ModuleDetails, error) {
	if err := s.CanRead(tok, k.Namespace); err != nil {
		return ModuleDetails{}, err
	}
	v, err := s.lookup(ctx, k)
	if err != nil {
		return ModuleDetails{}, err
	}
	d, err := s.st.Details(ctx, v.Key)
	if err != nil {
		return ModuleDetails{}, err
	}
	e, err := s.module(ctx, k.Ref)
	if err != nil {
		return ModuleDetails{}, err
	}
	var doc tfdoc.Module
	if len(d.Doc) > 0 {
		if err := json.NewDecoder(bytes.NewReader(d.Doc)).Decode(&doc); err != nil {
			return ModuleDetails{}, fmt.Errorf("decode documentation of %s: %w", v.Key, err)
		}
	}
	if doc.Inputs == nil {
		doc.Inputs = []tfdoc.Input{}
	}
	if doc.Outputs == nil {
		doc.Outputs = []tfdoc.Output{}
	}
	out := ModuleDetails{
		ModuleSummary: summary(d.Version),
		Root: ModuleRoot{
			Readme: d.Readme, Inputs: doc.Inputs, Outputs: doc.Outputs,
			Dependencies: []any{}, Resources: []any{},
		},
		Submodules: []any{},
		Providers:  []string{v.System},
		SHA256:     d.SHA256,
		Size:       d.Size,
	}
	for _, x := range e.versions {
		out.Versions = append(out.Versions, x.Version)
	}
	m := e.marks[v.Version]
	out.Deprecated, out.Yanked = markJSON(m.Deprecated), markJSON(m.Yanked)
	return out, nil
}
