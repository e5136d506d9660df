package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/tfdoc"
)

// Publish checks and stores a new module version read from body (a
// gzip-compressed tar). Nothing is stored unless every check passes.
func (s *Service) Publish(ctx context.Context, tok *store.Token, k store.Key, body io.Reader) (store.Version, error) {
	if err := s.canPublish(tok, k.Namespace); err != nil {
		return store.Version{}, err
	}
	if err := CheckKey(k); err != nil {
		return store.Version{}, err
	}
	if e, err := s.module(ctx, k.Ref); err != nil {
		return store.Version{}, err
	} else if v, ok := e.same(k.Version); ok {
		return store.Version{}, existsErr(k, v.Version)
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return store.Version{}, ctx.Err()
	}
	max := s.cfg.Limits.MaxCompressed
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return store.Version{}, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > max {
		return store.Version{}, fmt.Errorf("%w: archive larger than %d bytes", ErrTooLarge, max)
	}
	contents, err := archive.Validate(data, s.cfg.Limits)
	if err != nil {
		return store.Version{}, err
	}
	data = contents.Archive // with normalised file modes
	doc, diags := tfdoc.Parse(contents.Root)
	if diags.HasErrors() {
		// tofu would refuse the module at init; refuse it now, saying where.
		return store.Version{}, fmt.Errorf("%w: %s", archive.ErrInvalid, diags.Errs()[0])
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return store.Version{}, err
	}
	readme := findReadme(contents.Root)
	sum := sha256.Sum256(data)
	nv := store.NewVersion{
		Key:         k,
		Description: describe(readme),
		Readme:      readme,
		Doc:         docJSON,
		SHA256:      hex.EncodeToString(sum[:]),
		PublishedAt: time.Now().UTC(),
	}
	err = s.st.Publish(ctx, nv, data)
	s.invalidate(k.Ref)
	if errors.Is(err, store.ErrExists) {
		return store.Version{}, existsErr(k, k.Version)
	}
	if err != nil {
		return store.Version{}, err
	}
	s.log.Info("published", "module", k.Ref.String(), "version", k.Version, "bytes", len(data), "files", len(contents.Files))
	return store.Version{Key: k, Size: int64(len(data)), SHA256: nv.SHA256, PublishedAt: nv.PublishedAt, Description: nv.Description}, nil
}

// existsErr says that k cannot be published because version (equal to
// k.Version up to build metadata) is stored.
func existsErr(k store.Key, version string) error {
	if version != k.Version {
		return fmt.Errorf("%s version %s %w as %s (versions that differ only in build metadata are one version); versions are immutable, publish a new version", k.Ref, k.Version, ErrExists, version)
	}
	return fmt.Errorf("%s version %s %w; versions are immutable, publish a new version", k.Ref, k.Version, ErrExists)
}
