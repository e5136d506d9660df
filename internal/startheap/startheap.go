// Package startheap lets plat start and run a short command without garbage
// collection until its heap reaches about 32 MiB, and collect as usual from
// then on. Importing it is all it takes; cmd/plat imports it.
//
// A plat process initialises every package it links (the Kubernetes
// validation libraries, the AWS SDK, Prometheus, SQLite, CUE, ...): those
// package initialisers alone allocate about 4 MiB, so with Go's 4 MiB minimum
// heap goal the collector ran twice before main, and again during a small
// validate or render, which allocates 5-10 MiB that is nearly all garbage by
// the end. The Go compiler raises its first heap goal the same way
// (cmd/compile/internal/base.AdjustStartingHeap).
//
// The Go specification initialises packages in the order of their import
// paths among those whose imports are initialised, so this package, which
// imports only the runtime and os, runs before most of the third-party
// initialisers that sort after "github.com/platdev" (google.golang.org,
// k8s.io, modernc.org, ...). A GOGC set by the user is left alone.
package startheap

import (
	"os"
	"runtime"
	"runtime/debug"
)

func init() { Apply() }

// Apply raises the first heap goal to 32 MiB (GOGC 800 over Go's 4 MiB
// minimum) until the first collection, whose finalizer puts the previous
// setting back. It does nothing when GOGC is set or the setting was already
// changed (by an earlier Apply, say).
func Apply() {
	if os.Getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(800)
	if prev != 100 {
		debug.SetGCPercent(prev)
		return
	}
	// The sentinel is found unreachable by the first collection, whose
	// finalizer puts the usual setting back.
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) { debug.SetGCPercent(prev) })
}

// sentinel is large enough not to share a tiny-allocator block (whose
// finalizers may never run).
type sentinel struct{ _ [32]byte }
