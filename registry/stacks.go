package registry

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/platdev/plat/registry/store"
)

// PushedStack is a stack of the latest inventory push of its repository, as
// the registry keeps it (store.StackStore), with where it came from.
type PushedStack struct {
	InventoryStack
	Owner      string
	Repository string
	PushedAt   time.Time
	// Hidden counts the resources left out because the viewer may not read
	// their module's namespace.
	Hidden int
}

// VisibleStacks lists the kept stacks a viewer sees, ordered by name, owner,
// repository and file. readable says whether the viewer may read a
// namespace; nil means every namespace (then every kept stack is listed).
// Otherwise a stack is listed when it uses something the viewer may read:
// its pinned catalog's namespace or a namespace of one of its resources'
// modules (the rule of the usage API, which answers per namespace). Of a
// listed stack, the resources whose module the viewer may not read are left
// out (counted in Hidden), and so are the waivers naming those resources.
// It is ErrNoUsage when the store keeps no stacks.
func (s *Service) VisibleStacks(ctx context.Context, readable func(ns string) bool) ([]PushedStack, error) {
	ss, ok := s.st.(store.StackStore)
	if !ok {
		return nil, ErrNoUsage
	}
	kept, err := ss.InventoryStacks(ctx)
	if err != nil {
		return nil, err
	}
	memo := map[string]bool{}
	can := func(ns string) bool {
		if readable == nil {
			return true
		}
		ok, seen := memo[ns]
		if !seen {
			ok = readable(ns)
			memo[ns] = ok
		}
		return ok
	}
	var out []PushedStack
	for _, k := range kept {
		var d InventoryStack
		if err := json.Unmarshal(k.Doc, &d); err != nil {
			s.log.Warn("kept inventory stack is not JSON", "owner", k.Owner, "repository", k.Repository, "file", k.File, "err", err)
			continue
		}
		ps := PushedStack{InventoryStack: d, Owner: k.Owner, Repository: k.Repository, PushedAt: k.PushedAt}
		uses := d.Catalog.Kind == "pin" && can(d.Catalog.Namespace)
		hidden := map[string]bool{}
		ps.Resources = ps.Resources[:0:0]
		for _, r := range d.Resources {
			if r.Module != nil {
				if !can(r.Module.Namespace) {
					ps.Hidden++
					hidden[r.Name] = true
					continue
				}
				uses = true
			}
			ps.Resources = append(ps.Resources, r)
		}
		if !uses && readable != nil {
			continue
		}
		ps.Waivers = ps.Waivers[:0:0]
		for _, w := range d.Waivers {
			if w.Resource == "" || !hidden[w.Resource] {
				ps.Waivers = append(ps.Waivers, w)
			}
		}
		out = append(out, ps)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		if a.Repository != b.Repository {
			return a.Repository < b.Repository
		}
		return a.File < b.File
	})
	return out, nil
}
