package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/registry/serve"
)

// serveHandler serves h with serve.Serve (the fasthttp front and its
// converter) and returns the base URL and what the server logged.
func serveHandler(t *testing.T, h http.Handler) (string, *testtools.SyncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := new(testtools.SyncBuffer)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve.Serve(ctx, ln, h, serve.Options{Log: slog.New(slog.NewTextHandler(logs, nil)), ShutdownTimeout: 5 * time.Second})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), logs
}

// chunk is 64 KiB of a recognisable pattern.
var chunk = bytes.Repeat([]byte("0123456789abcdef"), 4<<10)

// TestAdaptStreamsAnswers: an answer far past what the converter buffers
// reaches the client while the handler is still writing it, with the
// Content-Length the handler set or chunked without one, and whole.
func TestAdaptStreamsAnswers(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length=%v", declared), func(t *testing.T) {
			const n = 64 // chunks: 4 MiB
			read := make(chan struct{})
			base, _ := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if declared {
					w.Header().Set("Content-Length", strconv.Itoa(n*len(chunk)))
				}
				w.Header().Set("Content-Type", "application/octet-stream")
				for i := range n {
					if i == 2 {
						// The client must have the first bytes before the
						// handler writes more: nothing holds the answer whole.
						select {
						case <-read:
						case <-time.After(10 * time.Second):
							t.Error("the client got none of the answer while the handler was writing it")
							return
						}
					}
					if _, err := w.Write(chunk); err != nil {
						t.Errorf("write %d: %v", i, err)
						return
					}
				}
			}))
			resp, err := client.Get(base + "/big")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if declared && resp.ContentLength != int64(n*len(chunk)) {
				t.Errorf("Content-Length %d, want %d", resp.ContentLength, n*len(chunk))
			}
			if !declared && (resp.ContentLength != -1 || len(resp.TransferEncoding) == 0) {
				t.Errorf("without a declared length: Content-Length %d, Transfer-Encoding %v; want chunked", resp.ContentLength, resp.TransferEncoding)
			}
			first := make([]byte, len(chunk))
			if _, err := io.ReadFull(resp.Body, first); err != nil {
				t.Fatal(err)
			}
			close(read)
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := append(first, rest...); !bytes.Equal(got, bytes.Repeat(chunk, n)) {
				t.Errorf("body: %d bytes, not the %d written", len(got), n*len(chunk))
			}
		})
	}
}

// TestAdaptStreamsUploads: the handler reads a request body as the client
// sends it, whether its length is declared or chunked: the client sends the
// second half only once the handler has read the first.
func TestAdaptStreamsUploads(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length=%v", declared), func(t *testing.T) {
			const n = 32 // chunks: 2 MiB
			half := make(chan struct{})
			base, _ := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				first := make([]byte, n/2*len(chunk))
				if _, err := io.ReadFull(r.Body, first); err != nil {
					http.Error(w, "first half: "+err.Error(), http.StatusBadRequest)
					return
				}
				close(half)
				rest, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, "second half: "+err.Error(), http.StatusBadRequest)
					return
				}
				if !bytes.Equal(append(first, rest...), bytes.Repeat(chunk, n)) {
					http.Error(w, "body differs", http.StatusBadRequest)
					return
				}
				fmt.Fprintf(w, "got %d", len(first)+len(rest))
			}))
			pr, pw := io.Pipe()
			go func() {
				for i := range n {
					if i == n/2 {
						select {
						case <-half:
						case <-time.After(10 * time.Second):
							pw.CloseWithError(fmt.Errorf("the handler read none of the upload while the client was sending it"))
							return
						}
					}
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				pw.Close()
			}()
			req, err := http.NewRequest(http.MethodPut, base+"/upload", pr)
			if err != nil {
				t.Fatal(err)
			}
			if declared {
				req.ContentLength = int64(n * len(chunk))
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(b) != fmt.Sprintf("got %d", n*len(chunk)) {
				t.Errorf("answer %d %q", resp.StatusCode, b)
			}
		})
	}
}

// TestAdaptFlush: what a handler flushes reaches the client before the
// handler writes more, headers included.
func TestAdaptFlush(t *testing.T) {
	got := make(chan struct{})
	base, _ := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Error("the flushed line did not reach the client")
		}
		io.WriteString(w, "second\n")
	}))
	resp, err := client.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(got)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
}

// TestAdaptHead: a HEAD answer has no body, and keeps the length the
// handler declared, or that of the body it wrote when it fits the buffer.
func TestAdaptHead(t *testing.T) {
	base, _ := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", strconv.Itoa(50*len(chunk)))
			for range 50 {
				w.Write(chunk)
			}
		case "/small":
			io.WriteString(w, "hello, world\n")
		case "/large":
			for range 50 {
				w.Write(chunk)
			}
		}
	}))
	for path, want := range map[string]int64{"/declared": int64(50 * len(chunk)), "/small": 13, "/large": -1} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n", path)
		br := bufio.NewReader(conn)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
		if err != nil {
			t.Fatalf("HEAD %s: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK || resp.ContentLength != want {
			t.Errorf("HEAD %s: %d, Content-Length %d; want 200, %d", path, resp.StatusCode, resp.ContentLength, want)
		}
		// The next answer on the connection starts right after the head: a
		// HEAD answer sent any body bytes, they would be read as its status line.
		next, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatalf("GET after HEAD %s: %v", path, err)
		}
		b, _ := io.ReadAll(next.Body)
		if string(b) != "hello, world\n" {
			t.Errorf("GET after HEAD %s: %q", path, b)
		}
		conn.Close()
	}
}

// TestAdaptPanic: a handler's panic is logged, its connection closed without
// an answer, and the server goes on serving.
func TestAdaptPanic(t *testing.T) {
	base, logs := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("handler bug")
		}
		io.WriteString(w, "ok")
	}))
	if resp, err := client.Get(base + "/panic"); err == nil {
		resp.Body.Close()
		t.Errorf("a panicking handler was answered %d; want the connection closed", resp.StatusCode)
	}
	resp, err := client.Get(base + "/after")
	if err != nil {
		t.Fatalf("after the panic: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("after the panic: %q", b)
	}
	if !strings.Contains(logs.String(), "handler bug") {
		t.Errorf("the panic was not logged: %s", logs)
	}
}

// TestHeadLimit: a request head within 16 KiB is served (an ID token and
// cookies fit), a larger one is answered 431.
func TestHeadLimit(t *testing.T) {
	base, _ := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d", len(r.Header.Get("Authorization")))
	}))
	for size, want := range map[int]int{12 << 10: http.StatusOK, 20 << 10: http.StatusRequestHeaderFieldsTooLarge} {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("x", size))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte header: %d, want %d", size, resp.StatusCode, want)
		}
	}
}
