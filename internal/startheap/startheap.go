// Package startheap lets plat start and run a short command without garbage
// collection until its heap reaches about 32 MiB, keeps that goal while the
// live heap is small, and collects as usual (GOGC=100) once it is not.
// Importing it is all it takes; cmd/plat imports it.
//
// A plat process initialises every package it links (the Kubernetes
// validation libraries, the AWS SDK, Prometheus, SQLite, CUE, ...): those
// package initialisers alone allocate about 4 MiB, so with Go's 4 MiB minimum
// heap goal the collector ran twice before main, and again during a small
// validate or render, which allocates 5-10 MiB that is nearly all garbage by
// the end. The Go compiler raises its first heap goal the same way
// (cmd/compile/internal/base.AdjustStartingHeap), and keeps it while the live
// heap is small. A command over many stacks raises the goal (Raise); one
// reading large inputs gives the heap back to GOGC=100 (Stop).
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
	"runtime/metrics"
	"sync/atomic"
)

func init() {
	goal.Store(32 << 20)
	Apply()
}

// goal is the heap size plat runs up to before collecting: 32 MiB, or what
// Raise set. armed is whether a sentinel is pending.
var (
	goal  atomic.Uint64
	armed atomic.Bool
)

// Apply keeps the heap goal at 32 MiB while the live heap is small, and
// leaves it to GOGC=100 once the live heap is past half of that, as the Go
// compiler does: GOGC 800 over Go's 4 MiB minimum until the first collection;
// then, after each collection, the GOGC that puts the next goal at 32 MiB
// again. It does nothing when GOGC is set or the setting was already changed
// (by an earlier Apply, say).
func Apply() {
	if os.Getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(800)
	if prev != 100 {
		debug.SetGCPercent(prev)
		return
	}
	arm()
}

// stopped is set by Stop: the next collection leaves GOGC at 100.
var stopped atomic.Bool

// Stop hands the heap back to GOGC=100 from now on, for a command whose
// memory matters more than its start-up: one that reads large inputs, such
// as a drift check reading a big plan, where a 32 MiB goal would leave every
// byte it allocated uncollected. Like Apply, it leaves a GOGC set by the user
// alone.
func Stop() {
	if os.Getenv("GOGC") != "" || stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(100)
}

// arm sets a sentinel that the next collection finds unreachable; its
// finalizer (run after that collection) picks the next GOGC.
func arm() {
	armed.Store(true)
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if !stopped.Load() && tune() {
			arm()
			return
		}
		armed.Store(false)
	})
}

// tune sets the GOGC that puts the next heap goal at goal, from the live heap
// of the last collection. The runtime's goal is live + (live + stacks +
// globals) * GOGC/100, and at least 4 MiB * GOGC/100: GOGC 800 makes that
// floor the goal at start. Once the live heap is past half of goal, it sets
// GOGC 100 and reports false: the heap is no longer small.
func tune() bool {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(sample)
	var v [3]uint64
	for i, s := range sample {
		if s.Value.Kind() != metrics.KindUint64 {
			debug.SetGCPercent(100)
			return false
		}
		v[i] = s.Value.Uint64()
	}
	live, scan, g := v[0], v[0]+v[1]+v[2], goal.Load()
	if live >= g/2 || scan == 0 {
		debug.SetGCPercent(100)
		return false
	}
	// The 4 MiB floor bounds GOGC at what makes the floor the goal.
	debug.SetGCPercent(int(min(max((g-live)*100/scan, 100), g*100/(4<<20))))
	return true
}

// Raise sets the goal to g bytes, if that is more than now, for a command
// that compiles many independent inputs one after the other (validate or
// render of a tree of stacks): each stack allocates about a MiB, of which
// nothing outlives it, so the live heap stays at 10-20 MiB while, with a
// 32 MiB goal, the collector ran every 15 MiB allocated: 33 times and a fifth
// of the CPU for 500 stacks (BENCHMARKS.md, issue 16). Memory stays flat in
// the number of inputs, at about g. Like Apply, it leaves a GOGC set by the
// user alone, and after Stop it does nothing.
func Raise(g uint64) {
	if os.Getenv("GOGC") != "" || stopped.Load() || g <= goal.Load() {
		return
	}
	goal.Store(g)
	if tune() && !armed.Load() {
		arm()
	}
}

// sentinel is large enough not to share a tiny-allocator block (whose
// finalizers may never run).
type sentinel struct{ _ [32]byte }
