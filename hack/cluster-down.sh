#!/usr/bin/env bash
# hack/cluster-down.sh [--purge] - stop the local cluster hack/cluster-up.sh started.
#
# Only the processes recorded in <root>/run/pids are signalled, each checked against its binary
# path so that a recycled pid is never hit. Pods are deleted first so the kubelet tears them down
# (CNI, mounts); containers left over are killed through containerd's API; mounts below <root>/run
# are unmounted and the iptables DNAT for the kubernetes Service is removed. A later cluster-up
# starts from the same certificates and etcd data (the objects are still there).
#
# --purge also removes run/ (certificates, etcd data, containerd state, logs), the kubeconfig and
# the pod bridge; the image tarballs (images/, tools/) and the binary cache are kept.
set -uo pipefail

CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
RUN=$CLUSTER_ROOT/run
PIDFILE=$RUN/pids
CTRD_SOCK=$RUN/containerd/containerd.sock
BRIDGE=kstates0
log() { printf '[cluster-down %s] %s\n' "$(date +%T)" "$*" >&2; }

purge=0
case "${1:-}" in
--purge) purge=1 ;;
"") ;;
*) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
[ -d "$CLUSTER_ROOT" ] || { log "no $CLUSTER_ROOT: nothing to do"; exit 0; }
exec 8>"$CLUSTER_ROOT/.lock"
if ! flock -n 8; then
	log "another cluster-up/down holds $CLUSTER_ROOT/.lock; waiting up to 2 minutes"
	flock -w 120 8 || log "still held (by $(fuser "$CLUSTER_ROOT/.lock" 2>/dev/null)): going on without it"
fi

pid_of() { awk -v n="$1" '$1 == n {p = $2} END {print p}' "$PIDFILE" 2>/dev/null; }
bin_of() { awk -v n="$1" '$1 == n {b = $3} END {print b}' "$PIDFILE" 2>/dev/null; }
alive() {
	local p
	p=$(pid_of "$1")
	[ -n "$p" ] && [ -d "/proc/$p" ] && [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$(bin_of "$1")")" ]
}
stop() {
	local name=$1 p
	alive "$name" || return 0
	p=$(pid_of "$name")
	log "stopping $name (pid $p)"
	kill -TERM "$p"
	for _ in $(seq 1 50); do
		[ -d "/proc/$p" ] || return 0
		sleep 0.2
	done
	log "$name did not exit within 10s: SIGKILL"
	kill -KILL "$p"
	sleep 0.5
}
ctrd() { ctr -a "$CTRD_SOCK" -n k8s.io "$@"; }

if [ -f "$PIDFILE" ]; then
	# 1. Nothing new gets created or scheduled.
	stop kube-controller-manager
	stop kube-scheduler
	# 2. The kubelet tears the pods down properly (CNI DEL, unmounts, shims exit).
	if alive kubelet && alive kube-apiserver; then
		kubectl=$(bin_of kube-apiserver)
		kubectl=${kubectl%/*}/kubectl
		log "deleting all pods so that the kubelet stops their containers"
		"$kubectl" --kubeconfig "$RUN/admin.kubeconfig" --request-timeout=5s delete pods --all --all-namespaces \
			--grace-period=0 --force --wait=false >/dev/null 2>&1
		for _ in $(seq 1 60); do
			[ -z "$(ctrd tasks ls -q 2>/dev/null)" ] && break
			sleep 0.5
		done
	fi
	stop kubelet
	# 3. Whatever still runs in our containerd: killed through its API (shims exit with their task).
	if alive containerd; then
		for t in $(ctrd tasks ls -q 2>/dev/null); do ctrd tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
		sleep 0.5
		for t in $(ctrd tasks ls -q 2>/dev/null); do ctrd tasks delete -f "$t" >/dev/null 2>&1; done
	fi
	stop containerd
	stop kube-apiserver
	stop etcd
	rm -f "$PIDFILE"
else
	log "no $PIDFILE: no process to stop"
fi

# 4. Mounts the kubelet and containerd left below run/ (pod volumes, rootfs, shm), deepest first.
for m in $(awk -v r="$RUN/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r); do
	umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
done
# 5. The DNAT of the kubernetes Service (hack/cluster-up.sh, service_dnat).
if iptables -t nat -L KSTATES-SERVICES -n >/dev/null 2>&1; then
	for chain in PREROUTING OUTPUT; do
		while iptables -t nat -D "$chain" -j KSTATES-SERVICES 2>/dev/null; do :; done
	done
	iptables -t nat -F KSTATES-SERVICES && iptables -t nat -X KSTATES-SERVICES
fi

if [ $purge = 1 ]; then
	log "purging $RUN and $CLUSTER_ROOT/kubeconfig"
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
	# The kubelet hard-codes /var/log/containers symlinks: drop those that point into run/.
	for l in /var/log/containers/*.log; do
		[ -L "$l" ] && case "$(readlink "$l")" in "$RUN"/*) rm -f "$l" ;; esac
	done
	rm -rf "$RUN" "$CLUSTER_ROOT/kubeconfig"
	# Paths hard-coded in kubelet, containerd 1.6 and libcni: removed only when left empty.
	[ -S /var/lib/kubelet/device-plugins/kubelet.sock ] && rm -f /var/lib/kubelet/device-plugins/kubelet.sock
	rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/lib/cni/results /var/lib/cni \
		/run/containerd/s /run/containerd /var/log/containers /run/netns 2>/dev/null || true
fi
log "done"
