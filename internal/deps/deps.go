// Package deps pins the modules the project's packages are being built on, so that
// `go mod tidy` keeps them while the packages that use them land. It is removed once
// every dependency is imported for real.
package deps

import (
	_ "cuelang.org/go/cue"
	_ "github.com/gorilla/mux"
	_ "github.com/hashicorp/go-version"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/hashicorp/terraform-exec/tfexec"
	_ "github.com/hashicorp/terraform-json"
	_ "github.com/hashicorp/terraform-plugin-framework/providerserver"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/zclconf/go-cty/cty"
	_ "gocloud.dev/blob/s3blob"
	_ "golang.org/x/term"
	_ "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	_ "k8s.io/client-go/dynamic"
	_ "modernc.org/sqlite"
	_ "sigs.k8s.io/yaml"
)
