package drift_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/yamlpos"
)

// FuzzAccept feeds arbitrary saved reports (a CI artifact is untrusted) to
// Accept over a fixed stack file: no panic, and every edit it returns is
// valid YAML.
func FuzzAccept(f *testing.F) {
	var b bytes.Buffer
	c := traced("platform.yaml", "storageGB", 17, 20, 100.0, 200.0)
	drift.WriteJSON(&b, acceptReport("platform.yaml", c, drift.AttributeChange{Path: "x", Traced: new(false)}))
	f.Add(b.Bytes())
	f.Add([]byte(`{"schemaVersion":"plat.dev/drift-report/v1","stacks":[{"dir":"d","status":"drifted","resources":[{"address":"a","action":"changed","changes":[{"path":"p","stack":{"file":"f","resource":"orders-db","parameter":"a b: #","live":{"k":[1,"x\n"]}}}]}]}]}`))
	open := func(dir, file string) (drift.StackFile, error) {
		return drift.StackFile{Path: "platform.yaml", Name: "platform.yaml", Data: []byte(acceptStack), Mode: 0o644}, nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := drift.DecodeReport("r.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		res := drift.Accept(context.Background(), rep, drift.AcceptOptions{Open: open})
		var w bytes.Buffer
		if err := res.WriteText(&w); err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Edits {
			if docs, err := yamlpos.Decode("out", e.New); err != nil || len(docs) != 1 {
				t.Fatalf("edit does not parse: %v\n%s", err, e.New)
			}
		}
	})
}
