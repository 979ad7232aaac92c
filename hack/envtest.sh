#!/usr/bin/env bash
# hack/envtest.sh - build (once) the binaries envtest needs and print the KUBEBUILDER_ASSETS path.
#
# Nothing can be downloaded from release sites on the machines this project runs on, so
# kube-apiserver and kubectl are built from the k8s.io/kubernetes Go module (with every
# k8s.io/<staging> module replaced by its published v0.x release), and etcd from
# go.etcd.io/etcd/server/v3 through a one-line etcdmain wrapper. Only the Go module proxy is used.
#
# The binaries are cached outside the checkout in a folder keyed by the Kubernetes, etcd and Go
# versions, so later runs (and other checkouts) skip the build:
#   ${KSTATES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kstates}/k8s/kube-<v>-etcd-<v>-<go>/bin
# The first build takes about 8 minutes on 2 cores; concurrent callers wait on a lock.
#
# Usage: hack/envtest.sh            prints the assets folder on stdout (logs go to stderr)
#        hack/envtest.sh --export   prints `export KUBEBUILDER_ASSETS=<folder>`
# Knobs: K8S_VERSION (v1.37.2), ETCD_VERSION (v3.6.16), KSTATES_CACHE, BUILD_NICE (nice level, 10).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
STAGING_VERSION=v0.${K8S_VERSION#v1.} # v1.37.2 -> v0.37.2 (k8s.io/api, client-go, ...)
GO=${GO:-go}
GO_VERSION=$("$GO" env GOVERSION)
CACHE=${KSTATES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kstates}
KEY=kube-$K8S_VERSION-etcd-$ETCD_VERSION-$GO_VERSION
ROOT=$CACHE/k8s/$KEY
BIN=$ROOT/bin
SRC=$ROOT/src
NICE=${BUILD_NICE:-10}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { printf '[envtest %s] %s\n' "$(date +%T)" "$*" >&2; }

have_all() { [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && [ -x "$BIN/etcd" ]; }

print_result() {
	if [ "${1:-}" = --export ]; then echo "export KUBEBUILDER_ASSETS=$BIN"; else echo "$BIN"; fi
}

if have_all; then
	print_result "${1:-}"
	exit 0
fi

mkdir -p "$BIN" "$SRC"
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
	log "another build holds $ROOT/.lock; waiting"
	flock 9
fi

# The `GoMod` field of `go mod download -json` (one field per line).
gomod_of() { "$GO" mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }

# kube_module writes a module that requires k8s.io/kubernetes and replaces each staging module.
kube_module() {
	local src=$SRC/kube
	[ -s "$src/go.sum" ] && return 0
	log "creating Go module $src for k8s.io/kubernetes $K8S_VERSION"
	rm -rf "$src" && mkdir -p "$src"
	(
		cd "$src"
		"$GO" mod init kstates.local/kube >/dev/null 2>&1
		"$GO" mod edit -require=k8s.io/kubernetes@"$K8S_VERSION"
		local kmod m
		kmod=$(gomod_of k8s.io/kubernetes@"$K8S_VERSION")
		for m in $(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod"); do
			"$GO" mod edit -replace="$m=$m@$STAGING_VERSION"
		done
		cat >tools.go <<-'EOF'
			//go:build tools

			package kube

			import (
				_ "k8s.io/kubernetes/cmd/kube-apiserver"
				_ "k8s.io/kubernetes/cmd/kubectl"
			)
		EOF
		"$GO" mod tidy >&2
	)
}

# build_kube builds kube-apiserver and kubectl in one `go build`, stamped with the release version
# (unstamped binaries report v0.0.0-master).
build_kube() {
	[ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && return 0
	kube_module
	local v=${K8S_VERSION#v} ldf="-s -w" p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=${v%%.*} -X $p.gitMinor=$(cut -d. -f2 <<<"$v") -X $p.gitTreeState=clean"
	done
	BUILD_TMP=$(mktemp -d "$ROOT/build.XXXXXX")
	trap 'rm -rf "$BUILD_TMP"' EXIT
	log "go build kube-apiserver kubectl $K8S_VERSION (first time: about 8 minutes on 2 cores)"
	local start=$SECONDS
	(cd "$SRC/kube" && nice -n "$NICE" "$GO" build -ldflags "$ldf" -o "$BUILD_TMP/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) >&2
	mv "$BUILD_TMP/kube-apiserver" "$BUILD_TMP/kubectl" "$BIN/"
	log "built kube-apiserver and kubectl in $((SECONDS - start))s"
}

# build_etcd builds the real etcd CLI: etcdmain is a thin layer over the embed package, so it
# accepts every flag envtest passes.
build_etcd() {
	[ -x "$BIN/etcd" ] && return 0
	local src=$SRC/etcd start=$SECONDS
	mkdir -p "$src"
	(
		cd "$src"
		[ -f go.mod ] || "$GO" mod init kstates.local/etcd >/dev/null 2>&1
		cat >main.go <<-'EOF'
			// Command etcd is the etcd server CLI, built from its Go module.
			package main

			import (
				"os"

				"go.etcd.io/etcd/server/v3/etcdmain"
			)

			func main() { etcdmain.Main(os.Args) }
		EOF
		"$GO" get go.etcd.io/etcd/server/v3@"$ETCD_VERSION" >&2
		"$GO" mod tidy >&2
		CGO_ENABLED=0 nice -n "$NICE" "$GO" build -ldflags "-s -w" -o "$BIN/etcd.tmp" .
		mv "$BIN/etcd.tmp" "$BIN/etcd"
	)
	log "built etcd $ETCD_VERSION in $((SECONDS - start))s"
}

build_etcd
build_kube
have_all || { log "binaries missing in $BIN after the build"; exit 1; }
print_result "${1:-}"
