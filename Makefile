# plat — see README.md. `make test` is what CI runs.
SHELL := bash
GO ?= go
TOOLS_BIN := $(or $(PLAT_TOOLS_DIR),$(HOME)/.cache/plat-tools)/bin
export PATH := $(TOOLS_BIN):$(PATH)

.PHONY: all build demo image tools test short check unit bench bench-smoke fuzz clean

all: build

build:
	$(GO) build -buildvcs=auto -o bin/plat ./cmd/plat

## demo: render the example stacks with the embedded catalog (no external services).
demo: build
	./bin/plat render -f examples/*/platform.yaml -o out
	@echo "rendered into ./out"

## image: the container image, without a container engine: a static plat (CGO_ENABLED=0)
## on an empty base, user 65532, into the OCI layout $(IMAGE_OUT)/oci (and the tarball
## $(IMAGE_TARBALL) when set). The name matches the Helm chart's default image
## (deploy/helm/plat: image.repository, tag = appVersion). See docs/deploy.md.
IMAGE_REPOSITORY ?= ghcr.io/platdev/plat
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' deploy/helm/plat/Chart.yaml)
IMAGE_OUT ?= bin/image
IMAGE_TARBALL ?=
IMAGE_CA_BUNDLE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
IMAGE_EXTRA ?=
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -buildvcs=auto -o $(IMAGE_OUT)/plat ./cmd/plat
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o $(IMAGE_OUT)/plat-step ./internal/imagebuild/platstep
	$(GO) run ./internal/imagebuild/mkimage --binary $(IMAGE_OUT)/plat --step $(IMAGE_OUT)/plat-step \
	  --ref $(IMAGE_REPOSITORY):$(IMAGE_TAG) --version $(IMAGE_TAG) \
	  --revision "$$(git rev-parse HEAD 2>/dev/null || true)" \
	  --ca-bundle "$(IMAGE_CA_BUNDLE)" --extra "$(IMAGE_EXTRA)" \
	  --layout $(IMAGE_OUT)/oci --tarball "$(IMAGE_TARBALL)"

## tools: build or install every real tool the tests drive (cached outside the tree).
tools:
	bash scripts/tools.sh all

## check: static checks.
check: tools
	$(GO) vet ./...
	staticcheck ./...
	$(GO) mod tidy -diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

## test: everything CI runs: tools, static checks, a smoke run of every benchmark,
## and every test with the race detector.
test: tools check bench-smoke
	$(GO) test -race -timeout 45m ./...

## short: the fast tier: unit, golden and testscript tests that need no real tool,
## offline and without root (tests that need one say which and skip). Not what CI runs.
short:
	$(GO) test -short ./...

## unit: the tests alone, without installing tools first.
unit:
	$(GO) test ./...

## bench: plat side by side with its peers (cue, conftest, nginx, tofu loops); writes BENCHMARKS.md.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/benchcmp/platbench -out BENCHMARKS.md

## bench-smoke: every benchmark once on tiny inputs, so they do not rot (part of make test).
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./... >/dev/null
	$(GO) run ./internal/benchcmp/platbench -smoke >/dev/null
	@echo "bench-smoke: ok"

clean:
	rm -rf bin out

## fuzz: run each fuzz target for a while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done
