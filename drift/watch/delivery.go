package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// webhookQueue bounds the messages waiting for one webhook. When it is full the
// oldest waiting message is dropped (and counted): the newest says most about
// each stack now.
const webhookQueue = 256

// courier delivers messages to one webhook, in order, on a goroutine of its
// own, so a webhook that hangs or fails only ever delays its own messages.
type courier struct {
	s    *service
	url  string
	cap  int
	wake chan struct{} // a message was queued or the courier was closed
	done chan struct{} // closed when run returns

	mu     sync.Mutex
	queue  []message
	closed bool
}

// dispatcher fans messages out to one courier per configured webhook.
type dispatcher struct {
	couriers []*courier
	cancel   context.CancelFunc
}

func newDispatcher(s *service) *dispatcher {
	d := &dispatcher{cancel: func() {}}
	for _, w := range s.cfg.Webhooks {
		d.couriers = append(d.couriers, &courier{s: s, url: w.URL, cap: webhookQueue,
			wake: make(chan struct{}, 1), done: make(chan struct{})})
	}
	return d
}

// start runs one goroutine per webhook until stop. ctx's values are kept, its
// cancellation is not: queued messages still go out after the watcher's
// context ends, until stop's deadline.
func (d *dispatcher) start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, c := range d.couriers {
		go c.run(ctx)
	}
}

// send queues msg for every webhook; it never blocks.
func (d *dispatcher) send(msg message) {
	for _, c := range d.couriers {
		c.enqueue(msg)
	}
}

// stop lets each webhook drain what is queued until deadline is done, then
// abandons attempts in flight and drops what is left (counted and logged).
// It returns when every courier has returned.
func (d *dispatcher) stop(deadline context.Context) {
	for _, c := range d.couriers {
		c.close()
	}
	all := make(chan struct{})
	go func() {
		for _, c := range d.couriers {
			<-c.done
		}
		close(all)
	}()
	select {
	case <-all:
	case <-deadline.Done():
		d.cancel()
		<-all
	}
	d.cancel()
}

func (c *courier) enqueue(msg message) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	dropped, full := "", len(c.queue) >= c.cap
	if full {
		dropped = c.queue[0].stack
		c.queue = c.queue[1:]
	}
	c.queue = append(c.queue, msg)
	c.mu.Unlock()
	if full {
		c.s.m.webhookDropped.Inc()
		c.s.log.Error("webhook queue full; oldest message dropped", "host", hostOf(c.url), "stack", dropped)
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *courier) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next waits for the oldest queued message; ok is false once the courier is
// closed and empty, or ctx is done.
func (c *courier) next(ctx context.Context) (msg message, ok bool) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 && ctx.Err() == nil {
			msg = c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return msg, true
		}
		closed := c.closed
		c.mu.Unlock()
		if closed || ctx.Err() != nil {
			return message{}, false
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
		}
	}
}

func (c *courier) run(ctx context.Context) {
	defer close(c.done)
	for {
		msg, ok := c.next(ctx)
		if !ok {
			break
		}
		if err := c.s.deliver(ctx, c.url, msg); err != nil {
			c.s.m.webhookFailures.Inc()
			// The URL is a secret in Slack's scheme; log its host only.
			c.s.log.Error("webhook delivery failed", "stack", msg.stack, "host", hostOf(c.url), "err", err)
			continue
		}
		c.s.m.webhookSent.Inc()
	}
	c.mu.Lock()
	left := len(c.queue)
	c.queue, c.closed = nil, true
	c.mu.Unlock()
	if left > 0 {
		c.s.m.webhookDropped.Add(float64(left))
		c.s.log.Error("webhook messages not delivered before shutdown", "host", hostOf(c.url), "messages", left)
	}
}

// deliver posts msg, retrying network errors, 429 and 5xx with exponential
// backoff. Other 4xx are final: resending the same payload cannot help.
func (s *service) deliver(ctx context.Context, url string, msg message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	delay := s.opts.RetryBase
	var last error
	for attempt := 1; ; attempt++ {
		retry, err := s.post(ctx, url, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt >= s.opts.MaxAttempts {
			return fmt.Errorf("after %d attempt(s): %w", attempt, last)
		}
		s.m.webhookRetries.Inc()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("shutting down: %w", last)
		case <-t.C:
		}
		delay *= 2
	}
}

func (s *service) post(ctx context.Context, url string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("post to %s failed", hostOf(url)) // err text repeats the URL
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("status %s", resp.Status)
	default:
		return false, fmt.Errorf("status %s", resp.Status)
	}
}

func hostOf(u string) string {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		h, _, _ := strings.Cut(rest, "/")
		return h
	}
	return "?"
}
