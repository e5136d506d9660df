package registry

import (
	"errors"
	"net/http"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// Sentinel errors of the registry service. statusOf maps them (and the store's and
// archive's) to HTTP status codes; it is the only place that does.
var (
	// ErrNotFound means no such module, version or route.
	ErrNotFound = store.ErrNotFound
	// ErrExists means the version is already published; versions are immutable.
	ErrExists = store.ErrExists
	// ErrInvalid means a bad name or version (archive.ErrInvalid: a bad archive).
	ErrInvalid = module.ErrInvalid
	// ErrTooLarge means the upload exceeds a size limit (see also
	// archive.ErrTooLarge).
	ErrTooLarge = errors.New("request too large")
	// ErrUnauthorized means no token, or one the registry does not know.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the token is valid but not for this namespace or action.
	ErrForbidden = errors.New("forbidden")
	// ErrMethod means the route exists but not for this HTTP method.
	ErrMethod = errors.New("method not allowed")
)

// statusOf returns the HTTP status for an error from the service.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge), errors.Is(err, archive.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalid), errors.Is(err, archive.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrNoUsage):
		return http.StatusNotImplemented
	default:
		return http.StatusInternalServerError
	}
}
