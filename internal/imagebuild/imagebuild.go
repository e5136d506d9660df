// Package imagebuild assembles plat's container image without a container
// engine: one layer holding the static plat binary (and a CA bundle) appended
// onto an empty base with go-containerregistry, written as an OCI image layout
// directory and, optionally, a docker-loadable tarball. It is a build tool
// (driven by `make image` through ./internal/imagebuild/mkimage) and is never
// linked into plat itself.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fixed parts of the image, relied on by the Helm chart (deploy/helm/plat).
const (
	// BinaryPath is where the plat binary lives in the image; it is the entrypoint.
	BinaryPath = "/usr/bin/plat"
	// StepPath is where the Job step helper (./internal/imagebuild/platstep)
	// lives, for the chart's sharded drift Job: the image has no shell.
	StepPath = "/usr/bin/plat-step"
	// CABundlePath is where the CA certificates go, the first place Go's
	// crypto/x509 looks on Linux.
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// User is the numeric user (and group) the image runs as: not root.
	User = "65532"
	// OS and Architecture are the only platform built.
	OS           = "linux"
	Architecture = "amd64"
)

// File is one extra file copied into the image (for example a tofu binary for
// drift checks).
type File struct {
	Source string // path on the build machine
	Dest   string // absolute path in the image
	Mode   int64  // permission bits, 0755 for an executable
}

// Options say what goes into the image.
type Options struct {
	// Binary is the static linux/amd64 plat binary (CGO_ENABLED=0).
	Binary string
	// CABundle is a PEM file of CA certificates copied to CABundlePath, so
	// the registry can reach S3 and OIDC issuers over HTTPS; empty leaves it out.
	CABundle string
	// Extra files, each owned by root and not writable by the image's user.
	Extra []File
	// Ref names the image (repository:tag), recorded in the layout's index
	// (org.opencontainers.image.ref.name) and in the tarball.
	Ref string
	// Labels become config labels; Version, Revision and Created fill the
	// standard org.opencontainers.image.* ones when set.
	Labels   map[string]string
	Version  string
	Revision string
	// Created is the image's creation time; the zero time gives a
	// reproducible image (the epoch), like every file's mtime in the layer.
	Created time.Time
}

// Build returns the image described by opts.
func Build(opts Options) (v1.Image, error) {
	if opts.Binary == "" {
		return nil, errors.New("imagebuild: no plat binary given")
	}
	if err := checkStaticELF(opts.Binary); err != nil {
		return nil, err
	}
	files := []File{{Source: opts.Binary, Dest: BinaryPath, Mode: 0o755}}
	if opts.CABundle != "" {
		files = append(files, File{Source: opts.CABundle, Dest: CABundlePath, Mode: 0o644})
	}
	files = append(files, opts.Extra...)
	layerTar, err := layerTar(files, opts.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("imagebuild: layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{CreatedBy: "plat imagebuild", Created: v1.Time{Time: opts.Created}},
	})
	if err != nil {
		return nil, fmt.Errorf("imagebuild: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("imagebuild: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = OS
	cf.Architecture = Architecture
	cf.Created = v1.Time{Time: opts.Created}
	cf.Config.Entrypoint = []string{BinaryPath}
	cf.Config.Cmd = nil
	cf.Config.User = User + ":" + User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/usr/bin", "HOME=/tmp"}
	cf.Config.Labels = labels(opts)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: config: %w", err)
	}
	return img, nil
}

func labels(opts Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "plat",
		"org.opencontainers.image.description": "Golden-path compiler, module registry and drift detector for platform teams",
		"org.opencontainers.image.source":      "https://github.com/platdev/plat",
	}
	if opts.Version != "" {
		l["org.opencontainers.image.version"] = opts.Version
	}
	if opts.Revision != "" {
		l["org.opencontainers.image.revision"] = opts.Revision
	}
	if !opts.Created.IsZero() {
		l["org.opencontainers.image.created"] = opts.Created.UTC().Format(time.RFC3339)
	}
	for k, v := range opts.Labels {
		l[k] = v
	}
	return l
}

// layerTar writes the files, and every parent directory, into one tar stream
// owned by root with fixed mtimes, in a stable order.
func layerTar(files []File, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	// /tmp exists (world-writable, sticky) so that a read-only root file
	// system can mount an emptyDir over it, and so HOME points somewhere.
	entries := []string{"/tmp/"}
	seen := map[string]bool{}
	for _, f := range files {
		if !path.IsAbs(f.Dest) || path.Clean(f.Dest) != f.Dest || f.Dest == "/" {
			return nil, fmt.Errorf("imagebuild: destination %q is not a clean absolute file path", f.Dest)
		}
		if seen[f.Dest] {
			return nil, fmt.Errorf("imagebuild: two files for %s", f.Dest)
		}
		seen[f.Dest] = true
		for d := path.Dir(f.Dest); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		entries = append(entries, d+"/")
	}
	sort.Strings(entries)
	for _, d := range entries {
		mode := int64(0o755)
		if d == "/tmp/" {
			mode = 0o1777
		}
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/"), Mode: mode, ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
	}
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Dest < sorted[j].Dest })
	for _, f := range sorted {
		b, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, fmt.Errorf("imagebuild: %w", err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.Dest, "/"), Mode: mode & 0o755, Size: int64(len(b)), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkStaticELF refuses a binary that is not a linux/amd64 ELF executable
// without a dynamic loader: on an empty base it could not start.
func checkStaticELF(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("imagebuild: %s: %w", p, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("imagebuild: %s is built for %v, not linux/amd64 (GOOS=linux GOARCH=amd64)", p, f.Machine)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("imagebuild: %s is dynamically linked; build it with CGO_ENABLED=0", p)
		}
	}
	return nil
}

// WriteLayout writes img into an OCI image layout directory at dir (created,
// or replaced if it holds a layout already), its descriptor annotated with
// ref and the platform.
func WriteLayout(dir string, img v1.Image, ref string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("imagebuild: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("imagebuild: layout %s: %w", dir, err)
	}
	anns := map[string]string{}
	if ref != "" {
		anns["org.opencontainers.image.ref.name"] = ref
	}
	err = p.AppendImage(img,
		layout.WithAnnotations(anns),
		layout.WithPlatform(v1.Platform{OS: OS, Architecture: Architecture}))
	if err != nil {
		return fmt.Errorf("imagebuild: layout %s: %w", dir, err)
	}
	return nil
}

// WriteTarball writes img as a tarball that `docker load` and `podman load`
// accept, tagged ref.
func WriteTarball(file string, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("imagebuild: image name %q: %w", ref, err)
	}
	tmp := file + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("imagebuild: tarball: %w", err)
	}
	return os.Rename(tmp, file)
}
