#!/usr/bin/env bash
# hack/cluster-up.sh - a real single-node Kubernetes cluster on this machine, from the project's
# own scripts: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubelet built
# from Go modules (cached by hack/lib.sh, shared with hack/envtest.sh), containerd, runc, the CNI
# plugins and busybox-static from Debian. Pods really run containers; images are assembled
# locally (hack/images/build.sh, `make images`) and imported into containerd, never pulled: this
# script imports the tarballs it finds, building the missing ones.
#
# Everything lives under one folder, ${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}:
#   kubeconfig        the admin kubeconfig (printed at the end; cluster-admin via system:masters)
#   run/              pki/, etcd/, containerd/, kubelet/, cni/, logs/, pids (removed by --purge)
#   images/, tools/   image tarballs and the image tools (hack/images/build.sh)
# Idempotent: certificates and data are reused, components already running are left alone, the
# script returns once the node is Ready and the default ServiceAccount exists. Stop with
# hack/cluster-down.sh [--purge]. Needs root (containerd, mounts, bridges, iptables).
#
# The machine's pitfalls (see docs/local-cluster.md): cgroup v1 without systemd (cgroupfs driver,
# failCgroupV1: false), no CAP_SYS_RESOURCE (containerd's restrict_oom_score_adj), no pullable
# pause image (a local one tagged registry.k8s.io/pause:3.10), no kube-proxy and no DNS: pods reach
# the API server at the node IP, port 6443, and a DNAT rule maps the kubernetes Service's
# 10.96.0.1:443 there too, so in-cluster clients work unchanged.
#
# Knobs: KSTATES_CLUSTER_ROOT, KSTATES_API_PORT (6443), KSTATES_ETCD_PORT (23791; peer port +10),
# KSTATES_POD_CIDR (10.244.0.0/24), KSTATES_NODE_NAME (hostname), and those of hack/lib.sh
# (K8S_VERSION, ETCD_VERSION, KSTATES_CACHE, BUILD_NICE).
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=cluster-up
# shellcheck source=hack/lib.sh
source "$HACK/lib.sh"

CLUSTER_ROOT=${KSTATES_CLUSTER_ROOT:-/tmp/kstates-cluster}
RUN=$CLUSTER_ROOT/run
PKI=$RUN/pki
LOGS=$RUN/logs
PIDFILE=$RUN/pids
KUBECONFIG_OUT=$CLUSTER_ROOT/kubeconfig
API_PORT=${KSTATES_API_PORT:-6443}
ETCD_PORT=${KSTATES_ETCD_PORT:-23791}
ETCD_PEER_PORT=$((ETCD_PORT + 10))
POD_CIDR=${KSTATES_POD_CIDR:-10.244.0.0/24}
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1 # the kubernetes Service
NODE_NAME=${KSTATES_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
CTRD_SOCK=$RUN/containerd/containerd.sock
BRIDGE=kstates0
RUNC=$(command -v runc || echo /usr/sbin/runc)
PAUSE_IMAGE=registry.k8s.io/pause:3.10

[ "$(id -u)" = 0 ] || { log "needs root (containerd, mounts, network)"; exit 1; }
mkdir -p "$LOGS" "$PKI"
exec 8>"$CLUSTER_ROOT/.lock"
flock -n 8 || { log "another cluster-up/down holds $CLUSTER_ROOT/.lock; waiting"; flock 8; }

T0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'; }

# ---------------------------------------------------------------- Debian packages
ensure_apt() {
	local p missing=()
	for p in containerd runc containernetworking-plugins busybox-static iptables openssl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local t; t=$(date +%s.%N)
	log "apt-get install ${missing[*]}"
	apt-get update -qq >"$LOGS/apt.log" 2>&1
	# No systemd here (and policy-rc.d may forbid it): the packaged daemons are not started.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1
	log "apt-get took $(elapsed "$t")"
}

# ---------------------------------------------------------------- binaries (cached)
ensure_binaries() {
	local c missing=0
	for c in "${KUBE_COMMANDS[@]}" etcd; do [ -x "$BIN/$c" ] || missing=1; done
	[ $missing = 0 ] && return 0
	lock_cache
	build_etcd
	build_kube "${KUBE_COMMANDS[@]}"
	exec 9>&- # release the cache lock
}

# ---------------------------------------------------------------- PKI and kubeconfigs
node_ip() {
	local ip
	ip=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") {print $(i + 1); exit}}')
	[ -n "$ip" ] || ip=$(hostname -I 2>/dev/null | awk '{print $1}')
	[ -n "$ip" ] || { log "cannot find this machine's IPv4 address (no default route, hostname -I empty)"; return 1; }
	echo "$ip"
}

sign() { # name subject extendedKeyUsage [subjectAltNames]
	local n=$1 subj=$2 eku=$3 sans=${4:-}
	[ -s "$PKI/$n.crt" ] && [ "$(cat "$PKI/$n.sans" 2>/dev/null)" = "$sans" ] && return 0
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$PKI/$n.key" \
		-out "$PKI/$n.csr" -subj "$subj" 2>/dev/null
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$eku"
		[ -z "$sans" ] || echo "subjectAltName=$sans"
	} >"$PKI/$n.ext"
	openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 3650 -out "$PKI/$n.crt" -extfile "$PKI/$n.ext" 2>/dev/null
	echo "$sans" >"$PKI/$n.sans"
}

