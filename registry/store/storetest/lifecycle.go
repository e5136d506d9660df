package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/platdev/plat/registry/store"
)

// RunLifecycle runs the conformance cases of store.Lifecycle (catalog versions
// and version marks) on a backend whose stores implement it.
func RunLifecycle(t *testing.T, newStorage func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Lifecycle, st store.Store)
	}{
		{"CatalogPublishAndRead", testCatalogPublish},
		{"CatalogImmutable", testCatalogImmutable},
		{"CatalogMarks", testCatalogMarks},
		{"ModuleMarks", testModuleMarks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustOpen(t, newStorage(t))
			lc, ok := st.(store.Lifecycle)
			if !ok {
				t.Fatalf("%T does not implement store.Lifecycle", st)
			}
			tc.fn(t, lc, st)
		})
	}
}

func ckey(ns, name, v string) store.CatalogKey {
	return store.CatalogKey{CatalogRef: store.CatalogRef{Namespace: ns, Name: name}, Version: v}
}

func publishCatalog(t *testing.T, s store.Lifecycle, k store.CatalogKey) []byte {
	t.Helper()
	data := []byte("catalog archive of " + k.String())
	sum := sha256.Sum256(data)
	err := s.PublishCatalog(context.Background(), store.NewCatalogVersion{CatalogKey: k, SHA256: hex.EncodeToString(sum[:]), PublishedAt: time.Unix(1700000000, 0).UTC()}, data)
	if err != nil {
		t.Fatalf("publish catalog %s: %v", k, err)
	}
	return data
}

func catalogVersions(t *testing.T, s store.Lifecycle, ref store.CatalogRef) map[string]store.CatalogVersion {
	t.Helper()
	vs, err := s.CatalogVersions(context.Background(), ref)
	if err != nil {
		t.Fatalf("catalog versions %s: %v", ref, err)
	}
	out := map[string]store.CatalogVersion{}
	for _, v := range vs {
		out[v.Version] = v
	}
	return out
}

func testCatalogPublish(t *testing.T, s store.Lifecycle, _ store.Store) {
	ctx := context.Background()
	a := publishCatalog(t, s, ckey("platform", "golden", "1.0.0"))
	publishCatalog(t, s, ckey("platform", "golden", "1.1.0"))
	publishCatalog(t, s, ckey("platform", "other", "1.0.0"))
	vs := catalogVersions(t, s, store.CatalogRef{Namespace: "platform", Name: "golden"})
	var names []string
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) != 2 || names[0] != "1.0.0" || names[1] != "1.1.0" {
		t.Fatalf("versions %v", names)
	}
	v := vs["1.0.0"]
	sum := sha256.Sum256(a)
	if v.SHA256 != hex.EncodeToString(sum[:]) || v.Size != int64(len(a)) || !v.PublishedAt.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("metadata %+v", v)
	}
	f, err := s.OpenCatalogArchive(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if string(b) != string(a) {
		t.Fatalf("archive %q, want %q", b, a)
	}
	if vs := catalogVersions(t, s, store.CatalogRef{Namespace: "platform", Name: "missing"}); len(vs) != 0 {
		t.Fatalf("unknown catalog has versions %v", vs)
	}
	publishCatalog(t, s, ckey("apps", "zeta", "0.1.0"))
	refs, err := s.Catalogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.CatalogRef{{Namespace: "apps", Name: "zeta"}, {Namespace: "platform", Name: "golden"}, {Namespace: "platform", Name: "other"}}
	if len(refs) != len(want) {
		t.Fatalf("catalogs %v, want %v", refs, want)
	}
	for i := range want {
		if refs[i] != want[i] {
			t.Fatalf("catalogs %v, want %v", refs, want)
		}
	}
}

func testCatalogImmutable(t *testing.T, s store.Lifecycle, _ store.Store) {
	k := ckey("platform", "golden", "1.0.0")
	want := publishCatalog(t, s, k)
	for _, v := range []string{"1.0.0", "1.0.0+build.2"} {
		err := s.PublishCatalog(context.Background(), store.NewCatalogVersion{CatalogKey: ckey("platform", "golden", v), SHA256: "00"}, []byte("other"))
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("republish %s: %v, want ErrExists", v, err)
		}
	}
	vs := catalogVersions(t, s, k.CatalogRef)
	if len(vs) != 1 || vs["1.0.0"].Size != int64(len(want)) {
		t.Fatalf("after refused republish: %+v", vs)
	}
}

func testCatalogMarks(t *testing.T, s store.Lifecycle, _ store.Store) {
	ctx := context.Background()
	k := ckey("platform", "golden", "1.0.0")
	publishCatalog(t, s, k)
	at := time.Unix(1700000100, 0).UTC()
	if err := s.MarkCatalog(ctx, k, store.MarkDeprecated, &store.Mark{Reason: "use 2.x", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCatalog(ctx, k, store.MarkYanked, &store.Mark{Reason: "broken", At: at}); err != nil {
		t.Fatal(err)
	}
	v := catalogVersions(t, s, k.CatalogRef)["1.0.0"]
	if v.Deprecated == nil || v.Deprecated.Reason != "use 2.x" || !v.Deprecated.At.Equal(at) || v.Yanked == nil || v.Yanked.Reason != "broken" {
		t.Fatalf("marks %+v", v.Marks)
	}
	if err := s.MarkCatalog(ctx, k, store.MarkYanked, nil); err != nil {
		t.Fatal(err)
	}
	v = catalogVersions(t, s, k.CatalogRef)["1.0.0"]
	if v.Yanked != nil || v.Deprecated == nil {
		t.Fatalf("after undo: %+v", v.Marks)
	}
	if err := s.MarkCatalog(ctx, ckey("platform", "golden", "9.9.9"), store.MarkYanked, &store.Mark{At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("mark of a missing version: %v", err)
	}
}

func testModuleMarks(t *testing.T, s store.Lifecycle, st store.Store) {
	ctx := context.Background()
	k := key("platform", "postgres", "aws", "1.1.0")
	publish(t, st, k)
	publish(t, st, key("platform", "postgres", "aws", "1.0.0"))
	at := time.Unix(1700000200, 0).UTC()
	if err := s.MarkModule(ctx, k, store.MarkYanked, &store.Mark{Reason: "data loss", At: at}); err != nil {
		t.Fatal(err)
	}
	m, err := s.ModuleMarks(ctx, k.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m["1.1.0"].Yanked == nil || m["1.1.0"].Yanked.Reason != "data loss" || m["1.1.0"].Deprecated != nil {
		t.Fatalf("marks %+v", m)
	}
	// A mark changes nothing else: the version is listed by the store as before.
	if vs := versionsOf(t, st, k.Ref); len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}
	if err := s.MarkModule(ctx, k, store.MarkYanked, nil); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ModuleMarks(ctx, k.Ref); len(m) != 0 {
		t.Fatalf("after undo %+v", m)
	}
	if err := s.MarkModule(ctx, key("platform", "postgres", "aws", "3.0.0"), store.MarkDeprecated, &store.Mark{At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("mark of a missing version: %v", err)
	}
}
