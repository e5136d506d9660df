package portal

import "net/http"

func (p *Portal) stacksPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.render(w, r, v, http.StatusOK, "stacks", "Stacks", "stacks", nil)
}

func (p *Portal) stackPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	p.fail(w, r, v, http.StatusNotFound, "No such stack.")
}
