#!/usr/bin/env bash
# hack/demo.sh - the demo (`make demo`, docs/demo.md): the order workflow of examples/order on a
# real cluster, its Lambda ARNs bound to task containers built by the project.
#
#   1. the cluster: the one $KUBECONFIG names when it answers; otherwise the local single-node
#      cluster (hack/cluster-up.sh: reused when it runs, brought up when it does not);
#   2. builds bin/kstates and the images (kstates.local/order-tasks:dev, manager:dev; cached
#      Go builds) and imports them into the local cluster's containerd;
#   3. deploys the operator: examples/order/cluster (config/default: CRDs, RBAC, the manager
#      Deployment in kstates-system, watching only the namespace kstates-demo) and waits for it;
#   4. re-creates the namespace kstates-demo, applies the order StateMachine
#      (config/samples/kstates_v1alpha1_statemachine_order.yaml) and the three orders
#      (examples/order/cluster/orders.yaml);
#   5. approves order-approval as a person would: `kstates get-task-token`, then
#      `kstates send-task-success`;
#   6. waits for the three to end, prints `kubectl get executions` and each history
#      (`kstates history`), and checks each outcome (exit 1 when one is not what the demo
#      promises: Succeeded with the approver, Failed with PaymentDeclined after Refund and
#      NotifyCustomer, Succeeded after a retried CheckInventory).
#
# Reruns are idempotent (the namespace is deleted and created again); concurrent runs queue on
# a lock. Nothing is installed by hand: the first run on a fresh machine builds the Kubernetes
# binaries (hack/lib.sh, cached) and installs containerd & co. from Debian (needs root).
#
# Knobs: KUBECONFIG (a cluster to use instead of the local one: its nodes must have the images,
# see docs/demo.md), KSTATES_CLUSTER_ROOT (/tmp/kstates-cluster), KSTATES_DEMO_IMAGES (1; 0
# skips building and importing the images, e.g. right after hack/e2e.sh did),
# KSTATES_DEMO_TIMEOUT (300 s for the executions to end), and those of hack/lib.sh.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HACK/.." && pwd)
cd "$REPO"
LOG_TAG=demo
# shellcheck source=hack/lib.sh
source "$HACK/lib.sh" # log, $BIN (the cached kubectl), build_kube

CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
LOCAL_KUBECONFIG=$CLUSTER_ROOT/kubeconfig
NS=kstates-demo # also in examples/order/cluster/kustomization.yaml (--namespaces)
SYSTEM_NS=kstates-system
DEPLOY=deploy/kstates-controller-manager
ORDERS=(order-approval order-declined order-flaky)
TIMEOUT=${KSTATES_DEMO_TIMEOUT:-300}
T0=$SECONDS

step() { printf '\n== %s   [%ds]\n' "$*" $((SECONDS - T0)); }
die() { log "$*"; exit 1; }

mkdir -p "$CLUSTER_ROOT"
exec 7>"$CLUSTER_ROOT/.demo.lock"
flock -n 7 || { log "another demo holds $CLUSTER_ROOT/.demo.lock; waiting"; flock 7; }

# ---------------------------------------------------------------- kubectl and the CLI
if [ -x "$BIN/kubectl" ]; then
	KUBECTL_BIN=$BIN/kubectl
elif command -v kubectl >/dev/null; then
	KUBECTL_BIN=$(command -v kubectl)
else
	KUBECTL_BIN=$BIN/kubectl # built below (with the cluster, or alone)
fi
kubectl() { "$KUBECTL_BIN" "$@"; }
log "building bin/kstates"
"$GO" build -o "$REPO/bin/kstates" ./cmd/kstates
kstates() { "$REPO/bin/kstates" "$@"; }

# reaches KUBECONFIG-FILE: the API server answers and a node is Ready.
reaches() {
	[ -s "$1" ] && [ -x "$KUBECTL_BIN" ] &&
		KUBECONFIG=$1 kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1 &&
		KUBECONFIG=$1 kubectl wait --for=condition=Ready node --all --timeout=5s >/dev/null 2>&1
}

