package registry

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/platdev/plat/registry/store"
)

// Routes of the inventory and usage API.
const (
	routeInventory    = "inventory"
	routeUsageModule  = "usage_module"
	routeUsageCatalog = "usage_catalog"
)

// addUsage adds the inventory and usage API's routes, and the
// plat_registry_stacks_using gauge to the metrics.
func (h *Handler) addUsage(route func(name, path string, hd http.Handler, methods ...string)) {
	route(routeInventory, "/api/v1/inventory"+slash, h.api(h.pushInventory), http.MethodPost)
	route(routeUsageModule, "/api/v1/usage/modules/{"+varNS+"}/{"+varName+"}/{"+varSystem+"}"+slash, h.api(h.usageOf(store.UseModule)), readMethods...)
	route(routeUsageCatalog, "/api/v1/usage/catalogs/{"+varNS+"}/{"+varName+"}"+slash, h.api(h.usageOf(store.UseCatalog)), readMethods...)
	h.metrics.reg.MustRegister(&usageCollector{svc: h.svc})
}

func (h *Handler) pushInventory(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	if r.ContentLength > MaxInventoryBytes {
		return ErrTooLarge
	}
	res, err := h.svc.PushInventory(r.Context(), tok, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) usageOf(kind string) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) error {
		v := mux.Vars(r)
		u, err := h.svc.Usage(r.Context(), tok, kind, v[varNS], v[varName], v[varSystem])
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

// usageCollector reads the counts from the store at each scrape: every
// replica answers the same, whichever took the push.
type usageCollector struct{ svc *Service }

var stacksUsingDesc = prometheus.NewDesc("plat_registry_stacks_using",
	"Stacks using a module or catalog version, as the latest inventory pushes report.",
	[]string{"kind", "namespace", "name", "version"}, nil)

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stacksUsingDesc }

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.svc.UseCounts(ctx)
	if err != nil {
		if err != ErrNoUsage {
			ch <- prometheus.NewInvalidMetric(stacksUsingDesc, err)
		}
		return
	}
	// A module is named NAME/SYSTEM in the name label: the contract's labels
	// are kind, namespace, name and version.
	sums := map[[4]string]int64{}
	var order [][4]string
	for _, u := range counts {
		name := u.Name
		if u.System != "" {
			name += "/" + u.System
		}
		k := [4]string{u.Kind, u.Namespace, name, u.Version}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += u.Stacks
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(stacksUsingDesc, prometheus.GaugeValue, float64(sums[k]), k[0], k[1], k[2], k[3])
	}
}
