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
