// Package storetest is the conformance suite every store.Store backend passes.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/registry/store"
)

// Opener opens the backend under test. Every call within one subtest opens the
// same underlying storage (to test persistence); each subtest gets fresh storage
// from the function passed to Run.
type Opener func() (store.Store, error)

// Run runs the suite. newStorage is called once per subtest and returns an Opener
// for fresh, empty storage.
func Run(t *testing.T, newStorage func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"PublishAndRead", testPublishAndRead},
		{"Immutable", testImmutable},
		{"SameUpToBuild", testSameUpToBuild},
		{"Unknown", testUnknown},
		{"List", testList},
		{"Downloads", testDownloads},
		{"Tokens", testTokens},
		{"SigningKey", testSigningKey},
		{"ConcurrentPublish", testConcurrentPublish},
		{"FailedPublishLeavesNothing", testFailedPublish},
		{"Persistence", testPersistence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStorage(t)) })
	}
}

func mustOpen(t *testing.T, open Opener) store.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func key(ns, name, sys, v string) store.Key {
	return store.Key{Ref: store.Ref{Namespace: ns, Name: name, System: sys}, Version: v}
}

func newVersion(k store.Key, data []byte) store.NewVersion {
	sum := sha256.Sum256(data)
	return store.NewVersion{
		Key: k, Description: "module " + k.Name, Readme: "# " + k.Name + "\n",
		Doc: []byte(`{"inputs":[],"outputs":[]}`), SHA256: hex.EncodeToString(sum[:]),
		PublishedAt: time.Unix(1700000000, 0).UTC(),
	}
}

func archiveBytes(k store.Key) []byte {
	return []byte(fmt.Sprintf("archive of %s: %x", k, sha256.Sum256([]byte(k.String()))))
}

func publish(t *testing.T, s store.Store, k store.Key) []byte {
	t.Helper()
	data := archiveBytes(k)
	if err := s.Publish(context.Background(), newVersion(k, data), data); err != nil {
		t.Fatalf("publish %s: %v", k, err)
	}
	return data
}

func readArchive(t *testing.T, s store.Store, v store.Version) []byte {
	t.Helper()
	a, err := s.OpenArchive(context.Background(), v)
	if err != nil {
		t.Fatalf("open archive %s: %v", v.Key, err)
	}
	defer a.Close()
	b, err := io.ReadAll(a)
	if err != nil {
		t.Fatalf("read archive %s: %v", v.Key, err)
	}
	// Archives are seekable (HTTP range requests and HEAD use it).
	if n, err := a.Seek(0, io.SeekEnd); err != nil || n != int64(len(b)) {
		t.Fatalf("seek end of %s = %d, %v; want %d", v.Key, n, err, len(b))
	}
	return b
}