kubeconfig() { # file user cert server
	cat >"$1.tmp" <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: kstates-local
		  cluster: {server: "$4", certificate-authority: "$PKI/ca.crt"}
		users:
		- name: $2
		  user: {client-certificate: "$PKI/$3.crt", client-key: "$PKI/$3.key"}
		contexts:
		- name: kstates-local
		  context: {cluster: kstates-local, user: $2}
		current-context: kstates-local
	EOF
	mv "$1.tmp" "$1"
}

make_pki() {
	if [ ! -s "$PKI/ca.crt" ]; then
		openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$PKI/ca.key" \
			-out "$PKI/ca.crt" -days 3650 -subj /CN=kstates-local-ca 2>/dev/null
		openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
		openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	fi
	# The node IP is in the serving certificate: a new IP (another machine, a new lease) re-signs it.
	sign apiserver /CN=kube-apiserver serverAuth \
		"DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:$NODE_NAME,IP:127.0.0.1,IP:$SERVICE_IP,IP:$NODE_IP"
	sign admin "/O=system:masters/CN=kstates-admin" clientAuth
	sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
	sign controller-manager /CN=system:kube-controller-manager clientAuth
	sign scheduler /CN=system:kube-scheduler clientAuth
	sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
	local local_api=https://127.0.0.1:$API_PORT
	kubeconfig "$RUN/controller-manager.kubeconfig" system:kube-controller-manager controller-manager "$local_api"
	kubeconfig "$RUN/scheduler.kubeconfig" system:kube-scheduler scheduler "$local_api"
	kubeconfig "$RUN/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet "$local_api"
	kubeconfig "$RUN/admin.kubeconfig" admin admin "$local_api"
	cp "$RUN/admin.kubeconfig" "$KUBECONFIG_OUT.tmp" && mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
}

