#!/usr/bin/env bash
# Builds the Kubernetes test tools from the Go module proxy: etcd, kube-apiserver, kubectl (with
# kustomize) and mailpit (an SMTP server with an HTTP API). There are no release downloads on these
# machines, so everything is compiled; a cold build takes about 7 minutes on 2 cores, a warm run
# under a second. Binaries and Go caches live outside the work tree (so a new clone on the same
# machine reuses them) and are linked into .tools/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

K8S_VERSION=1.35.4
ETCD_VERSION=3.6.16
MAILPIT_VERSION=1.33.1
GO_MIN_MINOR=26 # etcd 3.6.16's go.mod says go 1.26.0

cache=${BOTINTELIGENTE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/botinteligente}/kube
bin=$cache/bin-k8s$K8S_VERSION-etcd$ETCD_VERSION-mailpit$MAILPIT_VERSION
say() { printf '[kube-tools] %s\n' "$*" >&2; }
fail() { printf '[kube-tools] cannot continue: %s\n' "$*" >&2; exit 1; }

link_all() {
  mkdir -p "$root/.tools/bin"
  for tool in etcd kube-apiserver kubectl mailpit; do ln -sf "$bin/$tool" "$root/.tools/bin/$tool"; done
}
# `kube-tools.sh mailpit` (npm start) builds only mailpit: a newcomer's first start needs no Kubernetes.
only=${1:-all}
# .mailpit-ui marks a mailpit built with its web UI (an older cache holds one without it).
mailpit_ready() { [ -x "$bin/mailpit" ] && [ -f "$bin/.mailpit-ui" ]; }
if { [ -f "$bin/.complete" ] || [ "$only" = mailpit ]; } && mailpit_ready; then
  link_all
  say "kube-apiserver $K8S_VERSION, kubectl, etcd $ETCD_VERSION, mailpit $MAILPIT_VERSION present"
  exit 0
fi

# Go: the machine's when new enough; an older one fetches the right toolchain from the module proxy.
go=$(command -v go || ls /usr/local/go/bin/go 2>/dev/null || true)
[ -n "$go" ] || fail "Go is needed to build kube-apiserver and etcd (Debian: apt-get install golang, then this script fetches Go 1.$GO_MIN_MINOR)"
minor=$("$go" env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${minor:-0}" -ge "$GO_MIN_MINOR" ]; then export GOTOOLCHAIN=local; else export GOTOOLCHAIN=go1.$GO_MIN_MINOR.8; fi
export PATH="$(dirname "$go"):$PATH"
export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOPATH=$cache/go/path
export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
mkdir -p "$bin" "$cache/src"
started=$SECONDS

# kube-apiserver and etcd cannot be `go install`ed: their go.mod files carry replace directives.
# A throwaway consumer module requires them instead.
if [ "$only" = all ] && [ ! -x "$bin/etcd" ]; then
  say "building etcd $ETCD_VERSION"
  m=$cache/src/etcd; rm -rf "$m"; mkdir -p "$m"
  printf 'module botinteligente/etcd\n\ngo 1.26.0\n' > "$m/go.mod"
  (cd "$m" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" 2>"$m/get.log" || { cat "$m/get.log" >&2; exit 1; }
    go build -trimpath -ldflags '-s -w' -o "$bin/etcd" go.etcd.io/etcd/server/v3) || fail "etcd build failed"
fi

if [ "$only" = all ] && { [ ! -x "$bin/kube-apiserver" ] || [ ! -x "$bin/kubectl" ]; }; then
  say "building kube-apiserver and kubectl $K8S_VERSION (about 6 minutes cold)"
  m=$cache/src/kube; rm -rf "$m"; mkdir -p "$m"
  printf 'module botinteligente/kube\n\ngo 1.25.0\n' > "$m/go.mod"
  modfile=$(cd "$m" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$modfile" ] || fail "could not download k8s.io/kubernetes@v$K8S_VERSION"
  # k8s.io/kubernetes replaces its staging modules with ./staging/...; point them at their published versions.
  {
    printf 'module botinteligente/kube\n\ngo 1.25.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_VERSION"
    sed -n '/^replace (/,/^)/p' "$modfile" | awk -v v="v0.${K8S_VERSION#1.}" '$3 ~ /^\.\/staging\// {print "\t" $1 " => " $1 " " v}'
    printf ')\n'
  } > "$m/go.mod"
  ldflags='-s -w'
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_minor=${K8S_VERSION#1.}; k8s_minor=${k8s_minor%%.*}
    ldflags="$ldflags -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean"
  done
  (cd "$m" && go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" 2>"$m/get.log" \
      || { cat "$m/get.log" >&2; exit 1; }
    go build -trimpath -ldflags "$ldflags" -o "$bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) \
    || fail "kube-apiserver/kubectl build failed"
fi

# `go install` would give a mailpit whose web page is blank: its Go module carries the UI's sources
# but not their bundle. So the module is copied, its UI bundled with the packages pinned in
# scripts/mailpit-ui (its own package.json, with rapidoc at 9: 12 is not on the registry), and built.
if ! mailpit_ready; then
  say "building mailpit $MAILPIT_VERSION with its web UI"
  command -v npm >/dev/null || fail "npm is needed to bundle mailpit's web UI"
  m=$cache/src/mailpit; rm -rf "$m"; mkdir -p "$m"
  printf 'module botinteligente/mailpit\n\ngo 1.25.0\n' > "$m/go.mod"
  dir=$(cd "$m" && go mod download -json "github.com/axllent/mailpit@v$MAILPIT_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir" ] || fail "could not download github.com/axllent/mailpit@v$MAILPIT_VERSION"
  rm -rf "$m" && cp -r "$dir" "$m" && chmod -R u+w "$m"
  cp "$root/scripts/mailpit-ui/package.json" "$root/scripts/mailpit-ui/package-lock.json" "$m/"
  (cd "$m" && npm install --ignore-scripts --no-audit --no-fund >"$m/ui.log" 2>&1 && MINIFY=true node esbuild.config.mjs >>"$m/ui.log" 2>&1) \
    || { cat "$m/ui.log" >&2; fail "mailpit's web UI did not build"; }
  (cd "$m" && go build -trimpath -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=v$MAILPIT_VERSION" -o "$bin/mailpit" . 2>"$m/build.log") \
    || { cat "$m/build.log" >&2; fail "mailpit build failed"; }
  touch "$bin/.mailpit-ui"
fi

[ "$only" = all ] && touch "$bin/.complete"
link_all
say "built in $((SECONDS - started)) s into $bin"
