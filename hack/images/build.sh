#!/usr/bin/env bash
# hack/images/build.sh - assemble the project's images locally (no registry is reachable) and,
# when the local cluster's containerd runs, import them into it.
#
#   hack/images/build.sh [--no-import] [pause|tasks|manager|all ...]     (default: all)
#
# Images (fixed tags, never :latest, so pods with imagePullPolicy: Never/IfNotPresent find them):
#   registry.k8s.io/pause:3.10        the pod sandbox (hack/images/pause), needed by the kubelet
#   docker.io/library/busybox:1.35    Debian's busybox-static (its version), for debugging pods
#   kstates.local/order-tasks:dev     examples/order/tasks: the order demo's tasks, first arg = task
#   kstates.local/testtask:dev        test/e2e/testtask: echo, fail, sleep, output, exit, env
#   kstates.local/manager:dev         cmd/manager as a single static binary (user 65532)
# Each is a single layer of statically linked (CGO_ENABLED=0) Go binaries, packed by
# hack/images/imgbuild into <root>/images/<name>.tar and imported with
# `ctr -n k8s.io images import`. Rebuilding unchanged sources gives the same digests.
#
# Knobs: KSTATES_CLUSTER_ROOT (/tmp/kstates-cluster), KSTATES_IMAGE_TAG (dev).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
TAG=${KSTATES_IMAGE_TAG:-dev}
IMAGES=$CLUSTER_ROOT/images
TOOLS=$CLUSTER_ROOT/tools
CTRD_SOCK=$CLUSTER_ROOT/run/containerd/containerd.sock
GO=${GO:-go}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export CGO_ENABLED=0

log() { printf '[images %s] %s\n' "$(date +%T)" "$*" >&2; }

import=1
what=()
for a in "$@"; do
	case $a in
	--no-import) import=0 ;;
	pause | tasks | manager | all) what+=("$a") ;;
	*) echo "usage: $0 [--no-import] [pause|tasks|manager|all ...]" >&2; exit 2 ;;
	esac
done
[ ${#what[@]} -eq 0 ] && what=(all)
want() { local w; for w in "${what[@]}"; do [ "$w" = "$1" ] || [ "$w" = all ] && return 0; done; return 1; }

mkdir -p "$IMAGES" "$TOOLS/bin"
start=$SECONDS
# The image tools: their own module (go-containerregistry stays out of the root go.mod).
"$GO" build -C "$HERE" -trimpath -ldflags "-s -w" -o "$TOOLS/" ./imgbuild ./pause

built=()
# image NAME REF ARGS...: pack with imgbuild into $IMAGES/NAME.tar.
image() {
	local name=$1 ref=$2
	shift 2
	"$TOOLS/imgbuild" -ref "$ref" -o "$IMAGES/$name.tar.tmp" "$@" 2>/dev/null
	mv "$IMAGES/$name.tar.tmp" "$IMAGES/$name.tar"
	built+=("$name")
	log "$ref -> $IMAGES/$name.tar"
}

if want pause; then
	image pause registry.k8s.io/pause:3.10 -entrypoint /pause "$TOOLS/pause:/pause"
	if [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ! ldd /bin/busybox >/dev/null 2>&1; then
		bbv=$(/bin/busybox 2>&1 | sed -n '1s/^BusyBox v\([0-9]*\.[0-9]*\).*/\1/p')
		image busybox "docker.io/library/busybox:${bbv:-1}" -busybox /bin/busybox
	fi
fi
if want tasks; then
	(cd "$REPO" && "$GO" build -trimpath -ldflags "-s -w" -o "$TOOLS/bin/" ./examples/order/tasks ./test/e2e/testtask)
	mv "$TOOLS/bin/tasks" "$TOOLS/bin/order-tasks"
	image order-tasks "kstates.local/order-tasks:$TAG" -entrypoint /order-tasks "$TOOLS/bin/order-tasks:/order-tasks"
	image testtask "kstates.local/testtask:$TAG" -entrypoint /testtask "$TOOLS/bin/testtask:/testtask"
fi
if want manager; then
	if [ -d "$REPO/cmd/manager" ]; then
		(cd "$REPO" && "$GO" build -trimpath -ldflags "-s -w" -o "$TOOLS/bin/manager" ./cmd/manager)
		image manager "kstates.local/manager:$TAG" -entrypoint /manager -user 65532:65532 "$TOOLS/bin/manager:/manager"
	else
		log "no cmd/manager: no manager image"
	fi
fi
log "built ${built[*]} in $((SECONDS - start))s"

if [ "$import" = 1 ]; then
	if [ -S "$CTRD_SOCK" ] && ctr -a "$CTRD_SOCK" version >/dev/null 2>&1; then
		t=$SECONDS
		for n in "${built[@]}"; do
			ctr -a "$CTRD_SOCK" -n k8s.io images import "$IMAGES/$n.tar" >/dev/null
		done
		log "imported ${built[*]} into the cluster's containerd in $((SECONDS - t))s"
	else
		log "the local cluster's containerd is not running: not imported (hack/cluster-up.sh imports them)"
	fi
fi
