package registry

// The provider network mirror: providers published with `plat provider
// publish` are served by the protocol tofu's network_mirror installation
// method speaks (index.json and VERSION.json under /v1/providers/). Each
// provider address (HOSTNAME/NAMESPACE/TYPE, the provider's origin) belongs
// to the registry namespace that published it first: that namespace's
// publish tokens add versions, and with RequireReadToken its tokens read it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/provider"
	"github.com/platdev/plat/registry/store"
)

// ProviderUpload is one platform's archive of a provider version upload.
type ProviderUpload struct {
	Platform string
	Data     []byte
	// Declared are the hashes the publisher's mirror lists for the archive;
	// every zh: and h1: among them must match what the registry computes.
	Declared []string
}

// errNoProviders means the store does not keep providers.
var errNoProviders = errors.New("this registry's store does not keep providers")

func (s *Service) providerStore() (store.ProviderStore, error) {
	ps, ok := s.st.(store.ProviderStore)
	if !ok {
		return nil, errNoProviders
	}
	return ps, nil
}

func (s *Service) providerLimits() provider.Limits {
	if s.cfg.ProviderLimits == (provider.Limits{}) {
		return provider.DefaultLimits
	}
	return s.cfg.ProviderLimits
}

// CanPublishProvider reports (as an error) whether tok may publish providers
// as registry namespace owner; the transport asks before reading an upload.
func (s *Service) CanPublishProvider(tok *store.Token, owner string) error {
	if err := s.canPublish(tok, owner); err != nil {
		return err
	}
	if !ValidName(owner) {
		return fmt.Errorf("%w: namespace %q", ErrInvalid, owner)
	}
	return nil
}

// PublishProvider checks and stores a new provider version owned by registry
// namespace owner. Nothing is stored unless every archive passes
// provider.Check and matches its declared hashes.
func (s *Service) PublishProvider(ctx context.Context, tok *store.Token, owner string, k store.ProviderKey, ups []ProviderUpload) (store.ProviderVersion, error) {
	var none store.ProviderVersion
	if err := s.CanPublishProvider(tok, owner); err != nil {
		return none, err
	}
	if err := provider.CheckAddr(k.ProviderAddr); err != nil {
		return none, err
	}
	if err := provider.CheckVersion(k.Version); err != nil {
		return none, err
	}
	ps, err := s.providerStore()
	if err != nil {
		return none, err
	}
	lim := s.providerLimits()
	if len(ups) == 0 {
		return none, fmt.Errorf("%w: no archives in the upload", provider.ErrInvalid)
	}
	if len(ups) > lim.MaxPlatforms {
		return none, fmt.Errorf("%w: %d platforms exceed the limit of %d", provider.ErrTooLarge, len(ups), lim.MaxPlatforms)
	}
	if err := s.providerOwnedBy(ctx, ps, k.ProviderAddr, owner); err != nil {
		return none, err
	}
	if _, err := ps.ProviderVersion(ctx, k); err == nil {
		return none, providerExists(k)
	} else if !errors.Is(err, store.ErrNotFound) {
		return none, err
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return none, ctx.Err()
	}
	v := store.ProviderVersion{ProviderKey: k, Owner: owner, PublishedAt: time.Now().UTC()}
	data := make([][]byte, 0, len(ups))
	slices.SortFunc(ups, func(a, b ProviderUpload) int {
		if a.Platform < b.Platform {
			return -1
		}
		if a.Platform > b.Platform {
			return 1
		}
		return 0
	})
	for i, u := range ups {
		if err := provider.CheckPlatform(u.Platform); err != nil {
			return none, err
		}
		if i > 0 && ups[i-1].Platform == u.Platform {
			return none, fmt.Errorf("%w: two archives for %s", provider.ErrInvalid, u.Platform)
		}
		name := provider.ArchiveName(k.Type, k.Version, u.Platform)
		c, err := provider.Check(u.Data, k.Type, lim)
		if err != nil {
			return none, fmt.Errorf("%s: %w", name, err)
		}
		if err := provider.MatchDeclared(c.Hashes, u.Declared); err != nil {
			return none, fmt.Errorf("%s: %w", name, err)
		}
		v.Archives = append(v.Archives, store.ProviderArchive{Platform: u.Platform, Filename: name, Size: int64(len(u.Data)), ZH: c.ZH, H1: c.H1})
		data = append(data, u.Data)
	}
	err = ps.PublishProvider(ctx, v, data)
	switch {
	case errors.Is(err, store.ErrExists):
		return none, providerExists(k)
	case errors.Is(err, store.ErrOwner):
		return none, fmt.Errorf("%w: provider %s %v; namespace %q may not publish it", ErrForbidden, k.ProviderAddr, err, owner)
	case err != nil:
		return none, err
	}
	s.log.Info("published provider", "provider", k.ProviderAddr.String(), "version", k.Version, "owner", owner, "platforms", len(v.Archives))
	return v, nil
}

// providerOwnedBy refuses a publish by owner of a provider another namespace owns.
func (s *Service) providerOwnedBy(ctx context.Context, ps store.ProviderStore, a store.ProviderAddr, owner string) error {
	vs, err := ps.ProviderVersions(ctx, a)
	if err != nil {
		return err
	}
	if len(vs) > 0 && vs[0].Owner != owner {
		return fmt.Errorf("%w: provider %s belongs to namespace %q; namespace %q may not publish it", ErrForbidden, a, vs[0].Owner, owner)
	}
	return nil
}

func providerExists(k store.ProviderKey) error {
	return fmt.Errorf("provider %s version %s %w; versions are immutable, publish a new version", k.ProviderAddr, k.Version, ErrExists)
}

