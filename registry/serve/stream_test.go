package serve_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/platdev/plat/internal/registrytest"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// TestArchiveStreamsFromBucket serves a module archive larger than the archive
// cache keeps (an eighth of --archive-cache-bytes) from a real S3-compatible
// store (versitygw) with its metadata in a real PostgreSQL, as a replica does,
// and checks that a download does not hold the archive in memory: the bytes
// the whole process allocates per download stay far below the archive's size.
func TestArchiveStreamsFromBucket(t *testing.T) {
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	ctx := context.Background()
	sc := serve.StoreConfig{DB: pg.NewDatabase(t), Blob: s3.NewBucket(t), ArchiveCache: 8 << 20}
	meta, err := serve.OpenStore(ctx, sc, true)
	if err != nil {
		t.Fatal(err)
	}
	secret, hash, _ := auth.NewToken()
	if err := meta.CreateToken(ctx, store.Token{Hash: hash, Namespace: "acme", Scope: store.ScopePublish, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	meta.Close()
	reg, err := serve.Open(ctx, serve.Config{Store: sc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- reg.Serve(sctx, ln, serve.Options{}) }()
	t.Cleanup(func() { stop(); <-done })
	base := "http://" + ln.Addr().String()

	// 12 MiB of incompressible data: the archive is larger than the 1 MiB an
	// 8 MiB cache keeps per item, and gzip cannot shrink it.
	const size = 12 << 20
	data := make([]byte, size)
	rand.Read(data)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "main.tf", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})
	tw.Write([]byte("\n\n"))
	tw.WriteHeader(&tar.Header{Name: "files/blob.bin", Typeflag: tar.TypeReg, Size: size, Mode: 0o644})
	tw.Write(data)
	tw.Close()
	zw.Close()
	archive := buf.Bytes()
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/modules/acme/big/aws/1.0.0", bytes.NewReader(archive))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %s %s", resp.Status, body)
	}
	archive, buf = nil, bytes.Buffer{}

	get := func() {
		t.Helper()
		resp, err := http.Get(base + "/v1/archives/acme/big/aws/1.0.0.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || n < size {
			t.Fatalf("download: %s, %d bytes, %v", resp.Status, n, err)
		}
	}
	get() // connections, the S3 client and the version cache warm up
	const downloads = 4
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range downloads {
		get()
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / downloads
	t.Logf("%d bytes allocated per download of a %d-byte archive", per, size)
	if per > size/8 {
		t.Fatalf("a download allocates %d bytes for a %d-byte archive: the archive is buffered, not streamed", per, size)
	}
}
