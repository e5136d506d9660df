#!/usr/bin/env bash
# tools.sh builds or installs, once, every real tool the tests and benchmarks drive,
# and caches the binaries outside the source tree, keyed by version, so a second run
# costs nothing. Prints the bin directory on stdout when done.
#
#   scripts/tools.sh [all|test|bench|NAME...]
#
# Cache: $PLAT_TOOLS_DIR (default $HOME/.cache/plat-tools). See ../shared/docs/real-clients.md.
set -euo pipefail

TOOLS_DIR=${PLAT_TOOLS_DIR:-$HOME/.cache/plat-tools}
BIN=$TOOLS_DIR/bin
WORK=$TOOLS_DIR/src
mkdir -p "$BIN" "$WORK"
# One builder at a time: test packages run in parallel and may all ask for a tool.
exec 9>"$TOOLS_DIR/.lock"
flock 9
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

TOFU_VERSION=1.10.6
TERRAFORM_VERSION=1.5.7
LOCAL_PROVIDER_VERSION=1.4.0
KUBE_VERSION=1.34.2
VERSITYGW_VERSION=1.8.0
CUE_VERSION=0.17.1
CONFTEST_VERSION=0.71.1
STATICCHECK_VERSION=0.8.2
HELM_VERSION=3.22.0
BACKSTAGE_CATALOG_MODEL_VERSION=1.10.1

log() { echo "tools: $*" >&2; }

# have NAME VERSION: true when the versioned binary is cached; links BIN/NAME to it.
have() {
  local name=$1 version=$2
  if [ -x "$BIN/$name-$version" ]; then
    ln -sf "$name-$version" "$BIN/$name"
    return 0
  fi
  return 1
}

# module_copy MOD@VER DEST: a writable copy of a module's source from the module proxy.
module_copy() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "cannot download $1"; return 1; }
  rm -rf "$2"
  cp -r "$dir" "$2"
  chmod -R u+w "$2"
}

tofu() {
  have tofu $TOFU_VERSION && return
  log "building OpenTofu $TOFU_VERSION (about 4 minutes)"
  module_copy github.com/opentofu/opentofu@v$TOFU_VERSION "$WORK/opentofu"
  (cd "$WORK/opentofu" && go build -trimpath -o "$BIN/tofu-$TOFU_VERSION.tmp" ./cmd/tofu)
  mv "$BIN/tofu-$TOFU_VERSION.tmp" "$BIN/tofu-$TOFU_VERSION"
  rm -rf "$WORK/opentofu"
  have tofu $TOFU_VERSION
}

terraform() {
  have terraform $TERRAFORM_VERSION && return
  log "building Terraform $TERRAFORM_VERSION (a few minutes)"
  module_copy github.com/hashicorp/terraform@v$TERRAFORM_VERSION "$WORK/terraform"
  (cd "$WORK/terraform" && go build -trimpath -o "$BIN/terraform-$TERRAFORM_VERSION.tmp" .)
  mv "$BIN/terraform-$TERRAFORM_VERSION.tmp" "$BIN/terraform-$TERRAFORM_VERSION"
  rm -rf "$WORK/terraform"
  have terraform $TERRAFORM_VERSION
}

provider_local() {
  local v=$LOCAL_PROVIDER_VERSION
  local dest=$TOOLS_DIR/mirror/registry.opentofu.org/hashicorp/local/$v/linux_amd64
  if [ ! -x "$dest/terraform-provider-local_v$v" ]; then
    log "building hashicorp/local provider $v"
    module_copy github.com/hashicorp/terraform-provider-local@v$v "$WORK/provider-local"
    mkdir -p "$dest"
    (cd "$WORK/provider-local" && go build -trimpath -o "$dest/terraform-provider-local_v$v.tmp" .)
    mv "$dest/terraform-provider-local_v$v.tmp" "$dest/terraform-provider-local_v$v"
    rm -rf "$WORK/provider-local"
  fi
  # The same mirror serves configurations that name registry.terraform.io.
  mkdir -p "$TOOLS_DIR/mirror/registry.terraform.io/hashicorp/local/$v"
  ln -sfn "$dest" "$TOOLS_DIR/mirror/registry.terraform.io/hashicorp/local/$v/linux_amd64"
}