# ---------------------------------------------------------------- processes (pidfile)
pid_of() { awk -v n="$1" '$1 == n {p = $2} END {print p}' "$PIDFILE" 2>/dev/null; }
running() { # name binary: the recorded pid is alive and still runs that binary
	local p
	p=$(pid_of "$1")
	[ -n "$p" ] && [ -d "/proc/$p" ] && [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$2")" ]
}
start() { # name binary args...
	local name=$1 bin=$2
	shift 2
	if running "$name" "$bin"; then
		log "$name already running (pid $(pid_of "$name"))"
		return 0
	fi
	# The daemons must not inherit the lock descriptors (8: this script's, 9: the build cache's).
	setsid "$bin" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 8>&- 9>&- &
	{ grep -v "^$name " "$PIDFILE" 2>/dev/null || true; echo "$name $! $bin"; } >"$PIDFILE.new"
	mv "$PIDFILE.new" "$PIDFILE"
	log "started $name (pid $!, log $LOGS/$name.log)"
}
wait_for() { # what timeout-seconds command...
	local what=$1 end=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			log "timed out waiting for $what; logs in $LOGS"
			return 1
		fi
		sleep 0.2
	done
}
KUBECTL() { "$BIN/kubectl" --kubeconfig "$RUN/admin.kubeconfig" "$@"; }

# ---------------------------------------------------------------- control plane
start_control_plane() {
	start etcd "$BIN/etcd" --name kstates --data-dir "$RUN/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "kstates=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync --quota-backend-bytes 4294967296
	wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

	start kube-apiserver "$BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 0.0.0.0 --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
		--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types InternalIP,Hostname
	wait_for kube-apiserver 120 KUBECTL get --raw /readyz

	start kube-controller-manager "$BIN/kube-controller-manager" \
		--kubeconfig "$RUN/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$RUN/controller-manager.kubeconfig" --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
		--root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
		--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
		--controllers '*,-nodeipam'
	start kube-scheduler "$BIN/kube-scheduler" \
		--kubeconfig "$RUN/scheduler.kubeconfig" \
		--authentication-kubeconfig "$RUN/scheduler.kubeconfig" --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false
}