// canReadProvider checks a read of a provider owned by owner. Without a
// token, when reads need one, it is refused before the store is asked.
func (s *Service) canReadProvider(tok *store.Token, owner string) error {
	if err := s.CanRead(tok, owner); err != nil {
		return fmt.Errorf("%w (providers are read with a token for the namespace that publishes them)", err)
	}
	return nil
}

// ProviderIndexJSON is the mirror protocol's index.json of a provider:
// {"versions":{"1.4.0":{}}}.
func (s *Service) ProviderIndexJSON(ctx context.Context, tok *store.Token, a store.ProviderAddr) ([]byte, error) {
	if s.cfg.RequireReadToken && tok == nil {
		return nil, s.canReadProvider(nil, "")
	}
	if err := provider.CheckAddr(a); err != nil {
		return nil, fmt.Errorf("%w: no provider %s", ErrNotFound, a)
	}
	ps, err := s.providerStore()
	if err != nil {
		return nil, err
	}
	vs, err := ps.ProviderVersions(ctx, a)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: no provider %s in this mirror", ErrNotFound, a)
	}
	if err := s.canReadProvider(tok, vs[0].Owner); err != nil {
		return nil, err
	}
	doc := struct {
		Versions map[string]struct{} `json:"versions"`
	}{map[string]struct{}{}}
	for _, v := range vs {
		doc.Versions[v.Version] = struct{}{}
	}
	return json.Marshal(doc)
}

// providerVersion looks a version up and checks tok may read it.
func (s *Service) providerVersion(ctx context.Context, tok *store.Token, k store.ProviderKey) (store.ProviderVersion, store.ProviderStore, error) {
	if s.cfg.RequireReadToken && tok == nil {
		return store.ProviderVersion{}, nil, s.canReadProvider(nil, "")
	}
	if provider.CheckAddr(k.ProviderAddr) != nil || provider.CheckVersion(k.Version) != nil {
		return store.ProviderVersion{}, nil, fmt.Errorf("%w: no provider %s", ErrNotFound, k)
	}
	ps, err := s.providerStore()
	if err != nil {
		return store.ProviderVersion{}, nil, err
	}
	v, err := ps.ProviderVersion(ctx, k)
	if err != nil {
		return v, nil, err
	}
	return v, ps, s.canReadProvider(tok, v.Owner)
}

// ProviderVersionJSON is the mirror protocol's VERSION.json: per platform,
// the archive's URL (relative to this document; with a signed grant when
// reads need a token, since tofu sends no token for archives) and its h1:
// and zh: hashes.
func (s *Service) ProviderVersionJSON(ctx context.Context, tok *store.Token, k store.ProviderKey) ([]byte, error) {
	v, _, err := s.providerVersion(ctx, tok, k)
	if err != nil {
		return nil, err
	}
	type archive struct {
		URL    string   `json:"url"`
		Hashes []string `json:"hashes"`
	}
	doc := struct {
		Archives map[string]archive `json:"archives"`
	}{map[string]archive{}}
	for _, a := range v.Archives {
		u := url.PathEscape(a.Filename)
		if s.cfg.RequireReadToken {
			exp, sig := auth.SignGrant(s.key, providerGrantKey(k, a.Platform), time.Now().Add(s.cfg.GrantTTL))
			u += "?expires=" + exp + "&grant=" + sig
		}
		doc.Archives[a.Platform] = archive{URL: u, Hashes: []string{a.H1, a.ZH}}
	}
	return json.Marshal(doc)
}

// providerGrantKey is what a provider archive's grant signs. Its namespace
// holds '/', which no module namespace can, so a provider grant never opens
// a module archive or the other way round.
func providerGrantKey(k store.ProviderKey, platform string) store.Key {
	return store.Key{Ref: store.Ref{Namespace: "provider/" + k.Hostname + "/" + k.Namespace, Name: k.Type, System: platform}, Version: k.Version}
}

// ProviderArchive opens the archive file (an ArchiveName) of provider a for
// a client holding a token that may read it or a valid grant.
func (s *Service) ProviderArchive(ctx context.Context, tok *store.Token, a store.ProviderAddr, file, expires, grant string) (store.Archive, store.ProviderVersion, store.ProviderArchive, error) {
	var noV store.ProviderVersion
	var noA store.ProviderArchive
	version, platform, ok := provider.ParseArchiveName(a.Type, file)
	if !ok {
		return nil, noV, noA, fmt.Errorf("%w: no archive %s of provider %s", ErrNotFound, file, a)
	}
	k := store.ProviderKey{ProviderAddr: a, Version: version}
	granted := s.cfg.RequireReadToken && grant != "" && auth.VerifyGrant(s.key, providerGrantKey(k, platform), expires, grant, time.Now(), s.cfg.GrantTTL)
	if s.cfg.RequireReadToken && !granted && tok == nil {
		if grant != "" {
			return nil, noV, noA, fmt.Errorf("%w: download grant is invalid or expired; ask for %s.json again", ErrForbidden, version)
		}
		return nil, noV, noA, s.canReadProvider(nil, "")
	}
	ps, err := s.providerStore()
	if err != nil {
		return nil, noV, noA, err
	}
	v, err := ps.ProviderVersion(ctx, k)
	if err != nil {
		return nil, noV, noA, err
	}
	if !granted {
		if err := s.canReadProvider(tok, v.Owner); err != nil {
			return nil, noV, noA, err
		}
	}
	for _, ar := range v.Archives {
		if ar.Platform == platform {
			r, err := ps.OpenProviderArchive(ctx, ar)
			return r, v, ar, err
		}
	}
	return nil, noV, noA, fmt.Errorf("%w: provider %s %s has no archive for %s", ErrNotFound, a, version, platform)
}
