package compiler

import "errors"

// ErrUnknownTemplate is returned by (*Compiler).Template for a name the catalog
// does not have.
var ErrUnknownTemplate = errors.New("unknown template")
