package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// InventorySchema is the schema an inventory push must declare.
const InventorySchema = "plat.inventory/v1"

// Limits of an inventory push.
const (
	MaxInventoryBytes = 16 << 20
	MaxRepositoryLen  = 512
	maxStackField     = 1024
	maxStackWaivers   = 1000
)

// ErrNoUsage means the store keeps no usage (it does not implement
// store.UsageStore).
var ErrNoUsage = errors.New("this registry's store keeps no inventory")

// inventoryDoc is the part of a plat.inventory/v1 document the registry
// reads; other members are the client's and are ignored.
type inventoryDoc struct {
	Schema     string           `json:"schema"`
	Repository string           `json:"repository"`
	Stacks     []inventoryStack `json:"stacks"`
}

// inventoryStack is one stack of a push. What the Backstage entities and the
// portal's stack pages need beyond the uses (team, environment, cost centre,
// target, region, each resource's name and template, the waivers) is kept
// whole in a store.StackStore.
type inventoryStack = InventoryStack

// InventoryStack is one pushed stack as the registry reads and keeps it (a
// part of the client's plat.inventory/v1 stack; docs/inventory.md).
type InventoryStack struct {
	File        string          `json:"file"`
	Name        string          `json:"name"`
	Team        string          `json:"team,omitempty"`
	Environment string          `json:"environment,omitempty"`
	CostCenter  string          `json:"costCenter,omitempty"`
	Target      string          `json:"target,omitempty"`
	Region      string          `json:"region,omitempty"`
	Catalog     StackCatalog    `json:"catalog"`
	Resources   []StackResource `json:"resources"`
	// Waivers are the stack's waivers (absent in pushes of plat before the
	// portal showed them, and in stacks kept from those).
	Waivers []StackWaiver `json:"waivers,omitempty"`
	// Errors are the stack's compile errors; the registry keeps only whether
	// there were any.
	Errors   []string `json:"errors,omitempty"`
	Compiles bool     `json:"compiles"`
}

// StackCatalog is the catalog a pushed stack compiles with: kind embedded,
// dir or pin (then Namespace, Name and Version name the catalog version).
type StackCatalog struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
}

// StackResource is one resource of a pushed stack; Module is nil when the
// stack's catalog has no such template.
type StackResource struct {
	Name     string       `json:"name,omitempty"`
	Template string       `json:"template,omitempty"`
	Module   *StackModule `json:"module,omitempty"`
}

// StackModule is the module version a resource's template pins.
type StackModule struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	System    string `json:"system"`
	Version   string `json:"version"`
}

