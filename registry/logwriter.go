package registry

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// BufferedLog is an io.Writer for access logs under load: records are buffered and
// written out at most every interval (and whenever 64 KiB accumulate), so a busy
// server makes a few large writes instead of one small write per request.
type BufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBufferedLog starts a BufferedLog over w; Close flushes and stops it.
func NewBufferedLog(w io.Writer, interval time.Duration) *BufferedLog {
	b := &BufferedLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				b.Flush()
				return
			}
		}
	}()
	return b
}

// Write buffers p, one whole record: the buffer is flushed before a record that
// would not fit, so records are never split between writes (other writers to the
// same stream cannot land in the middle of one).
func (b *BufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w.Buffered() > 0 && b.w.Available() < len(p) {
		if err := b.w.Flush(); err != nil {
			return 0, err
		}
	}
	return b.w.Write(p)
}

// Flush writes what is buffered.
func (b *BufferedLog) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close flushes and stops the background flusher.
func (b *BufferedLog) Close() error {
	close(b.stop)
	<-b.done
	return nil
}
