package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/registry/store"
)

// RunProviders runs the provider-store part of the suite on a backend whose
// stores implement store.ProviderStore.
func RunProviders(t *testing.T, newStorage func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"PublishAndRead", testProviderPublishAndRead},
		{"Immutable", testProviderImmutable},
		{"Owner", testProviderOwner},
		{"Unknown", testProviderUnknown},
		{"ConcurrentPublish", testProviderConcurrent},
		{"Persistence", testProviderPersistence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStorage(t)) })
	}
}

func providerStore(t *testing.T, open Opener) store.ProviderStore {
	t.Helper()
	s := mustOpen(t, open)
	ps, ok := s.(store.ProviderStore)
	if !ok {
		t.Fatalf("%T does not implement store.ProviderStore", s)
	}
	return ps
}

var localAddr = store.ProviderAddr{Hostname: "registry.opentofu.org", Namespace: "hashicorp", Type: "local"}

func providerVersion(owner, version string, platforms ...string) (store.ProviderVersion, [][]byte) {
	v := store.ProviderVersion{
		ProviderKey: store.ProviderKey{ProviderAddr: localAddr, Version: version},
		Owner:       owner, PublishedAt: time.Unix(1700000000, 0).UTC(),
	}
	var data [][]byte
	for _, p := range platforms {
		zip := []byte(fmt.Sprintf("zip of %s %s %s", owner, version, p))
		v.Archives = append(v.Archives, store.ProviderArchive{
			Platform: p, Filename: "terraform-provider-local_" + version + "_" + p + ".zip",
			ZH: "zh:" + p, H1: "h1:" + p,
		})
		data = append(data, zip)
	}
	return v, data
}

func readProviderArchive(t *testing.T, ps store.ProviderStore, a store.ProviderArchive) string {
	t.Helper()
	r, err := ps.OpenProviderArchive(context.Background(), a)
	if err != nil {
		t.Fatalf("open %s: %v", a.Filename, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testProviderPublishAndRead(t *testing.T, open Opener) {
	ctx := context.Background()
	ps := providerStore(t, open)
	v, data := providerVersion("mirror", "1.4.0", "darwin_arm64", "linux_amd64")
	if err := ps.PublishProvider(ctx, v, data); err != nil {
		t.Fatalf("publish: %v", err)
	}
	vs, err := ps.ProviderVersions(ctx, localAddr)
	if err != nil || len(vs) != 1 || vs[0].Version != "1.4.0" || vs[0].Owner != "mirror" || !vs[0].PublishedAt.Equal(v.PublishedAt) {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	got, err := ps.ProviderVersion(ctx, v.ProviderKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Archives) != 2 || got.Archives[0].Platform != "darwin_arm64" || got.Archives[1].Platform != "linux_amd64" {
		t.Fatalf("archives = %+v", got.Archives)
	}
	for i, a := range got.Archives {
		if a.ZH != v.Archives[i].ZH || a.H1 != v.Archives[i].H1 || a.Filename != v.Archives[i].Filename || a.Size != int64(len(data[i])) {
			t.Errorf("archive %d = %+v, want %+v (size %d)", i, a, v.Archives[i], len(data[i]))
		}
		if b := readProviderArchive(t, ps, a); b != string(data[i]) {
			t.Errorf("archive %s = %q, want %q", a.Platform, b, data[i])
		}
	}
}

func testProviderImmutable(t *testing.T, open Opener) {
	ctx := context.Background()
	ps := providerStore(t, open)
	v, data := providerVersion("mirror", "1.4.0", "linux_amd64")
	if err := ps.PublishProvider(ctx, v, data); err != nil {
		t.Fatal(err)
	}
	v2, data2 := providerVersion("mirror", "1.4.0", "linux_amd64", "linux_arm64")
	data2[0] = []byte("other bytes")
	if err := ps.PublishProvider(ctx, v2, data2); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second publish: err = %v, want ErrExists", err)
	}
	got, err := ps.ProviderVersion(ctx, v.ProviderKey)
	if err != nil || len(got.Archives) != 1 {
		t.Fatalf("after refused publish: %+v, %v", got, err)
	}
	if b := readProviderArchive(t, ps, got.Archives[0]); b != string(data[0]) {
		t.Errorf("archive changed to %q", b)
	}
}

func testProviderOwner(t *testing.T, open Opener) {
	ctx := context.Background()
	ps := providerStore(t, open)
	v, data := providerVersion("mirror", "1.4.0", "linux_amd64")
	if err := ps.PublishProvider(ctx, v, data); err != nil {
		t.Fatal(err)
	}
	o, odata := providerVersion("other", "1.5.0", "linux_amd64")
	if err := ps.PublishProvider(ctx, o, odata); !errors.Is(err, store.ErrOwner) {
		t.Fatalf("publish by another namespace: err = %v, want ErrOwner", err)
	}
	vs, _ := ps.ProviderVersions(ctx, localAddr)
	if len(vs) != 1 {
		t.Errorf("versions after refused publish = %+v", vs)
	}
	m, mdata := providerVersion("mirror", "1.5.0", "linux_amd64")
	if err := ps.PublishProvider(ctx, m, mdata); err != nil {
		t.Fatalf("publish of a new version by the owner: %v", err)
	}
}

func testProviderUnknown(t *testing.T, open Opener) {
	ctx := context.Background()
	ps := providerStore(t, open)
	vs, err := ps.ProviderVersions(ctx, localAddr)
	if err != nil || len(vs) != 0 {
		t.Fatalf("versions of unknown provider = %+v, %v", vs, err)
	}
	if _, err := ps.ProviderVersion(ctx, store.ProviderKey{ProviderAddr: localAddr, Version: "1.0.0"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown version: err = %v, want ErrNotFound", err)
	}
	if _, err := ps.OpenProviderArchive(ctx, store.ProviderArchive{}); err == nil {
		t.Fatal("opening an archive with no blob key succeeded")
	}
}

func testProviderConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	ps := providerStore(t, open)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "mirror"
			if i%2 == 1 {
				owner = "other"
			}
			v, data := providerVersion(owner, "2.0.0", "linux_amd64")
			errs[i] = ps.PublishProvider(ctx, v, data)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrOwner):
		default:
			t.Errorf("concurrent publish: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent publishes of one version succeeded, want 1 (%v)", ok, errs)
	}
	got, err := ps.ProviderVersion(ctx, store.ProviderKey{ProviderAddr: localAddr, Version: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if b := readProviderArchive(t, ps, got.Archives[0]); b != fmt.Sprintf("zip of %s 2.0.0 linux_amd64", got.Owner) {
		t.Errorf("stored archive %q is not the winning owner's (%s)", b, got.Owner)
	}
}

func testProviderPersistence(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	v, data := providerVersion("mirror", "1.4.0", "linux_amd64")
	if err := s.(store.ProviderStore).PublishProvider(ctx, v, data); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ps := providerStore(t, open)
	got, err := ps.ProviderVersion(ctx, v.ProviderKey)
	if err != nil || got.Owner != "mirror" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if b := readProviderArchive(t, ps, got.Archives[0]); b != string(data[0]) {
		t.Errorf("archive after reopen = %q", b)
	}
}
