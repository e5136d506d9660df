package startheap

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// collect runs a collection and waits for a pending sentinel's finalizer
// (finalizers run on their own goroutine) to have changed GOGC from was.
func collect(t *testing.T, was int) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if p := gcPercent(); p != was {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d after collections", was)
		}
	}
}

func TestApply(t *testing.T) {
	t.Setenv("GOGC", "")
	// The package's own init may have applied it already: collect with a big
	// live heap until that sentinel has put GOGC back to 100, then start from
	// Go's default.
	big := make([]byte, 40<<20)
	for deadline := time.Now().Add(10 * time.Second); gcPercent() != 100; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d: init's sentinel did not let go", gcPercent())
		}
		runtime.GC()
	}
	runtime.KeepAlive(big)
	big = nil
	runtime.GC()

	Apply()
	if got := gcPercent(); got != 800 {
		t.Fatalf("after Apply: GOGC %d, want 800", got)
	}
	Apply() // a second call leaves the raised goal alone
	if got := gcPercent(); got != 800 {
		t.Fatalf("after a second Apply: GOGC %d, want 800", got)
	}

	// With a small live heap, each collection keeps the next goal at 32 MiB.
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // the finalizer runs on its own goroutine
		if g := heapGoal(); g < 28<<20 || g > 36<<20 {
			t.Fatalf("small live heap: heap goal %d MiB (GOGC %d), want about 32", g>>20, gcPercent())
		}
	}
	p := gcPercent()

	// Once the live heap is past half the goal, GOGC is 100 for good.
	big = make([]byte, 24<<20)
	if p := collect(t, p); p != 100 {
		t.Fatalf("24 MiB live: GOGC %d, want 100", p)
	}
	runtime.KeepAlive(big)
}

func TestApplyLeavesUserGOGC(t *testing.T) {
	t.Setenv("GOGC", "50")
	prev := debug.SetGCPercent(50)
	defer debug.SetGCPercent(prev)
	Apply()
	if got := gcPercent(); got != 50 {
		t.Fatalf("with GOGC=50 set: GOGC %d after Apply, want 50", got)
	}
}

// TestRaise runs after TestApply, whose sentinel chain ended at GOGC 100 (a
// 24 MiB live heap): Raise arms it again, and while the live heap is small
// each collection keeps the goal at the raised size.
func TestRaise(t *testing.T) {
	t.Setenv("GOGC", "")
	defer func() { // as TestStop expects to find it
		goal.Store(32 << 20)
		debug.SetGCPercent(100)
	}()
	runtime.GC()
	runtime.GC() // the live heap is small again
	if armed.Load() {
		t.Fatal("TestApply's sentinel chain is still armed")
	}
	Raise(128 << 20)
	if !armed.Load() {
		t.Fatal("Raise did not arm a sentinel")
	}
	for i := range 3 {
		if g := heapGoal(); g < 112<<20 || g > 144<<20 {
			t.Fatalf("collection %d: heap goal %d MiB (GOGC %d), want about 128", i, g>>20, gcPercent())
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	Raise(64 << 20) // lower than now: no change
	if g := heapGoal(); g < 112<<20 {
		t.Fatalf("a lower Raise cut the goal to %d MiB", g>>20)
	}
}

// TestStop runs after TestApply: Stop gives the heap back to GOGC=100, and the
// pending sentinel's finalizer does not raise the goal again.
func TestStop(t *testing.T) {
	t.Setenv("GOGC", "")
	Apply()
	if got := gcPercent(); got != 800 {
		t.Fatalf("after Apply: GOGC %d, want 800", got)
	}
	Stop()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after Stop: GOGC %d, want 100", got)
	}
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		if got := gcPercent(); got != 100 {
			t.Fatalf("a collection after Stop set GOGC %d, want 100", got)
		}
	}
	if g := heapGoal(); g >= 28<<20 {
		t.Errorf("after Stop: heap goal %d MiB, want Go's own (well under 32)", g>>20)
	}
}