func versionsOf(t *testing.T, s store.Store, ref store.Ref) []string {
	t.Helper()
	vs, err := s.Versions(context.Background(), ref)
	if err != nil {
		t.Fatalf("versions %s: %v", ref, err)
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	sort.Strings(out)
	return out
}

func testPublishAndRead(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	k := key("acme", "net", "aws", "1.2.3")
	data := publish(t, s, k)
	publish(t, s, key("acme", "net", "aws", "1.10.0"))
	if got := versionsOf(t, s, k.Ref); fmt.Sprint(got) != "[1.10.0 1.2.3]" {
		t.Fatalf("versions = %v", got)
	}
	d, err := s.Details(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	want := newVersion(k, data)
	if d.Key != k || d.SHA256 != want.SHA256 || d.Size != int64(len(data)) || d.Readme != want.Readme ||
		string(d.Doc) != string(want.Doc) || d.Description != want.Description || !d.PublishedAt.Equal(want.PublishedAt) {
		t.Fatalf("details = %+v, want %+v", d, want)
	}
	if got := readArchive(t, s, d.Version); string(got) != string(data) {
		t.Fatalf("archive = %q, want %q", got, data)
	}
	vs, _ := s.Versions(ctx, k.Ref)
	for _, v := range vs {
		if got := readArchive(t, s, v); string(got) != string(archiveBytes(v.Key)) {
			t.Fatalf("archive of %s = %q", v.Key, got)
		}
	}
}

func testImmutable(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	k := key("acme", "db", "aws", "1.0.0")
	data := publish(t, s, k)
	other := []byte("different bytes")
	err := s.Publish(context.Background(), newVersion(k, other), other)
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("republish error = %v, want ErrExists", err)
	}
	d, err := s.Details(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	if got := readArchive(t, s, d.Version); string(got) != string(data) {
		t.Fatalf("archive changed by a refused republish: %q", got)
	}
}

func testUnknown(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	if vs := versionsOf(t, s, store.Ref{Namespace: "x", Name: "y", System: "z"}); len(vs) != 0 {
		t.Fatalf("versions of unknown module = %v", vs)
	}
	if _, err := s.Details(ctx, key("x", "y", "z", "1.0.0")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("details of unknown = %v, want ErrNotFound", err)
	}
	if _, err := s.Token(ctx, "00"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token = %v, want ErrNotFound", err)
	}
	if _, err := s.OpenArchive(ctx, store.Version{Key: key("x", "y", "z", "1.0.0"), BlobKey: "modules/x/y/z/1.0.0-missing.tar.gz"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open missing archive = %v, want ErrNotFound", err)
	}
}

func testList(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	for _, k := range []store.Key{
		key("acme", "a", "aws", "1.0.0"), key("acme", "a", "aws", "2.0.0+build-1"), key("acme", "a", "aws", "3.0.0-rc.1"),
		key("acme", "a-b", "aws", "0.1.0"), key("acme", "b", "gcp", "0.1.0-beta"), key("acme", "b", "gcp", "0.1.0-alpha"),
		key("other", "c", "aws", "1.0.0"), key("acme", "a_z", "aws", "1.10.0"), key("acme", "a_z", "aws", "1.9.0"),
	} {
		publish(t, s, k)
	}
	if err := s.AddDownloads(ctx, map[store.Key]int64{key("acme", "a", "aws", "1.0.0"): 2, key("acme", "a", "aws", "3.0.0-rc.1"): 3}); err != nil {
		t.Fatal(err)
	}
	list := func(q store.ModuleQuery) string {
		t.Helper()
		ms, err := s.Modules(ctx, q)
		if err != nil {
			t.Fatalf("modules %+v: %v", q, err)
		}
		var out []string
		for _, m := range ms {
			if m.Latest.BlobKey == "" || m.Latest.Size == 0 || m.Latest.Description != "module "+m.Latest.Name {
				t.Errorf("modules %+v: incomplete latest version %+v", q, m.Latest)
			}
			out = append(out, fmt.Sprintf("%s:%d", m.Latest.Key, m.Downloads))
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.ModuleQuery
		want string
	}{
		// One row per module, its latest version (newest release, else newest
		// pre-release), in address order (ns/name/system as text), downloads
		// summed over versions.
		{store.ModuleQuery{}, "[acme/a-b/aws/0.1.0:0 acme/a/aws/2.0.0+build-1:5 acme/a_z/aws/1.10.0:0 acme/b/gcp/0.1.0-beta:0 other/c/aws/1.0.0:0]"},
		{store.ModuleQuery{Namespace: "other"}, "[other/c/aws/1.0.0:0]"},
		{store.ModuleQuery{Namespace: "none"}, "[]"},
		{store.ModuleQuery{System: "gcp"}, "[acme/b/gcp/0.1.0-beta:0]"},
		{store.ModuleQuery{Namespace: "acme", System: "aws", Offset: 1, Limit: 1}, "[acme/a/aws/2.0.0+build-1:5]"},
		{store.ModuleQuery{Offset: 4, Limit: 10}, "[other/c/aws/1.0.0:0]"},
		{store.ModuleQuery{Offset: 5}, "[]"},
		// Query: a lower-case substring of the address with the latest version,
		// or of the latest version's description.
		{store.ModuleQuery{Query: "2.0.0+build"}, "[acme/a/aws/2.0.0+build-1:5]"},
		{store.ModuleQuery{Query: "3.0.0"}, "[]"},
		{store.ModuleQuery{Query: "module a"}, "[acme/a-b/aws/0.1.0:0 acme/a/aws/2.0.0+build-1:5 acme/a_z/aws/1.10.0:0]"},
		{store.ModuleQuery{Query: "a_"}, "[acme/a_z/aws/1.10.0:0]"},
		{store.ModuleQuery{Query: "%"}, "[]"},
		{store.ModuleQuery{Query: "c/aws", Namespace: "other"}, "[other/c/aws/1.0.0:0]"},
	} {
		if got := list(tc.q); got != tc.want {
			t.Errorf("modules %+v = %s, want %s", tc.q, got, tc.want)
		}
	}
	// A new latest version replaces the old one in the list.
	publish(t, s, key("other", "c", "aws", "1.1.0"))
	if got := list(store.ModuleQuery{Namespace: "other"}); got != "[other/c/aws/1.1.0:0]" {
		t.Errorf("after publishing 1.1.0: %s", got)
	}
	publish(t, s, key("other", "c", "aws", "1.0.5"))
	if got := list(store.ModuleQuery{Namespace: "other"}); got != "[other/c/aws/1.1.0:0]" {
		t.Errorf("after publishing the older 1.0.5: %s", got)
	}
}

func testDownloads(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	k1, k2 := key("acme", "a", "aws", "1.0.0"), key("acme", "a", "aws", "1.1.0")
	publish(t, s, k1)
	publish(t, s, k2)
	if err := s.AddDownloads(ctx, map[store.Key]int64{k1: 3, k2: 1, key("acme", "gone", "aws", "9.9.9"): 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDownloads(ctx, map[store.Key]int64{k1: 2}); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Details(ctx, k1)
	if d.Downloads != 5 {
		t.Fatalf("downloads of %s = %d, want 5", k1, d.Downloads)
	}
	d, _ = s.Details(ctx, k2)
	if d.Downloads != 1 {
		t.Fatalf("downloads of %s = %d, want 1", k2, d.Downloads)
	}
}

func testTokens(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	tok := store.Token{Hash: "ab12", Namespace: "acme", Scope: store.ScopePublish, CreatedAt: time.Unix(1700000000, 0).UTC()}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, tok); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate token = %v, want ErrExists", err)
	}
	got, err := s.Token(ctx, "ab12")
	if err != nil {
		t.Fatal(err)
	}
	if got != tok {
		t.Fatalf("token = %+v, want %+v", got, tok)
	}

	// Listing, oldest first, by namespace or all; deleting.
	read := store.Token{Hash: "cd34", Namespace: "acme", Scope: store.ScopeRead, CreatedAt: time.Unix(1700000100, 0).UTC()}
	other := store.Token{Hash: "ef56", Namespace: "other", Scope: store.ScopePublish, CreatedAt: time.Unix(1700000050, 0).UTC()}
	for _, x := range []store.Token{read, other} {
		if err := s.CreateToken(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	list := func(ns string) []store.Token {
		t.Helper()
		ts, err := s.Tokens(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	if got, want := list(""), []store.Token{tok, other, read}; !slices.Equal(got, want) {
		t.Fatalf("all tokens = %+v, want %+v", got, want)
	}
	if got, want := list("acme"), []store.Token{tok, read}; !slices.Equal(got, want) {
		t.Fatalf("acme tokens = %+v, want %+v", got, want)
	}
	if got := list("nobody"); len(got) != 0 {
		t.Fatalf("tokens of an unknown namespace = %+v, want none", got)
	}
	if err := s.DeleteToken(ctx, "ab12"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, "ab12"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token lookup = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, "ab12"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice = %v, want ErrNotFound", err)
	}
	if got, want := list(""), []store.Token{other, read}; !slices.Equal(got, want) {
		t.Fatalf("tokens after delete = %+v, want %+v", got, want)
	}
	// Another replica on the same storage sees the deletion.
	if _, err := mustOpen(t, open).Token(ctx, "ab12"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token on another replica = %v, want ErrNotFound", err)
	}
}

func testSigningKey(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	k1, err := s.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) < 32 {
		t.Fatalf("signing key has %d bytes", len(k1))
	}
	s2 := mustOpen(t, open) // another replica on the same storage
	k2, err := s2.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(k1) != string(k2) {
		t.Fatal("signing key differs between calls/replicas")
	}
}

func testConcurrentPublish(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	k := key("acme", "race", "aws", "1.0.0")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := []byte(fmt.Sprintf("writer %d", i))
			errs[i] = s.Publish(context.Background(), newVersion(k, data), data)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("concurrent publish: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent publishes succeeded, want exactly 1", ok)
	}
	d, err := s.Details(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	got := readArchive(t, s, d.Version)
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != d.SHA256 {
		t.Fatalf("stored archive %q does not match the winning row's digest", got)
	}
}

func testFailedPublish(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := key("acme", "half", "aws", "1.0.0")
	data := archiveBytes(k)
	if err := s.Publish(ctx, newVersion(k, data), data); err == nil {
		t.Fatal("publish with a cancelled context succeeded")
	}
	if vs := versionsOf(t, s, k.Ref); len(vs) != 0 {
		t.Fatalf("failed publish left versions %v", vs)
	}
	publish(t, s, k) // and the version can still be published afterwards
}

func testPersistence(t *testing.T, open Opener) {
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	k := key("acme", "kept", "aws", "3.0.0")
	data := publish(t, s, k)
	tok := store.Token{Hash: "cd34", Namespace: "acme", Scope: store.ScopeRead, CreatedAt: time.Unix(1700000000, 0).UTC()}
	if err := s.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	key1, _ := s.SigningKey(context.Background())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, open)
	d, err := s2.Details(context.Background(), k)
	if err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	if got := readArchive(t, s2, d.Version); string(got) != string(data) {
		t.Fatalf("archive after reopen = %q", got)
	}
	if _, err := s2.Token(context.Background(), "cd34"); err != nil {
		t.Fatalf("token after reopen: %v", err)
	}
	key2, _ := s2.SigningKey(context.Background())
	if string(key1) != string(key2) {
		t.Fatal("signing key changed across reopen")
	}
}

// testSameUpToBuild checks that versions equal up to build metadata are one
// version: the second is refused with ErrExists.
func testSameUpToBuild(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	publish(t, s, key("acme", "db", "aws", "1.0.0"))
	publish(t, s, key("acme", "db", "aws", "2.0.0+build.1"))
	for _, v := range []string{"1.0.0+build", "2.0.0", "2.0.0+build.2"} {
		k := key("acme", "db", "aws", v)
		data := archiveBytes(k)
		if err := s.Publish(context.Background(), newVersion(k, data), data); !errors.Is(err, store.ErrExists) {
			t.Errorf("publish %s = %v, want ErrExists", v, err)
		}
	}
	// Racing publishes of one version with different build metadata: exactly
	// one is stored.
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := key("acme", "db", "aws", fmt.Sprintf("5.0.0+b%d", i))
			data := archiveBytes(k)
			err := s.Publish(context.Background(), newVersion(k, data), data)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored++
			case !errors.Is(err, store.ErrExists):
				t.Errorf("publish %s: %v", k, err)
			}
		}()
	}
	wg.Wait()
	if stored != 1 {
		t.Errorf("%d of 8 racing 5.0.0+b* publishes stored, want 1", stored)
	}
	// Another module may have them.
	publish(t, s, key("acme", "db", "gcp", "1.0.0+build"))
	if got := versionsOf(t, s, store.Ref{Namespace: "acme", Name: "db", System: "aws"}); len(got) != 3 || got[0] != "1.0.0" || got[1] != "2.0.0+build.1" || !strings.HasPrefix(got[2], "5.0.0+b") {
		t.Fatalf("versions = %v", got)
	}
}
