package registry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/platdev/plat/registry/store"
)

// Module lifecycle (issue 11): a publish token of the namespace deprecates or
// yanks a version, and undoes either. A deprecated version is served and
// listed as before, marked in the details API; a yanked one leaves the
// protocol's versions list (so tofu never picks it for a constraint) and is
// no longer the latest, but its download and archive endpoints still answer
// a client that names it exactly, and the details API shows it, marked.

// moduleMarks returns ref's marks, none when the store keeps none.
func (s *Service) moduleMarks(ctx context.Context, ref store.Ref) (map[string]store.Marks, error) {
	lc, ok := s.st.(store.Lifecycle)
	if !ok {
		return nil, nil
	}
	return lc.ModuleMarks(ctx, ref)
}

// MarkModule sets or clears a lifecycle mark of module version k.
func (s *Service) MarkModule(ctx context.Context, tok *store.Token, k store.Key, kind store.MarkKind, req MarkRequest) error {
	lc, err := s.lifecycle()
	if err != nil {
		return err
	}
	if err := s.canPublish(tok, k.Namespace); err != nil {
		return err
	}
	if err := CheckKey(k); err != nil {
		return err
	}
	err = lc.MarkModule(ctx, k, kind, req.mark())
	s.invalidate(k.Ref)
	if err != nil {
		return fmt.Errorf("module %s: %w", k, err)
	}
	s.log.Info("module "+string(kind), "module", k.Ref.String(), "version", k.Version, "undo", req.Undo)
	return nil
}

func (h *Handler) moduleMark(kind store.MarkKind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, tok *store.Token, k store.Key) error {
		req, err := readMark(r.Body)
		if err != nil {
			return err
		}
		if err := h.svc.MarkModule(r.Context(), tok, k, kind, req); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"module": k.Ref.String(), "version": k.Version, string(kind): !req.Undo})
		return nil
	}
}
