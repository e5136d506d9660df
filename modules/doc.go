// Package modules holds the platform's approved Terraform modules, one per golden-path
// template and system (modules/<template>/<system>/). The Go package exists only for
// the tests that check them; the modules themselves are plain HCL that the plat
// registry serves.
package modules
