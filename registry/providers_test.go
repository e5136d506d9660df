package registry_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/provider"
)

func providerZip(t testing.TB, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "terraform-provider-local_v1.4.0", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	w.Write([]byte(body))
	zw.Close()
	return buf.Bytes()
}

// providerUpload builds a multipart upload of one zip per platform, with
// declared hashes when hashes is not nil.
func providerUpload(t testing.TB, zips map[string][]byte, hashes map[string][]string) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if hashes != nil {
		w, _ := mw.CreateFormField(registry.ProviderHashesPart)
		json.NewEncoder(w).Encode(hashes)
	}
	for plat, z := range zips {
		w, _ := mw.CreateFormFile(plat, plat+".zip")
		w.Write(z)
	}
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

const localUpload = "/api/v1/providers/acme/registry.opentofu.org/hashicorp/local/1.4.0"
const localMirror = "/v1/providers/registry.opentofu.org/hashicorp/local/"

func TestProviderMirrorHTTP(t *testing.T) {
	r := newTestRegistry(t, registry.Config{})
	z := providerZip(t, "binary")
	c, err := provider.Check(z, "local", provider.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	body, ct := providerUpload(t, map[string][]byte{"linux_amd64": z}, map[string][]string{"linux_amd64": c.List()})

	// Refusals before anything is stored.
	if resp, b := r.do(t, "POST", localUpload, "", body, "Content-Type", ct); resp.StatusCode != 401 {
		t.Errorf("no token: %d %s", resp.StatusCode, b)
	}
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/read"], body, "Content-Type", ct); resp.StatusCode != 403 {
		t.Errorf("read token: %d %s", resp.StatusCode, b)
	}
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], body, "Content-Type", "application/zip"); resp.StatusCode != 400 {
		t.Errorf("not multipart: %d %s", resp.StatusCode, b)
	}
	lying, lct := providerUpload(t, map[string][]byte{"linux_amd64": providerZip(t, "other binary")}, map[string][]string{"linux_amd64": c.List()})
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], lying, "Content-Type", lct); resp.StatusCode != 400 || !strings.Contains(string(b), "does not match its declared hash") {
		t.Errorf("zip not matching its declared hashes: %d %s", resp.StatusCode, b)
	}
	evil, ect := providerUpload(t, map[string][]byte{"linux_amd64": []byte("not a zip")}, nil)
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], evil, "Content-Type", ect); resp.StatusCode != 400 || !strings.Contains(string(b), "not a zip") {
		t.Errorf("not a zip: %d %s", resp.StatusCode, b)
	}
	badPlat, bct := providerUpload(t, map[string][]byte{"../etc": z}, nil)
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], badPlat, "Content-Type", bct); resp.StatusCode != 400 {
		t.Errorf("bad platform: %d %s", resp.StatusCode, b)
	}
	if resp, _ := r.do(t, "GET", localMirror+"index.json", "", nil); resp.StatusCode != 404 {
		t.Errorf("index after refusals: %d", resp.StatusCode)
	}

	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], body, "Content-Type", ct); resp.StatusCode != 201 {
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
	if resp, b := r.do(t, "POST", localUpload, r.tok["acme/publish"], body, "Content-Type", ct); resp.StatusCode != 409 {
		t.Errorf("repeat: %d %s", resp.StatusCode, b)
	}
	// The address belongs to acme now.
	other := strings.Replace(localUpload, "/acme/", "/other/", 1)
	other = strings.Replace(other, "1.4.0", "1.5.0", 1)
	if resp, b := r.do(t, "POST", other, r.tok["other/publish"], body, "Content-Type", ct); resp.StatusCode != 403 || !strings.Contains(string(b), `belongs to namespace \"acme\"`) {
		t.Errorf("other namespace: %d %s", resp.StatusCode, b)
	}

	resp, b := r.do(t, "GET", localMirror+"index.json", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(b) != `{"versions":{"1.4.0":{}}}` {
		t.Fatalf("index: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, b = r.do(t, "GET", localMirror+"1.4.0.json", "", nil)
	var doc struct {
		Archives map[string]struct {
			URL    string
			Hashes []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("version: %d %s", resp.StatusCode, b)
	}
	a := doc.Archives["linux_amd64"]
	if a.URL != "terraform-provider-local_1.4.0_linux_amd64.zip" || len(a.Hashes) != 2 || a.Hashes[0] != c.H1 || a.Hashes[1] != c.ZH {
		t.Fatalf("archive entry = %+v, want hashes %v", a, c.List())
	}
	resp, b = r.do(t, "GET", localMirror+a.URL, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, z) || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("archive: %d %q (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	for _, p := range []string{"1.5.0.json", "terraform-provider-local_1.4.0_darwin_arm64.zip", "terraform-provider-local_1.4.0_linux_amd64.tar.gz", "../../../modules/index.json"} {
		if resp, b := r.do(t, "GET", localMirror+p, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
		}
	}
	if resp, _ := r.do(t, "DELETE", localMirror+"index.json", "", nil); resp.StatusCode != 405 {
		t.Errorf("DELETE index: %d", resp.StatusCode)
	}
}

func TestProviderMirrorReadToken(t *testing.T) {
	r := newTestRegistry(t, registry.Config{RequireReadToken: true})
	z := providerZip(t, "binary")
	body, ct := providerUpload(t, map[string][]byte{"linux_amd64": z}, nil)
	if resp, b := r.do(t, "PUT", localUpload, r.tok["acme/publish"], body, "Content-Type", ct); resp.StatusCode != 201 {
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
	for _, p := range []string{"index.json", "1.4.0.json", "terraform-provider-local_1.4.0_linux_amd64.zip"} {
		if resp, _ := r.do(t, "GET", localMirror+p, "", nil); resp.StatusCode != 401 {
			t.Errorf("GET %s without a token: %d", p, resp.StatusCode)
		}
		if resp, _ := r.do(t, "GET", localMirror+p, r.tok["other/read"], nil); resp.StatusCode != 403 {
			t.Errorf("GET %s with another namespace's token: %d", p, resp.StatusCode)
		}
	}
	_, b := r.do(t, "GET", localMirror+"1.4.0.json", r.tok["acme/read"], nil)
	var doc struct {
		Archives map[string]struct{ URL string }
	}
	json.Unmarshal(b, &doc)
	u := doc.Archives["linux_amd64"].URL
	if !strings.Contains(u, "grant=") {
		t.Fatalf("archive URL without grant: %q", u)
	}
	// tofu fetches the archive without a token, through the grant.
	if resp, b := r.do(t, "GET", localMirror+u, "", nil); resp.StatusCode != 200 || !bytes.Equal(b, z) {
		t.Fatalf("archive through grant: %d", resp.StatusCode)
	}
	forged := strings.Replace(u, "linux_amd64", "darwin_arm64", 1)
	if resp, _ := r.do(t, "GET", localMirror+forged, "", nil); resp.StatusCode != 403 {
		t.Errorf("grant for another platform: %d", resp.StatusCode)
	}
	// A provider grant opens no module archive.
	mod := "/v1/archives/provider/registry.opentofu.org/hashicorp/local/linux_amd64/1.4.0.tar.gz?" + u[strings.Index(u, "?")+1:]
	if resp, _ := r.do(t, "GET", mod, "", nil); resp.StatusCode == 200 {
		t.Errorf("provider grant opened a module path")
	}
}
