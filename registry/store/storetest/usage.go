package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/registry/store"
)

// RunUsage runs the conformance cases of store.UsageStore; the stores
// newStorage opens must implement it.
func RunUsage(t *testing.T, newStorage func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"ReplaceAndCount", testUsageReplace},
		{"OwnersApart", testUsageOwners},
		{"Persistence", testUsagePersistence},
		{"ConcurrentPushes", testUsageConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStorage(t)) })
	}
}

func usageStore(t *testing.T, open Opener) store.UsageStore {
	t.Helper()
	s := mustOpen(t, open)
	us, ok := s.(store.UsageStore)
	if !ok {
		t.Fatalf("%T does not implement store.UsageStore", s)
	}
	return us
}

func modUse(name, version, stack string) store.Use {
	return store.Use{Kind: store.UseModule, Namespace: "platform", Name: name, System: "aws", Version: version, Stack: stack, File: stack + "/platform.yaml"}
}

func counts(t *testing.T, us store.UsageStore) map[string]int64 {
	t.Helper()
	cs, err := us.UseCounts(context.Background())
	if err != nil {
		t.Fatalf("UseCounts: %v", err)
	}
	m := map[string]int64{}
	for _, c := range cs {
		m[c.Kind+" "+c.Namespace+"/"+c.Name+"/"+c.System+" "+c.Version] = c.Stacks
	}
	return m
}

func wantCounts(t *testing.T, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("counts = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("counts = %v, want %v", got, want)
		}
	}
}

func testUsageReplace(t *testing.T, open Opener) {
	ctx := context.Background()
	us := usageStore(t, open)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	first := []store.Use{modUse("postgres", "1.0.0", "a"), modUse("postgres", "1.0.0", "b"), modUse("bucket", "1.0.0", "a"),
		{Kind: store.UseCatalog, Namespace: "platform", Name: "golden", Version: "1.0.0", Stack: "a", File: "a/platform.yaml"}}
	if err := us.ReplaceUses(ctx, "apps", "git@example.com:shop.git", first, at); err != nil {
		t.Fatalf("ReplaceUses: %v", err)
	}
	wantCounts(t, counts(t, us), map[string]int64{
		"catalog platform/golden/ 1.0.0": 1, "module platform/bucket/aws 1.0.0": 1, "module platform/postgres/aws 1.0.0": 2})
	uses, err := us.Uses(ctx, store.UseModule, "platform", "postgres", "aws")
	if err != nil {
		t.Fatalf("Uses: %v", err)
	}
	if len(uses) != 2 || uses[0].Stack != "a" || uses[1].Stack != "b" || uses[0].Owner != "apps" ||
		uses[0].Repository != "git@example.com:shop.git" || !uses[0].PushedAt.Equal(at) {
		t.Fatalf("Uses = %+v", uses)
	}
	// A second push of the same repository replaces the first.
	if err := us.ReplaceUses(ctx, "apps", "git@example.com:shop.git", []store.Use{modUse("postgres", "1.1.0", "a")}, at.Add(time.Hour)); err != nil {
		t.Fatalf("ReplaceUses: %v", err)
	}
	wantCounts(t, counts(t, us), map[string]int64{"module platform/postgres/aws 1.1.0": 1})
	if uses, _ := us.Uses(ctx, store.UseCatalog, "platform", "golden", ""); len(uses) != 0 {
		t.Fatalf("catalog uses after replace = %+v, want none", uses)
	}
	// An empty push forgets the repository.
	if err := us.ReplaceUses(ctx, "apps", "git@example.com:shop.git", nil, at); err != nil {
		t.Fatalf("ReplaceUses: %v", err)
	}
	wantCounts(t, counts(t, us), map[string]int64{})
}

func testUsageOwners(t *testing.T, open Opener) {
	ctx := context.Background()
	us := usageStore(t, open)
	now := time.Now()
	// The same repository key pushed by two namespaces, and two repositories
	// of one namespace, are kept apart.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(us.ReplaceUses(ctx, "apps", "shop", []store.Use{modUse("postgres", "1.0.0", "a")}, now))
	must(us.ReplaceUses(ctx, "data", "shop", []store.Use{modUse("postgres", "1.0.0", "a")}, now))
	must(us.ReplaceUses(ctx, "apps", "blog", []store.Use{modUse("postgres", "1.0.0", "c")}, now))
	wantCounts(t, counts(t, us), map[string]int64{"module platform/postgres/aws 1.0.0": 3})
	must(us.ReplaceUses(ctx, "apps", "shop", nil, now))
	uses, err := us.Uses(ctx, store.UseModule, "platform", "postgres", "aws")
	must(err)
	if len(uses) != 2 || uses[0].Owner != "apps" || uses[0].Repository != "blog" || uses[1].Owner != "data" {
		t.Fatalf("Uses = %+v", uses)
	}
}

func testUsagePersistence(t *testing.T, open Opener) {
	ctx := context.Background()
	us := usageStore(t, open)
	if err := us.ReplaceUses(ctx, "apps", "shop", []store.Use{modUse("queue", "2.0.0", "q")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	again := usageStore(t, open)
	wantCounts(t, counts(t, again), map[string]int64{"module platform/queue/aws 2.0.0": 1})
}

func testUsageConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	us := usageStore(t, open)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			uses := []store.Use{modUse("postgres", "1.0.0", "a"), modUse("postgres", "1.0.0", "b")}
			errs <- us.ReplaceUses(ctx, "apps", "shop", uses, time.Now())
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent ReplaceUses: %v", err)
		}
	}
	// Each push replaced the last whole: never more than one push's rows.
	wantCounts(t, counts(t, us), map[string]int64{"module platform/postgres/aws 1.0.0": 2})
}
