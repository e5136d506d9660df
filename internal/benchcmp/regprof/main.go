// Command regprof serves a registry as `plat registry serve --access-log=false`
// does (serve.Open + Serve), with net/http/pprof on a second loopback port, so
// that the server can be CPU-profiled under wrk.
//
//	go run ./internal/benchcmp/regprof -data DIR -listen 127.0.0.1:PORT -pprof 127.0.0.1:PORT2
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"

	"github.com/platdev/plat/registry/serve"
)

func main() {
	data := flag.String("data", "", "data directory")
	db := flag.String("db", "", "postgres URL")
	blob := flag.String("blob", "", "blob URL")
	listen := flag.String("listen", "127.0.0.1:0", "registry address")
	prof := flag.String("pprof", "127.0.0.1:6060", "pprof address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(*prof, nil)) }()
	r, err := serve.Open(ctx, serve.Config{Store: serve.StoreConfig{DataDir: *data, DB: *db, Blob: *blob, ArchiveCache: serve.DefaultArchiveCache}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer r.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := r.Serve(ctx, ln, serve.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