# ---------------------------------------------------------------- 1. the cluster
step "cluster"
local_cluster=1
if [ -n "${KUBECONFIG:-}" ] && [ "$KUBECONFIG" != "$LOCAL_KUBECONFIG" ]; then
	if [ ! -x "$KUBECTL_BIN" ]; then
		lock_cache
		build_kube kubectl
		exec 9>&-
	fi
	if reaches "$KUBECONFIG"; then
		local_cluster=0
		echo "using the cluster of KUBECONFIG=$KUBECONFIG ($(kubectl config current-context 2>/dev/null || echo '?'))"
	else
		log "KUBECONFIG=$KUBECONFIG does not reach a cluster with a Ready node: using the local cluster"
	fi
fi
if [ $local_cluster = 1 ]; then
	if reaches "$LOCAL_KUBECONFIG"; then
		echo "using the local cluster ($LOCAL_KUBECONFIG), already up"
	else
		[ "$(id -u)" = 0 ] || die "the local cluster needs root (containerd, mounts, network): run as root, or set KUBECONFIG to a cluster"
		log "bringing up the local cluster (hack/cluster-up.sh; the first time builds the Kubernetes binaries, minutes)"
		"$HACK/cluster-up.sh" 7>&- >/dev/null
		echo "local cluster up ($LOCAL_KUBECONFIG)"
	fi
	export KUBECONFIG=$LOCAL_KUBECONFIG
fi
export KUBECONFIG
kubectl get nodes
# The previous run's namespace goes while the images build (its pods and objects take seconds).
if kubectl get namespace "$NS" >/dev/null 2>&1; then
	log "deleting the previous run's namespace $NS"
	kubectl delete namespace "$NS" --wait=false >/dev/null
fi

# ---------------------------------------------------------------- 2. images
if [ "${KSTATES_DEMO_IMAGES:-1}" = 1 ]; then
	step "images (cached builds)"
	"$HACK/images/build.sh" tasks manager
	if [ $local_cluster = 0 ]; then
		log "the cluster of KUBECONFIG must have kstates.local/manager:dev and kstates.local/order-tasks:dev on its nodes (imagePullPolicy: Never): load $CLUSTER_ROOT/images/manager.tar and order-tasks.tar into them (docs/demo.md)"
	fi
fi

# ---------------------------------------------------------------- 3. the operator
step "operator: CRDs, RBAC, the manager Deployment ($SYSTEM_NS, watching $NS)"
kubectl apply --server-side --force-conflicts -k examples/order/cluster >/dev/null
kubectl wait --for=condition=Established --timeout=60s $(kubectl get crd -o name | grep '\.kstates\.io$') >/dev/null
# The image tag stays :dev; a rebuilt manager gets a new pod through this annotation.
if [ -s "$CLUSTER_ROOT/images/manager.tar" ] && [ $local_cluster = 1 ]; then
	sum=$(sha256sum "$CLUSTER_ROOT/images/manager.tar" | cut -c1-16)
	kubectl -n "$SYSTEM_NS" patch "$DEPLOY" --type merge \
		-p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kstates.io/manager-image\":\"$sum\"}}}}}" >/dev/null
fi
kubectl -n "$SYSTEM_NS" rollout status "$DEPLOY" --timeout=180s
kubectl -n "$SYSTEM_NS" get pods -l control-plane=controller-manager

# ---------------------------------------------------------------- 4. the workflow and orders
step "namespace $NS, the order StateMachine, three orders"
kubectl wait --for=delete namespace/"$NS" --timeout=180s >/dev/null 2>&1 || true
kubectl get namespace "$NS" >/dev/null 2>&1 && die "the previous run's namespace $NS is still there after 3 minutes"
kubectl create namespace "$NS" >/dev/null
# The API server refuses pods until the namespace's default ServiceAccount exists.
for _ in $(seq 100); do kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.3; done
# Server-side: a client-side apply would drop the definition's `ResultPath: null` values.
kubectl -n "$NS" apply --server-side -f config/samples/kstates_v1alpha1_statemachine_order.yaml
kubectl -n "$NS" wait --for=condition=Valid statemachine/order --timeout=60s >/dev/null
kubectl -n "$NS" get statemachines
kubectl -n "$NS" create -f examples/order/cluster/orders.yaml

