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
# The build functions live in hack/lib.sh (shared with hack/cluster-up.sh).
#
# Usage: hack/envtest.sh            prints the assets folder on stdout (logs go to stderr)
#        hack/envtest.sh --export   prints `export KUBEBUILDER_ASSETS=<folder>`
# Knobs: K8S_VERSION (v1.37.2), ETCD_VERSION (v3.6.16), KSTATES_CACHE, BUILD_NICE (nice level, 10).
set -euo pipefail

LOG_TAG=envtest
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

have_all() { [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && [ -x "$BIN/etcd" ]; }

print_result() {
	if [ "${1:-}" = --export ]; then echo "export KUBEBUILDER_ASSETS=$BIN"; else echo "$BIN"; fi
}

if have_all; then
	print_result "${1:-}"
	exit 0
fi

lock_cache
build_etcd
build_kube kube-apiserver kubectl
have_all || { log "binaries missing in $BIN after the build"; exit 1; }
print_result "${1:-}"