kube_apiserver() {
  have kube-apiserver $KUBE_VERSION && return
  log "building kube-apiserver $KUBE_VERSION (about 6 minutes)"
  local d=$WORK/kube-apiserver
  rm -rf "$d" && mkdir -p "$d"
  local staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller"
  {
    echo "module plat.local/kubeapiserver"
    echo "go 1.24"
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    for m in $staging; do echo "replace k8s.io/$m => k8s.io/$m v0.${KUBE_VERSION#1.}"; done
  } > "$d/go.mod"
  printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\nfunc main() {}\n' > "$d/main.go"
  (cd "$d" && go mod tidy >/dev/null && go build -trimpath -o "$BIN/kube-apiserver-$KUBE_VERSION.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$BIN/kube-apiserver-$KUBE_VERSION.tmp" "$BIN/kube-apiserver-$KUBE_VERSION"
  rm -rf "$d"
  have kube-apiserver $KUBE_VERSION
}

goinstall() { # NAME VERSION PKG@VERSION
  have "$1" "$2" && return
  log "installing $3"
  GOBIN=$WORK/gobin-$1 go install "$3"
  mv "$WORK/gobin-$1/$1" "$BIN/$1-$2"
  rm -rf "$WORK/gobin-$1"
  have "$1" "$2"
}
versitygw() { goinstall versitygw $VERSITYGW_VERSION github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION; }
cue() { goinstall cue $CUE_VERSION cuelang.org/go/cmd/cue@v$CUE_VERSION; }
conftest() { goinstall conftest $CONFTEST_VERSION github.com/open-policy-agent/conftest@v$CONFTEST_VERSION; }
staticcheck() { goinstall staticcheck $STATICCHECK_VERSION honnef.co/go/tools/cmd/staticcheck@v$STATICCHECK_VERSION; }
helm() { # about 3.5 minutes; the tests run it offline with HELM_*_HOME in a temp dir
  have helm $HELM_VERSION && return
  log "building helm $HELM_VERSION (about 3.5 minutes)"
  goinstall helm $HELM_VERSION helm.sh/helm/v3/cmd/helm@v$HELM_VERSION
}

# nodejs_npm: Node.js and npm, from Debian when the machine has none.
nodejs_npm() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return; fi
  apt_packages nodejs npm
}

# backstage_catalog_model: the npm package @backstage/catalog-model, installed
# once under TOOLS_DIR/npm/backstage-catalog-model-VERSION/node_modules (the
# tests set NODE_PATH to it); later runs need no network.
backstage_catalog_model() {
  local v=$BACKSTAGE_CATALOG_MODEL_VERSION d=$TOOLS_DIR/npm/backstage-catalog-model-$BACKSTAGE_CATALOG_MODEL_VERSION
  nodejs_npm
  if [ ! -f "$d/node_modules/@backstage/catalog-model/package.json" ]; then
    log "npm install @backstage/catalog-model@$v"
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    echo '{"private": true}' > "$d.tmp/package.json"
    (cd "$d.tmp" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error "@backstage/catalog-model@$v" >/dev/null)
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
}

apt_packages() { # Debian packages: etcd, pre-commit, PostgreSQL, chromium, load generators, nginx
  local want=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || want+=("$p"); done
  [ ${#want[@]} -eq 0 ] && return
  log "apt-get install ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}
apt_test() { apt_packages etcd-server pre-commit postgresql git openssl; }
# Debian's chromium (about 155 MB) for the portal's headless-browser tests (internal/browsertest).
chromium() { apt_packages chromium; }
apt_bench() { apt_packages wrk hyperfine nginx; }

run() {
  case $1 in
    all) run test; run bench ;;
    test) apt_test; chromium; staticcheck; versitygw; provider_local; tofu; terraform; kube_apiserver; helm; backstage_catalog_model ;;
    bench) apt_bench; apt_packages postgresql; versitygw; cue; conftest; tofu; provider_local ;;
    etcd|pre_commit|pg_ctl|initdb|postgres|git|openssl) apt_test ;;
    wrk|hyperfine|nginx) apt_bench ;;
    node|npm) nodejs_npm ;;
    *) "$1" ;;
  esac
}

[ $# -eq 0 ] && set -- all
for t in "$@"; do run "${t//-/_}"; done
echo "$BIN"
