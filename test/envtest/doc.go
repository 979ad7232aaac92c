// Package envtest checks the kstates.io CRDs against a real kube-apiserver and etcd: what the
// schemas, CEL rules and subresources promise, independent of any controller; and, in the
// controller_*_test.go files, the StateMachine and Execution reconcilers running in the test
// process against the same API server (scenario tables: do this to the world, expect this
// status; the tests stand in for the kubelet by writing pod status and serving logs).
//
// It needs KUBEBUILDER_ASSETS (a folder with kube-apiserver, etcd and kubectl);
// `make test` sets it from hack/envtest.sh, or run
//
//	KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/envtest/
package envtest
