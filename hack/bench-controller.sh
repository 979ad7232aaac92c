#!/usr/bin/env bash
# Benchmark of the Execution controller on envtest (kube-apiserver + etcd on this machine):
# transitions per second across 1,000 concurrent executions of a 20-state Pass/Choice machine,
# the median time per state, API writes per transition, and the ceiling (small status
# merge-patches per second from 8 concurrent writers) in the same run. Run by hand, not by
# `make test`. Flags go to the program (test/bench/controller), e.g.
#   hack/bench-controller.sh -executions 200 -cpuprofile /tmp/controller.pprof
# docs/benchmarks.md has the method and the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBEBUILDER_ASSETS="${KUBEBUILDER_ASSETS:-$(hack/envtest.sh)}"
export KUBEBUILDER_ASSETS
go build -o bin/bench-controller ./test/bench/controller
exec bin/bench-controller "$@"
