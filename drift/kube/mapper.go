package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// resourceMapper maps a kind to its resource and scope the way discovery does,
// but asks the API server only about the group-versions a stack declares (one
// GET each, cached for the checker's lifetime). client-go's discovery package
// would also do, but it links the scheme of every built-in API group, whose
// package initialisation every plat command pays at start-up, including the
// plat validate of a pre-commit hook (BENCHMARKS.md).
type resourceMapper struct {
	client *http.Client
	base   *url.URL

	mu    sync.Mutex
	lists map[schema.GroupVersion]*metav1.APIResourceList
}

// mapping is where a kind lives.
type mapping struct {
	resource   schema.GroupVersionResource
	namespaced bool
}

func newResourceMapper(cfg *rest.Config) (*resourceMapper, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, err
	}
	return &resourceMapper{client: client, base: base, lists: map[schema.GroupVersion]*metav1.APIResourceList{}}, nil
}

// errNotServed says the cluster does not serve a kind.
type errNotServed struct{ gvk schema.GroupVersionKind }

func (e errNotServed) Error() string {
	return fmt.Sprintf("no %s in %s", e.gvk.Kind, e.gvk.GroupVersion())
}

// lookup returns where gvk lives. A kind missing from a cached list is looked up
// again once, for a CRD installed since.
func (m *resourceMapper) lookup(ctx context.Context, gvk schema.GroupVersionKind) (mapping, error) {
	gv := gvk.GroupVersion()
	m.mu.Lock()
	list, cached := m.lists[gv]
	m.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if !cached || attempt > 0 {
			var err error
			if list, err = m.fetch(ctx, gv); err != nil {
				return mapping{}, err
			}
			m.mu.Lock()
			m.lists[gv] = list
			m.mu.Unlock()
		}
		for _, r := range list.APIResources {
			if r.Kind == gvk.Kind && !strings.Contains(r.Name, "/") { // not a subresource
				return mapping{resource: gv.WithResource(r.Name), namespaced: r.Namespaced}, nil
			}
		}
		if !cached {
			break // just fetched: no need to ask again
		}
	}
	return mapping{}, errNotServed{gvk}
}

// fetch GETs the resource list of one group-version (/api/v1 or
// /apis/GROUP/VERSION). A group-version the server does not serve is an empty list.
func (m *resourceMapper) fetch(ctx context.Context, gv schema.GroupVersion) (*metav1.APIResourceList, error) {
	u := *m.base
	if gv.Group == "" {
		u.Path = path.Join(u.Path, "/api", gv.Version)
	} else {
		u.Path = path.Join(u.Path, "/apis", gv.Group, gv.Version)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kubernetes discovery of %s: %w", gv, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("kubernetes discovery of %s: %w", gv, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return &metav1.APIResourceList{GroupVersion: gv.String()}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("kubernetes discovery of %s: %s: %s", gv, resp.Status, strings.TrimSpace(string(body)))
	}
	var list metav1.APIResourceList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("kubernetes discovery of %s: %w", gv, err)
	}
	return &list, nil
}
