package portal

import "net/http"

type driftCache struct{ dir string }

func newDriftCache(dir string) *driftCache { return &driftCache{dir: dir} }

func (p *Portal) driftPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.render(w, r, v, http.StatusOK, "drift", "Drift", "drift", nil)
}