# ---------------------------------------------------------------- node: containerd, CNI, kubelet
start_containerd() {
	mkdir -p "$RUN/cni/net.d" "$RUN/containerd" "$RUN/kubelet" "$RUN/pod-logs"
	cat >"$RUN/containerd/config.toml" <<-EOF
		version = 2
		root = "$RUN/containerd/root"
		state = "$RUN/containerd/state"
		[grpc]
		  address = "$CTRD_SOCK"
		[ttrpc]
		  address = "$RUN/containerd/containerd.sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$RUN/containerd/opt"
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "$PAUSE_IMAGE"
		  # No CAP_SYS_RESOURCE here: the pause container gets oom_score_adj -998 and runc fails with
		  # "failed to update /proc/self/oom_score_adj: Permission denied" unless clamped to containerd's own.
		  restrict_oom_score_adj = true
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "/usr/lib/cni"
		    conf_dir = "$RUN/cni/net.d"
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    snapshotter = "overlayfs"
		    default_runtime_name = "runc"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        SystemdCgroup = false
		        Root = "$RUN/containerd/runc"
		        BinaryName = "$RUNC"
	EOF
	cat >"$RUN/cni/net.d/10-kstates.conflist" <<-EOF
		{"cniVersion": "1.0.0", "name": "kstates", "plugins": [
		  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
		   "ipam": {"type": "host-local", "dataDir": "$RUN/cni/ipam",
		            "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
	EOF
	start containerd "$(command -v containerd)" --config "$RUN/containerd/config.toml"
	wait_for containerd 30 ctr -a "$CTRD_SOCK" version
}

# import_images imports the image tarballs into containerd, first building those missing
# (`make images` rebuilds them all from the current sources and imports them).
import_images() {
	local t; t=$(date +%s.%N)
	local img=$CLUSTER_ROOT/images missing=()
	[ -s "$img/pause.tar" ] || missing+=(pause)
	[ -s "$img/order-tasks.tar" ] && [ -s "$img/testtask.tar" ] || missing+=(tasks)
	[ -s "$img/manager.tar" ] || [ ! -d "$HACK/../cmd/manager" ] || missing+=(manager)
	[ ${#missing[@]} -eq 0 ] || "$HACK/images/build.sh" --no-import "${missing[@]}"
	local tar
	for tar in "$img"/*.tar; do
		ctr -a "$CTRD_SOCK" -n k8s.io images import "$tar" >/dev/null
	done
	log "images imported in $(elapsed "$t"): $(cd "$img" && echo *.tar)"
}

# service_dnat maps the kubernetes Service (10.96.0.1:443) to the API server: there is no
# kube-proxy, and in-cluster clients (client-go's rest.InClusterConfig) dial that address.
service_dnat() {
	local rule=(-d "$SERVICE_IP/32" -p tcp --dport 443 -j DNAT --to-destination "$NODE_IP:$API_PORT")
	if ! iptables -t nat -L KSTATES-SERVICES -n >/dev/null 2>&1; then
		iptables -t nat -N KSTATES-SERVICES || { log "iptables unusable: no DNAT for $SERVICE_IP (use the node IP)"; return 0; }
	fi
	iptables -t nat -F KSTATES-SERVICES
	iptables -t nat -A KSTATES-SERVICES "${rule[@]}"
	local chain
	for chain in PREROUTING OUTPUT; do
		iptables -t nat -C "$chain" -j KSTATES-SERVICES 2>/dev/null || iptables -t nat -I "$chain" -j KSTATES-SERVICES
	done
}

start_kubelet() {
	cat >"$RUN/kubelet/config.yaml" <<-EOF
		apiVersion: kubelet.config.k8s.io/v1beta1
		kind: KubeletConfiguration
		containerRuntimeEndpoint: unix://$CTRD_SOCK
		cgroupDriver: cgroupfs          # no systemd on this machine
		failCgroupV1: false             # the host has cgroup v1; kubelet >= 1.35 refuses it unless told
		failSwapOn: false
		podLogsDir: $RUN/pod-logs
		authentication:
		  anonymous: {enabled: false}
		  webhook: {enabled: true}
		  x509: {clientCAFile: $PKI/ca.crt}
		authorization: {mode: Webhook}
		readOnlyPort: 0
		healthzBindAddress: 127.0.0.1
		clusterDomain: cluster.local
		resolvConf: /etc/resolv.conf
		serializeImagePulls: false
		imageGCHighThresholdPercent: 100  # images are imported, never pulled: never collect them
		imageGCLowThresholdPercent: 99
		evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
		maxPods: 250
	EOF
	start kubelet "$BIN/kubelet" --config "$RUN/kubelet/config.yaml" --kubeconfig "$RUN/kubelet.kubeconfig" \
		--root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v 1
	wait_for "node $NODE_NAME Ready" 120 KUBECTL wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

# ---------------------------------------------------------------- main
ensure_apt
ensure_binaries
NODE_IP=$(node_ip)
make_pki
t=$(date +%s.%N)
start_control_plane
log "control plane ready in $(elapsed "$t")"
start_containerd
import_images
service_dnat
t=$(date +%s.%N)
start_kubelet
log "node $NODE_NAME Ready in $(elapsed "$t")"
# Pods are refused until the serviceaccount controller has made the namespace's "default".
wait_for "the default ServiceAccount" 60 KUBECTL -n default get serviceaccount default
log "cluster up in $(elapsed "$T0")"

cat <<EOF

kstates local cluster is up: Kubernetes $K8S_VERSION, node $NODE_NAME ($NODE_IP), API https://$NODE_IP:$API_PORT
  export KUBECONFIG=$KUBECONFIG_OUT
  export PATH=$BIN:\$PATH    # kubectl $K8S_VERSION
  kubectl get nodes
Images (imagePullPolicy: Never): $(ctr -a "$CTRD_SOCK" -n k8s.io images ls -q 2>/dev/null | grep -v '^sha256:' | grep -v '@' | tr '\n' ' ')
  rebuild and import: make images
Logs: $LOGS/   PIDs: $PIDFILE   Stop: hack/cluster-down.sh [--purge]
EOF
