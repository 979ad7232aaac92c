#!/usr/bin/env bash
# hack/e2e.sh - the end-to-end tests on the real local cluster.
#
#   hack/e2e.sh [--down] [go test flags...]
#
# Brings the cluster up (hack/cluster-up.sh: nothing is restarted if it runs already), builds
# and imports the images from the current sources (hack/images/build.sh), runs `go test ./test/e2e/...` against it with
# KSTATES_E2E_KUBECONFIG set, and leaves the cluster up for the next run unless --down is given
# (then it is stopped, pass or fail). Extra arguments go to `go test` (e.g. -run Flaky -v).
set -euo pipefail
HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HACK/.."
CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
down=0
args=()
for a in "$@"; do
	if [ "$a" = --down ]; then down=1; else args+=("$a"); fi
done
[ $down = 1 ] && trap '"$HACK/cluster-down.sh"' EXIT

"$HACK/cluster-up.sh" >/dev/null
"$HACK/images/build.sh" all # the current sources, imported
KSTATES_E2E_KUBECONFIG=$CLUSTER_ROOT/kubeconfig ${GO:-go} test -count=1 "${args[@]}" ./test/e2e/...
