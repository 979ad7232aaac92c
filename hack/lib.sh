# hack/lib.sh - shared by hack/envtest.sh and hack/cluster-up.sh (source it; it runs nothing).
#
# Kubernetes and etcd binaries are built from Go modules (only the Go module proxy is reachable
# on the machines this project runs on) and cached outside the checkout in a folder keyed by
# the Kubernetes, etcd and Go versions, so later runs (and other checkouts) skip the build:
#   ${KSTATES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kstates}/k8s/kube-<v>-etcd-<v>-<go>/bin
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl come from one
# module that requires k8s.io/kubernetes and replaces every k8s.io/<staging> module with its
# published v0.x release; etcd from go.etcd.io/etcd/server/v3 through a one-line etcdmain wrapper.
#
# Knobs: K8S_VERSION (v1.37.2), ETCD_VERSION (v3.6.16), KSTATES_CACHE, BUILD_NICE (nice level, 10),
# GO (go). Callers may set LOG_TAG (the prefix of log lines) before sourcing.

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
LOG_TAG=${LOG_TAG:-kstates}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

# KUBE_COMMANDS are the k8s.io/kubernetes commands the cached module can build.
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%T)" "$*" >&2; }

# lock_cache takes the cache folder's build lock (fd 9) for the rest of the calling script.
lock_cache() {
	mkdir -p "$BIN" "$SRC"
	exec 9>"$ROOT/.lock"
	if ! flock -n 9; then
		log "another build holds $ROOT/.lock; waiting"
		flock 9
	fi
}

# The `GoMod` field of `go mod download -json` (one field per line).
gomod_of() { "$GO" mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }

# kube_module writes a module that requires k8s.io/kubernetes and replaces each staging module.
# A module written by an older version of this script (importing fewer commands) is extended.
kube_module() {
	local src=$SRC/kube
	if [ -s "$src/go.sum" ]; then
		if [ "$(kube_tools_go)" != "$(cat "$src/tools.go" 2>/dev/null)" ]; then
			log "adding commands to the Go module $src"
			kube_tools_go >"$src/tools.go"
			(cd "$src" && "$GO" mod tidy) >&2 || return 1
		fi
		return 0
	fi
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
		kube_tools_go >tools.go
		"$GO" mod tidy >&2
	)
}

kube_tools_go() {
	local c
	printf '//go:build tools\n\npackage kube\n\nimport (\n'
	for c in "${KUBE_COMMANDS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
	printf ')\n'
}

# and_list "a" "b" "c" prints "a, b and c".
and_list() {
	local out="" i n=$#
	for ((i = 1; i <= n; i++)); do
		if [ "$i" -eq 1 ]; then out=${!i}; elif [ "$i" -eq "$n" ]; then out+=" and ${!i}"; else out+=", ${!i}"; fi
	done
	printf '%s' "$out"
}

# build_kube CMD... builds the missing ones of the given k8s.io/kubernetes commands in one
# `go build` (shared packages compile once), stamped with the release version (unstamped
# binaries report v0.0.0-master), niced: other work shares the 2 cores.
build_kube() {
	local want=() c
	for c in "$@"; do [ -x "$BIN/$c" ] || want+=("$c"); done
	[ ${#want[@]} -eq 0 ] && return 0
	kube_module
	local v=${K8S_VERSION#v} ldf="-s -w" p pkgs=() tmp start=$SECONDS
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=${v%%.*} -X $p.gitMinor=$(cut -d. -f2 <<<"$v") -X $p.gitTreeState=clean"
	done
	for c in "${want[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
	tmp=$(mktemp -d "$ROOT/build.XXXXXX")
	log "go build ${want[*]} $K8S_VERSION (first time: about 8 minutes on 2 cores)"
	if ! (cd "$SRC/kube" && nice -n "$NICE" "$GO" build -ldflags "$ldf" -o "$tmp/" "${pkgs[@]}") >&2; then
		rm -rf "$tmp"
		return 1
	fi
	for c in "${want[@]}"; do mv "$tmp/$c" "$BIN/"; done
	rm -rf "$tmp"
	log "built $(and_list "${want[@]}") in $((SECONDS - start))s"
}

# build_etcd builds the real etcd CLI: etcdmain is a thin layer over the embed package, so it
# accepts every flag envtest and kube tooling pass.
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
