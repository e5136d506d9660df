// Command loadgen sends GET requests to one URL at a fixed rate (open loop, unlike
// wrk's closed loop) and reports the achieved rate, errors and latency
// percentiles. Latency is measured from when each request was due, so a stalled
// server is not hidden by requests that were never sent (coordinated omission).
// It only ever targets the URL it is given; internal/benchcmp/wrk.sh points it at a
// registry on 127.0.0.1.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	rate := flag.Int("rate", 10000, "requests per second")
	dur := flag.Duration("duration", 10*time.Second, "how long to send")
	conns := flag.Int("conns", 32, "concurrent connections (workers)")
	header := flag.String("H", "", "one extra request header, \"Name: value\"")
	flag.Parse()
	if *url == "" || *rate <= 0 || *conns <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var hname, hval string
	if *header != "" {
		hname, hval, _ = strings.Cut(*header, ":")
		hval = strings.TrimSpace(hval)
	}

	interval := time.Duration(float64(time.Second) * float64(*conns) / float64(*rate))
	start := time.Now().Add(50 * time.Millisecond)
	end := start.Add(*dur)
	var errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, *conns)
	var wg sync.WaitGroup
	for w := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Stagger workers evenly across one interval.
			due := start.Add(interval * time.Duration(w) / time.Duration(*conns))
			for due.Before(end) {
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				req, _ := http.NewRequest(http.MethodGet, *url, nil)
				if hname != "" {
					req.Header.Set(hname, hval)
				}
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode >= 400 {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				lats[w] = append(lats[w], time.Since(due))
				due = due.Add(interval)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lats...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	fmt.Printf("target %d req/s for %s over %d connections: sent %d, %.0f req/s achieved, %d errors\n",
		*rate, *dur, *conns, len(all), float64(len(all))/elapsed.Seconds(), errs.Load())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		pct(0.999).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %s\n", e)
		os.Exit(1)
	}
}
