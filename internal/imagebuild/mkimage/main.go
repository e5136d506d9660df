// Command mkimage builds plat's container image into an OCI layout directory
// (and optionally a tarball) without a container engine. `make image` runs it;
// see docs/deploy.md.
//
//	go run ./internal/imagebuild/mkimage --binary bin/linux_amd64/plat \
//	    --ref ghcr.io/platdev/plat:0.1.0 --layout bin/image [--tarball bin/image.tar]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/platdev/plat/internal/imagebuild"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	var opts imagebuild.Options
	var layoutDir, tarFile, created, extra, step string
	fs.StringVar(&opts.Binary, "binary", "", "static linux/amd64 plat binary")
	fs.StringVar(&opts.Ref, "ref", "", "image name, repository:tag")
	fs.StringVar(&opts.CABundle, "ca-bundle", "", "PEM CA bundle copied to "+imagebuild.CABundlePath)
	fs.StringVar(&opts.Version, "version", "", "org.opencontainers.image.version label")
	fs.StringVar(&opts.Revision, "revision", "", "org.opencontainers.image.revision label")
	fs.StringVar(&created, "created", "", "creation time, RFC 3339 (default: the epoch, reproducible)")
	fs.StringVar(&step, "step", "", "static plat-step binary (./internal/imagebuild/platstep) copied to "+imagebuild.StepPath)
	fs.StringVar(&extra, "extra", "", "more files, SRC:DEST[,SRC:DEST...], executable (for example a tofu binary)")
	fs.StringVar(&layoutDir, "layout", "", "OCI layout directory to write (replaced)")
	fs.StringVar(&tarFile, "tarball", "", "also write a docker-loadable tarball")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if layoutDir == "" || opts.Ref == "" {
		return fmt.Errorf("--layout and --ref are required")
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return fmt.Errorf("--created: %w", err)
		}
		opts.Created = t
	}
	if step != "" {
		opts.Extra = append(opts.Extra, imagebuild.File{Source: step, Dest: imagebuild.StepPath, Mode: 0o755})
	}
	if extra != "" {
		for _, pair := range strings.Split(extra, ",") {
			src, dest, ok := strings.Cut(pair, ":")
			if !ok {
				return fmt.Errorf("--extra %q: want SRC:DEST", pair)
			}
			opts.Extra = append(opts.Extra, imagebuild.File{Source: src, Dest: dest, Mode: 0o755})
		}
	}
	img, err := imagebuild.Build(opts)
	if err != nil {
		return err
	}
	if err := imagebuild.WriteLayout(layoutDir, img, opts.Ref); err != nil {
		return err
	}
	if tarFile != "" {
		if err := imagebuild.WriteTarball(tarFile, img, opts.Ref); err != nil {
			return err
		}
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", opts.Ref, d)
	return nil
}
