package backstage

import (
	"strings"
	"testing"
)

// TestNamesFitAndStayUnique: names longer than Backstage's 63 characters,
// and names two stacks would share, get a hash of the entity's key.
func TestNamesFitAndStayUnique(t *testing.T) {
	long := strings.Repeat("s", 40)
	stacks := []Stack{
		{Key: "a/platform.yaml", Name: "checkout", Team: "payments", Target: "terraform",
			Resources: []Resource{{Name: "orders-db", Template: "postgres"}}},
		{Key: "b/platform.yaml", Name: "checkout-orders", Team: "payments", Target: "terraform",
			Resources: []Resource{{Name: "db", Template: "postgres"}, {Name: long, Template: "bucket"}}},
	}
	es := Entities(stacks, nil, Options{})
	seen := map[string]bool{}
	for _, e := range es {
		n := e.Metadata.Name
		if len(n) > MaxName {
			t.Errorf("%s: %d characters", n, len(n))
		}
		if seen[e.Kind+"/"+n] {
			t.Errorf("%s %s twice", e.Kind, n)
		}
		seen[e.Kind+"/"+n] = true
		if e.Kind == KindResource && e.Spec.Owner != "group:payments" {
			t.Errorf("%s: owner %q", n, e.Spec.Owner)
		}
	}
	if !seen["System/checkout"] || !seen["System/checkout-orders"] {
		t.Errorf("systems lost their plain names: %v", seen)
	}
	if seen["Resource/checkout-orders-db"] {
		t.Error("colliding resource names were kept plain")
	}
	again := Entities(stacks, nil, Options{})
	for i := range es {
		if es[i].Metadata.Name != again[i].Metadata.Name {
			t.Errorf("names differ between runs: %s, %s", es[i].Metadata.Name, again[i].Metadata.Name)
		}
	}
}

func TestTags(t *testing.T) {
	got := tags("prod", "", "terraform", "prod", "Bad Tag", "a--b")
	if strings.Join(got, ",") != "prod,terraform" {
		t.Errorf("tags = %v", got)
	}
}
