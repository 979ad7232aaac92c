#!/usr/bin/env bash
# The Execution controller's own overhead per Task state on the real local cluster: one
# execution of a machine of 100 sequential Task states (a testtask echo pod each), the
# operator's reconcilers in the measuring process, the median and 95th percentile of
# (a) the state entered -> its pod created and (b) the pod's container ended -> the next state
# entered, all read from one clock (test/bench/taskoverhead has the method). Run by hand, not
# by `make test`. Brings the cluster up if it is not (hack/cluster-up.sh, idempotent), builds
# and imports the task images from the current sources, then runs the program; flags go to it:
#   hack/bench-task-overhead.sh -tasks 100
# docs/benchmarks.md ("Task overhead on the local cluster") has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
hack/cluster-up.sh >/dev/null
hack/images/build.sh tasks >/dev/null
go build -o bin/bench-task-overhead ./test/bench/taskoverhead
exec bin/bench-task-overhead -cluster-kubeconfig "$CLUSTER_ROOT/kubeconfig" -image "kstates.local/testtask:${KSTATES_IMAGE_TAG:-dev}" "$@"