// StackWaiver is one waiver of a pushed stack, as its stack file says it:
// Expires is YYYY-MM-DD when the file is valid (the registry does not check).
type StackWaiver struct {
	Guardrail string `json:"guardrail"`
	Resource  string `json:"resource,omitempty"`
	Owner     string `json:"owner,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Expires   string `json:"expires,omitempty"`
}

// PushResult answers an inventory push.
type PushResult struct {
	Owner      string `json:"owner"`
	Repository string `json:"repository"`
	Stacks     int    `json:"stacks"`
	Uses       int    `json:"uses"`
}

func (s *Service) usage() (store.UsageStore, error) {
	us, ok := s.st.(store.UsageStore)
	if !ok {
		return nil, ErrNoUsage
	}
	return us, nil
}

// PushInventory replaces what tok's namespace pushed for the document's
// repository with the module and catalog versions its stacks use (each
// version counted once per stack). It needs a publish token.
func (s *Service) PushInventory(ctx context.Context, tok *store.Token, body io.Reader) (PushResult, error) {
	if tok == nil {
		return PushResult{}, fmt.Errorf("%w: pushing an inventory requires a token (Authorization: Bearer ...)", ErrUnauthorized)
	}
	if err := s.canPublish(tok, tok.Namespace); err != nil {
		return PushResult{}, err
	}
	us, err := s.usage()
	if err != nil {
		return PushResult{}, err
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxInventoryBytes+1))
	if err != nil {
		return PushResult{}, fmt.Errorf("%w: read inventory: %v", ErrInvalid, err)
	}
	if len(data) > MaxInventoryBytes {
		return PushResult{}, fmt.Errorf("%w: inventory exceeds %d bytes", ErrTooLarge, MaxInventoryBytes)
	}
	uses, doc, err := parseInventory(data)
	if err != nil {
		return PushResult{}, err
	}
	now := time.Now()
	if err := us.ReplaceUses(ctx, tok.Namespace, doc.Repository, uses, now); err != nil {
		return PushResult{}, fmt.Errorf("store inventory: %w", err)
	}
	if ss, ok := s.st.(store.StackStore); ok {
		stacks, err := keptStacks(doc)
		if err != nil {
			return PushResult{}, err
		}
		// After the uses: a failure here answers 500 and the client's retry
		// replaces both.
		if err := ss.ReplaceStacks(ctx, tok.Namespace, doc.Repository, stacks, now); err != nil {
			return PushResult{}, fmt.Errorf("store inventory stacks: %w", err)
		}
	}
	s.log.Info("inventory pushed", "owner", tok.Namespace, "repository", doc.Repository, "stacks", len(doc.Stacks), "uses", len(uses))
	return PushResult{Owner: tok.Namespace, Repository: doc.Repository, Stacks: len(doc.Stacks), Uses: len(uses)}, nil
}

// parseInventory checks a pushed document and lists its uses.
func parseInventory(data []byte) ([]store.Use, *inventoryDoc, error) {
	var doc inventoryDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: inventory is not JSON: %v", ErrInvalid, err)
	}
	if doc.Schema != InventorySchema {
		return nil, nil, fmt.Errorf("%w: inventory schema %q: want %q", ErrInvalid, doc.Schema, InventorySchema)
	}
	if err := checkText("repository", doc.Repository, MaxRepositoryLen); err != nil {
		return nil, nil, err
	}
	var uses []store.Use
	for i, st := range doc.Stacks {
		where := fmt.Sprintf("stacks[%d]", i)
		if err := checkText(where+".file", st.File, maxStackField); err != nil {
			return nil, nil, err
		}
		for _, f := range []struct{ what, v string }{{"name", st.Name}, {"team", st.Team}, {"environment", st.Environment},
			{"costCenter", st.CostCenter}, {"target", st.Target}, {"region", st.Region}} {
			if f.v != "" {
				if err := checkText(where+"."+f.what, f.v, maxStackField); err != nil {
					return nil, nil, err
				}
			}
		}
		for j, r := range st.Resources {
			for _, f := range []struct{ what, v string }{{"name", r.Name}, {"template", r.Template}} {
				if f.v != "" {
					if err := checkText(fmt.Sprintf("%s.resources[%d].%s", where, j, f.what), f.v, maxStackField); err != nil {
						return nil, nil, err
					}
				}
			}
		}
		// Waivers never refuse a push (pushes before they were read were
		// accepted): their text is cleaned and bounded instead.
		if len(st.Waivers) > maxStackWaivers {
			doc.Stacks[i].Waivers = st.Waivers[:maxStackWaivers]
		}
		for j := range doc.Stacks[i].Waivers {
			w := &doc.Stacks[i].Waivers[j]
			for _, f := range []*string{&w.Guardrail, &w.Resource, &w.Owner, &w.Reason, &w.Expires} {
				*f = cleanText(*f, maxStackField)
			}
		}
		seen := map[store.Use]bool{}
		add := func(u store.Use) {
			if !seen[u] {
				seen[u] = true
				uses = append(uses, u)
			}
		}
		if c := st.Catalog; c.Kind == "pin" {
			if !module.ValidName(c.Namespace) || !module.ValidName(c.Name) || !module.ValidVersion(c.Version) {
				return nil, nil, fmt.Errorf("%w: %s.catalog: %q/%q %q is not a catalog version", ErrInvalid, where, c.Namespace, c.Name, c.Version)
			}
			add(store.Use{Kind: store.UseCatalog, Namespace: c.Namespace, Name: c.Name, Version: c.Version, Stack: st.Name, File: st.File})
		}
		for j, r := range st.Resources {
			m := r.Module
			if m == nil {
				continue
			}
			k := module.Key{Ref: module.Ref{Namespace: m.Namespace, Name: m.Name, System: m.System}, Version: m.Version}
			if err := module.CheckKey(k); err != nil {
				return nil, nil, fmt.Errorf("%s.resources[%d].module: %w", where, j, err)
			}
			add(store.Use{Kind: store.UseModule, Namespace: m.Namespace, Name: m.Name, System: m.System, Version: m.Version, Stack: st.Name, File: st.File})
		}
	}
	return uses, &doc, nil
}

// keptStacks is each pushed stack as a store.StackStore keeps it.
func keptStacks(doc *inventoryDoc) ([]store.InventoryStack, error) {
	var out []store.InventoryStack
	for _, st := range doc.Stacks {
		st.Compiles = len(st.Errors) == 0
		st.Errors = nil
		b, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		out = append(out, store.InventoryStack{File: st.File, Name: st.Name, Doc: b})
	}
	return out, nil
}

// cleanText makes s one line of printable text of at most max bytes: control
// characters and invalid UTF-8 become spaces, runs of space one, and an
// overlong text is cut at a character boundary and ends in "…".
func cleanText(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + "…"
}

// checkText refuses empty, overlong and control-character text: it is
// stored, listed and printed.
func checkText(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: inventory %s is empty", ErrInvalid, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: inventory %s is longer than %d bytes", ErrInvalid, what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%w: inventory %s holds a control character or invalid UTF-8", ErrInvalid, what)
		}
	}
	return nil
}

// Usage is the answer of the usage API: which stacks use each version of one
// module or catalog, newest version first.
type Usage struct {
	Kind      string         `json:"kind"`
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	System    string         `json:"system,omitempty"`
	Versions  []VersionUsage `json:"versions"`
}

// VersionUsage is one version's stacks. Downloads counts the version's
// downloads (modules; absent when the version is not published here).
type VersionUsage struct {
	Version   string       `json:"version"`
	Count     int          `json:"count"`
	Downloads *int64       `json:"downloads,omitempty"`
	Stacks    []StackUsage `json:"stacks"`
}

// StackUsage is one stack using a version.
type StackUsage struct {
	Owner      string    `json:"owner"`
	Repository string    `json:"repository"`
	File       string    `json:"file"`
	Stack      string    `json:"stack"`
	PushedAt   time.Time `json:"pushedAt"`
}

// Usage answers which stacks use each version of the module ns/name/system
// (kind store.UseModule) or catalog ns/name (store.UseCatalog, system "").
// Published module versions nobody uses are listed with no stacks.
func (s *Service) Usage(ctx context.Context, tok *store.Token, kind, ns, name, system string) (Usage, error) {
	if err := s.CanRead(tok, ns); err != nil {
		return Usage{}, err
	}
	if !module.ValidName(ns) || !module.ValidName(name) || (kind == store.UseModule && !module.ValidName(system)) {
		return Usage{}, fmt.Errorf("%w: not a module or catalog name", ErrNotFound)
	}
	us, err := s.usage()
	if err != nil {
		return Usage{}, err
	}
	uses, err := us.Uses(ctx, kind, ns, name, system)
	if err != nil {
		return Usage{}, err
	}
	byVersion := map[string]*VersionUsage{}
	get := func(v string) *VersionUsage {
		if vu, ok := byVersion[v]; ok {
			return vu
		}
		vu := &VersionUsage{Version: v, Stacks: []StackUsage{}}
		byVersion[v] = vu
		return vu
	}
	if kind == store.UseModule {
		vs, err := s.st.Versions(ctx, store.Ref{Namespace: ns, Name: name, System: system})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Usage{}, err
		}
		for _, v := range vs {
			d := v.Downloads
			get(v.Version).Downloads = &d
		}
	}
	for _, u := range uses {
		vu := get(u.Version)
		vu.Stacks = append(vu.Stacks, StackUsage{Owner: u.Owner, Repository: u.Repository, File: u.File, Stack: u.Stack, PushedAt: u.PushedAt})
		vu.Count++
	}
	out := Usage{Kind: kind, Namespace: ns, Name: name, System: system, Versions: []VersionUsage{}}
	for _, vu := range byVersion {
		out.Versions = append(out.Versions, *vu)
	}
	sort.Slice(out.Versions, func(i, j int) bool { return module.Compare(out.Versions[i].Version, out.Versions[j].Version) > 0 })
	return out, nil
}

// UseCounts counts the stacks using every version, for the metrics.
func (s *Service) UseCounts(ctx context.Context) ([]store.UseCount, error) {
	us, err := s.usage()
	if err != nil {
		return nil, err
	}
	return us.UseCounts(ctx)
}
