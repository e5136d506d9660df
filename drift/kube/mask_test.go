package kube

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/platdev/plat/drift"
)

// TestSecretCopiesMasked copies a stack's Secret values into another object
// behind plat's back (a value, a base64 form, a map key, a short value equal
// whole, the live Secret's new value): none of them shows in its changes.
func TestSecretCopiesMasked(t *testing.T) {
	obj := func(m map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: m} }
	secretGVR := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	meta := func(name string) map[string]any { return map[string]any{"name": name, "namespace": "ns"} }
	secret := obj(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta("s"),
		"stringData": map[string]any{"password": "hunter2-value"},
		"data":       map[string]any{"pin": base64.StdEncoding.EncodeToString([]byte("k9"))}})
	liveSecret := obj(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta("s"),
		"data": map[string]any{"password": base64.StdEncoding.EncodeToString([]byte("rotated-live-pw")), "pin": "azk="}})
	cm := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "ns",
		"annotations": map[string]any{"hunter2-value": "a"}},
		"data": map[string]any{"url": "x", "b64": "x", "pin": "x", "rot": "x", "pin2": "k9x"}})
	liveCM := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "ns",
		"annotations": map[string]any{"hunter2-value": "b"}},
		"data": map[string]any{"url": "https://u:hunter2-value@db", "b64": base64.StdEncoding.EncodeToString([]byte("hunter2-value")),
			"pin": "k9", "rot": "rotated-live-pw", "pin2": "k9y"}})
	objs := []declared{{obj: secret, gvr: secretGVR, namespace: "ns"}, {obj: cm, gvr: cmGVR, namespace: "ns"}}
	lives := map[listKey]map[string]*unstructured.Unstructured{
		{secretGVR, "ns"}: {"s": liveSecret},
		{cmGVR, "ns"}:     {"c": liveCM},
	}
	got := compareObject(cm, liveCM, stackSecrets(objs, lives))
	want := `[{data.b64 x (sensitive) false} {data.pin x (sensitive) false} {data.pin2 k9x k9y false} {data.rot x (sensitive) false} {data.url x https://u:(sensitive)@db false} {metadata.annotations["(sensitive)"] a b false}]`
	drift.Normalize([]drift.ResourceDrift{{Changes: got}})
	// Only what the checker sets (the trace fields are the tracer's).
	type plain struct {
		Path           string
		Declared, Live any
		Sensitive      bool
	}
	var plains []plain
	for _, c := range got {
		plains = append(plains, plain{c.Path, c.Declared, c.Live, c.Sensitive})
	}
	if s := fmt.Sprint(plains); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	if s := fmt.Sprint(got); strings.Contains(s, "hunter2") || strings.Contains(s, "rotated") {
		t.Errorf("leak: %s", s)
	}
}
