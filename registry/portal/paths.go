package portal

import (
	"io/fs"
	"net/http"
)

type pathsCache struct{}

func newPathsCache(fs.FS) (*pathsCache, error) { return &pathsCache{}, nil }

func (p *Portal) pathsPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.render(w, r, v, http.StatusOK, "paths", "Golden paths", "paths", nil)
}

func (p *Portal) templatePage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.fail(w, r, v, http.StatusNotFound, "No such template.")
}
