package startheap

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitRestored collects until a pending sentinel has put GOGC back to 100.
func waitRestored(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); gcPercent() != 100; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d after collections, want 100", gcPercent())
		}
		runtime.GC()
	}
}

func TestApply(t *testing.T) {
	t.Setenv("GOGC", "")
	// The package's own init may have applied it already: let its sentinel
	// go, then start from Go's default.
	debug.SetGCPercent(100)
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // finalizers run on their own goroutine
	debug.SetGCPercent(100)
	Apply()
	if got := gcPercent(); got != 800 {
		t.Fatalf("after Apply: GOGC %d, want 800", got)
	}
	Apply() // a second call leaves the raised goal alone
	if got := gcPercent(); got != 800 {
		t.Fatalf("after a second Apply: GOGC %d, want 800", got)
	}
	// The first collection puts the usual setting back.
	waitRestored(t)
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
