package registry_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
)

func TestBufferedLog(t *testing.T) {
	var out bytes.Buffer
	b := registry.NewBufferedLog(&out, time.Hour)
	b.Write([]byte("one\n"))
	b.Write([]byte("two\n"))
	if out.Len() != 0 {
		t.Fatalf("written before a flush: %q", out.String())
	}
	b.Close()
	if out.String() != "one\ntwo\n" {
		t.Fatalf("after Close: %q", out.String())
	}
}

type writes struct{ calls []string }

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

// TestBufferedLogWholeRecords checks a full buffer is written on record boundaries.
func TestBufferedLogWholeRecords(t *testing.T) {
	w := &writes{}
	b := registry.NewBufferedLog(w, time.Hour)
	rec := bytes.Repeat([]byte("x"), 1000)
	rec[len(rec)-1] = '\n'
	for range 200 {
		b.Write(rec)
	}
	b.Close()
	total := 0
	for _, c := range w.calls {
		if len(c)%len(rec) != 0 {
			t.Fatalf("a write of %d bytes splits a record", len(c))
		}
		total += len(c)
	}
	if total != 200*len(rec) {
		t.Fatalf("wrote %d bytes, want %d", total, 200*len(rec))
	}
}
