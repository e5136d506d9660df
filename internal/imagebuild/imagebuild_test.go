package imagebuild_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/platdev/plat/internal/imagebuild"
	"github.com/platdev/plat/internal/testtools"
)

// TestMakeImage runs the real `make image` into a temp directory, reads the OCI
// layout back with go-containerregistry, checks the config, unpacks the layer
// and runs the entrypoint's --version and the step helper.
func TestMakeImage(t *testing.T) {
	testtools.SkipShort(t, "make and a static go build of plat")
	root := testtools.RepoRoot(t)
	out := t.TempDir()
	tarFile := filepath.Join(out, "plat-image.tar")
	cmd := exec.Command("make", "-C", root, "image", "IMAGE_OUT="+out, "IMAGE_TARBALL="+tarFile)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, b)
	}
	wantRef := "ghcr.io/platdev/plat:" + appVersion(t, root)

	p, err := layout.FromPath(filepath.Join(out, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("layout has %d manifests, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != wantRef {
		t.Errorf("ref.name = %q, want %q (the chart's default image)", got, wantRef)
	}
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != "amd64" {
		t.Errorf("descriptor platform = %+v, want linux/amd64", desc.Platform)
	}
	if desc.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %s, want OCI", desc.MediaType)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != imagebuild.BinaryPath {
		t.Errorf("entrypoint %q, want %q", got, imagebuild.BinaryPath)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	for _, k := range []string{"title", "source", "version", "revision"} {
		if cf.Config.Labels["org.opencontainers.image."+k] == "" {
			t.Errorf("label org.opencontainers.image.%s missing: %v", k, cf.Config.Labels)
		}
	}
	if v := cf.Config.Labels["org.opencontainers.image.version"]; v != appVersion(t, root) {
		t.Errorf("version label %q, want the chart's appVersion", v)
	}

	rootfs := unpack(t, img)
	for _, f := range []string{imagebuild.BinaryPath, imagebuild.StepPath} {
		st, err := os.Stat(filepath.Join(rootfs, f))
		if err != nil {
			t.Fatalf("%s not in the image: %v", f, err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", f, st.Mode().Perm())
		}
	}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		if _, err := os.Stat(filepath.Join(rootfs, imagebuild.CABundlePath)); err != nil {
			t.Errorf("CA bundle missing from the image: %v", err)
		}
	}
	if st, err := os.Stat(filepath.Join(rootfs, "tmp")); err != nil || !st.IsDir() {
		t.Errorf("/tmp missing from the image: %v", err)
	}
	entry := filepath.Join(rootfs, cf.Config.Entrypoint[0])
	b, err := exec.Command(entry, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", cf.Config.Entrypoint[0], err, b)
	}
	if !regexp.MustCompile(`^plat version \S+\n$`).Match(b) {
		t.Errorf("--version printed %q, want \"plat version X\"", b)
	}
	// The step helper maps drift's "found drift" (2) to success and runs the
	// image's plat; an unlisted code passes through.
	step := filepath.Join(rootfs, imagebuild.StepPath)
	if b, err := exec.Command(step, "--ok-codes", "0,2", "--", entry, "--version").CombinedOutput(); err != nil {
		t.Errorf("plat-step -- plat --version: %v\n%s", err, b)
	}
	err = exec.Command(step, "--", entry, "no-such-command").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("plat-step with a usage error: %v, want exit 2 passed through", err)
	}

	// The tarball holds the same image: the same config blob (its manifest
	// is rewritten in the docker format, so the manifest digest differs).
	timg, err := tarball.ImageFromPath(tarFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := img.ConfigName()
	c2, err := timg.ConfigName()
	if err != nil || c1 != c2 {
		t.Errorf("tarball image config %v (%v), layout %v", c2, err, c1)
	}
}

func appVersion(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy/helm/plat/Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^appVersion: *"?([^"\n]+)"?$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Chart.yaml has no appVersion")
	}
	return string(m[1])
}

// unpack extracts the image's file system into a temp dir.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		default:
			t.Fatalf("unexpected entry %s (type %c) in the image", h.Name, h.Typeflag)
		}
	}
}

func TestBuildRefusesDynamicBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no sh on PATH: the test needs a dynamically linked ELF to try")
	}
	_, err = imagebuild.Build(imagebuild.Options{Binary: sh})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("Build(%s) = %v, want a refusal naming CGO_ENABLED=0", sh, err)
	}
}

func TestBuildRefusesNonELF(t *testing.T) {
	f := filepath.Join(t.TempDir(), "plat")
	if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := imagebuild.Build(imagebuild.Options{Binary: f}); err == nil || !strings.Contains(err.Error(), f) {
		t.Fatalf("Build of a script = %v, want an error naming it", err)
	}
}
