// Package catalogcheck decides whether a catalog may be published: it must
// load with the compiler, and every template must compile a minimal stack
// that uses it with its defaults, for each target the template supports.
// Templates declare no examples, so the defaults are what is compiled: a
// template whose defaults break its own guardrails cannot be used as shipped.
// plat catalog publish runs it before uploading, and the registry again on
// the uploaded archive, in memory, before it accepts a version.
package catalogcheck

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/platdev/plat/compiler"
)

// Targets are the targets a template is tried with.
var Targets = []string{"terraform", "crossplane"}

// Check loads the catalog in fsys and compiles every template's minimal
// stack. It returns the compiler on success. A template is taken to support
// a target when it declares that target's section (terraform: or
// crossplane:); one that declares neither is an error.
func Check(ctx context.Context, fsys fs.FS) (*compiler.Compiler, error) {
	c, err := compiler.New(fsys)
	if err != nil {
		return nil, fmt.Errorf("the catalog does not load: %w", err)
	}
	names, err := c.TemplateNames()
	if err != nil {
		return nil, fmt.Errorf("the catalog does not load: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("the catalog has no templates")
	}
	region := "us-east-1"
	if rs := c.Platform().Regions; len(rs) > 0 {
		region = rs[0]
	}
	var problems []string
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name+"/"+compiler.TemplateFile)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		tried := 0
		for _, target := range Targets {
			if !declares(string(src), target) {
				continue
			}
			tried++
			stack := minimalStack(name, target, region)
			_, diags := c.Compile(ctx, compiler.Input{Stacks: []compiler.Source{{Name: name + "." + target + ".platform.yaml", Data: []byte(stack)}}, Validate: true})
			if diags.HasErrors() {
				var msgs []string
				for _, d := range diags {
					if d.Severity == compiler.SeverityError {
						msgs = append(msgs, d.Message)
					}
				}
				problems = append(problems, fmt.Sprintf("template %s does not compile its defaults for %s: %s", name, target, strings.Join(msgs, "; ")))
			}
		}
		if tried == 0 {
			problems = append(problems, fmt.Sprintf("template %s declares no target (terraform: or crossplane:)", name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return c, nil
}

// declares reports whether a template file has a top-level section for target.
func declares(src, target string) bool {
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, target+":") || strings.HasPrefix(line, target+" :") {
			return true
		}
	}
	return false
}

// minimalStack is a stack of one resource of template, with no parameters.
func minimalStack(template, target, region string) string {
	return fmt.Sprintf(`apiVersion: plat/v1
kind: Stack
metadata:
  name: catalog-check
  team: platform
  environment: dev
  costCenter: CC-0000
spec:
  target: %s
  region: %s
  resources:
    - name: check
      template: %s
`, target, region, template)
}
