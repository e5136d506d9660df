// Command plat compiles golden-path stacks, serves approved Terraform modules and
// detects drift. See README.md.
package main

import (
	"os"

	"github.com/platdev/plat/internal/cli"
	// Before the other packages' initialisers: see the package documentation.
	_ "github.com/platdev/plat/internal/startheap"
)

func main() { os.Exit(cli.Main()) }