# ---------------------------------------------------------------- 5. the human approval
step "approval: order-approval waits in RequestApproval for a person"
token=""
end=$((SECONDS + TIMEOUT))
until token=$(kstates get-task-token order-approval -n "$NS" 2>/dev/null | cut -f1) && [ -n "$token" ]; do
	phase=$(kubectl -n "$NS" get execution order-approval -o jsonpath='{.status.phase}')
	case $phase in Succeeded | Failed | TimedOut | Aborted) die "order-approval ended ($phase) without waiting for an approval" ;; esac
	[ $SECONDS -lt $end ] || die "order-approval did not reach RequestApproval within ${TIMEOUT}s"
	sleep 0.5
done
pod=$(kubectl -n "$NS" get pods -l kstates.io/task=true -o \
	jsonpath='{range .items[?(@.metadata.annotations.kstates\.io/state=="RequestApproval")]}{.metadata.name}{end}')
echo "the RequestApproval task's pod ($pod) says:"
for _ in $(seq 20); do
	out=$(kubectl -n "$NS" logs "$pod" 2>/dev/null || true)
	[ -n "$out" ] && break
	sleep 0.5
done
printf '%s\n' "$out" | sed 's/^/  | /'
echo "\$ kstates get-task-token order-approval -n $NS"
echo "${token:0:24}...  (state RequestApproval)"
echo "\$ kstates send-task-success -n $NS --token \$TOKEN --output '{\"approved\": true, \"approver\": \"grace\"}'"
kstates send-task-success -n "$NS" --token "$token" --output '{"approved": true, "approver": "grace"}'

# ---------------------------------------------------------------- 6. results
step "waiting for the three orders to end"
while :; do
	phases=$(kubectl -n "$NS" get executions -o jsonpath='{range .items[*]}{.status.phase}{" "}{end}')
	running=0
	for p in $phases; do case $p in Succeeded | Failed | TimedOut | Aborted) ;; *) running=1 ;; esac; done
	[ "$(wc -w <<<"$phases")" -eq ${#ORDERS[@]} ] && [ $running = 0 ] && break
	[ $SECONDS -lt $end ] || { kubectl -n "$NS" get executions; die "the orders did not end within ${TIMEOUT}s"; }
	sleep 1
done

step "kubectl get executions -n $NS"
kubectl -n "$NS" get executions -o wide
for e in "${ORDERS[@]}"; do
	step "kstates history $e -n $NS"
	kstates history "$e" -n "$NS"
done

# The outcomes the demo promises.
step "checks"
problems=0
check() { # what, got, want
	if [ "$2" = "$3" ]; then echo "ok    $1: $2"; else echo "FAIL  $1: got '$2', want '$3'"; problems=$((problems + 1)); fi
}
jp() { kubectl -n "$NS" get execution "$1" -o jsonpath="$2"; }
check "order-approval phase" "$(jp order-approval '{.status.phase}')" Succeeded
check "order-approval approver" "$(jp order-approval '{.status.output}' | grep -o '"approvedBy": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')" grace
check "order-declined phase" "$(jp order-declined '{.status.phase}')" Failed
check "order-declined error" "$(jp order-declined '{.status.error}')" PaymentDeclined
check "order-declined ran" "$(kstates history order-declined -n "$NS" -o json | grep -o '"name": *"\(Refund\|NotifyCustomer\|PaymentFailed\)"' | awk -F'"' '{print $4}' | uniq | tr '\n' ' ')" "Refund NotifyCustomer PaymentFailed "
check "order-flaky phase" "$(jp order-flaky '{.status.phase}')" Succeeded
check "order-flaky CheckInventory" "$(kstates history order-flaky -n "$NS" | awk '$4 ~ /^Task(Failed|Succeeded)$/ && $5 == "CheckInventory" {print $4}' | tr '\n' ' ')" "TaskFailed TaskSucceeded "
echo
if [ $problems -gt 0 ]; then
	die "$problems check(s) failed ($((SECONDS - T0))s); the objects are left in namespace $NS"
fi
echo "demo done in $((SECONDS - T0))s: kubectl -n $NS get executions (KUBECONFIG=$KUBECONFIG); kstates history EXECUTION -n $NS"
