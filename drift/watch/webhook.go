package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/platdev/plat/drift"
)

// message is a Slack-compatible webhook payload.
type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
	stack  string
}

type block struct {
	Type string   `json:"type"`
	Text *textObj `json:"text,omitempty"`
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Slack caps a section's text at 3000 characters.
const maxBlockText = 2900

func slackMessage(st drift.StackReport, prev drift.Status) message {
	var head string
	switch st.Status {
	case drift.StatusDrifted:
		head = fmt.Sprintf(":warning: Drift in `%s`: %d resource(s) differ from what is declared", st.Dir, len(st.Resources))
		if prev == drift.StatusDrifted {
			head = fmt.Sprintf(":warning: Drift changed in `%s`: %d resource(s) differ from what is declared", st.Dir, len(st.Resources))
		}
	case drift.StatusError:
		first, _, _ := strings.Cut(st.Error, "\n")
		head = fmt.Sprintf(":x: `%s` could not be checked: %s", st.Dir, first)
	default:
		head = fmt.Sprintf(":white_check_mark: `%s` matches what is declared again (was %s)", st.Dir, prev)
	}
	m := message{Text: head, stack: st.Dir, Blocks: []block{{Type: "section", Text: &textObj{Type: "mrkdwn", Text: head}}}}
	var b strings.Builder
	switch st.Status {
	case drift.StatusDrifted:
		for _, r := range st.Resources {
			if r.Action == drift.ActionDeleted {
				fmt.Fprintf(&b, "• `%s` deleted outside\n", r.Address)
				continue
			}
			fmt.Fprintf(&b, "• `%s` changed\n", r.Address)
			for _, c := range r.Changes {
				d, l := drift.FormatValue(c.Declared), drift.FormatValue(c.Live)
				if c.Sensitive {
					d, l = drift.Masked, drift.Masked
				}
				fmt.Fprintf(&b, "    `%s`: `%s` → `%s`\n", c.Path, d, l)
			}
		}
	case drift.StatusError:
		fmt.Fprintf(&b, "```%s```", strings.ReplaceAll(st.Error, "```", "'''"))
	}
	if details := b.String(); details != "" {
		if len(details) > maxBlockText {
			details = details[:maxBlockText] + "\n… (see the full report)"
		}
		m.Blocks = append(m.Blocks, block{Type: "section", Text: &textObj{Type: "mrkdwn", Text: details}})
	}
	return m
}

func (s *service) deliverLoop(ctx context.Context) {
	for msg := range s.queue {
		for _, w := range s.cfg.Webhooks {
			if err := s.deliver(ctx, w.URL, msg); err != nil {
				s.m.webhookFailures.Inc()
				// The URL is a secret in Slack's scheme; log its host only.
				s.log.Error("webhook delivery failed", "stack", msg.stack, "host", hostOf(w.URL), "err", err)
				continue
			}
			s.m.webhookSent.Inc()
		}
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
