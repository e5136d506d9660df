package compiler

import (
	"fmt"

	"cuelang.org/go/cue"

	"github.com/platdev/plat/compiler/xrd"
)

// XRD returns the Crossplane v2 CompositeResourceDefinition that offers the
// named template as a self-service API (see package xrd). It returns
// ErrUnknownTemplate when the catalog has no such template, and an error when
// the template does not meet the contract.
func (c *Compiler) XRD(name string, opts xrd.Options) (*xrd.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.template(name)
	if err != nil {
		return nil, err
	}
	// The XRD describes the template as written: its parameters without the
	// contract's open [string]: _ catch-alls, which OpenAPI cannot express.
	v := c.cc.CompileBytes(t.src, cue.Filename(t.file))
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", t.file, err)
	}
	res, err := xrd.Generate(v, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.file, err)
	}
	return res, nil
}
