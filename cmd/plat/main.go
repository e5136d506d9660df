// Command plat compiles golden-path stacks, serves approved Terraform modules and
// detects drift. See README.md.
package main

import (
	"os"

	"github.com/platdev/plat/internal/cli"
)

func main() { os.Exit(cli.Main()) }
