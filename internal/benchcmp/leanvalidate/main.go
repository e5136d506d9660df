// Command leanvalidate is a measuring instrument, not part of plat: `plat
// validate` built into a binary that links only what validating needs (cobra,
// the compiler and the embedded catalog), without the Kubernetes, registry and
// drift libraries that the single plat binary also links and initialises on
// every start. platbench runs it beside plat and cue vet to show how much of
// plat's time is process start-up paid for the other commands.
//
//	leanvalidate validate STACK...
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	// The same first heap goal as plat (cmd/plat imports it too).
	_ "github.com/platdev/plat/internal/startheap"
)

func main() {
	root := &cobra.Command{Use: "leanvalidate", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(&cobra.Command{
		Use:  "validate STACK...",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var srcs []compiler.Source
			for _, p := range args {
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				srcs = append(srcs, compiler.Source{Name: p, Data: data})
			}
			c, err := compiler.New(catalog.FS)
			if err != nil {
				return err
			}
			_, diags := c.Compile(context.Background(), compiler.Input{Stacks: srcs, Validate: true})
			for _, d := range diags {
				fmt.Fprintln(os.Stderr, d.String())
			}
			if diags.HasErrors() {
				return fmt.Errorf("%d errors", diags.Errors())
			}
			return nil
		},
	})
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "leanvalidate:", err)
		os.Exit(1)
	}
}
