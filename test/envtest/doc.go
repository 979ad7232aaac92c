// Package envtest checks the kstates.io CRDs against a real kube-apiserver and etcd: what the
// schemas, CEL rules and subresources promise, independent of any controller.
//
// It needs KUBEBUILDER_ASSETS (a folder with kube-apiserver, etcd and kubectl);
// `make test` sets it from hack/envtest.sh, or run
//
//	KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/envtest/
package envtest
