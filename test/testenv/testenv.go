// Package testenv starts the one API server (envtest: kube-apiserver and etcd, with the
// kstates CRDs installed) that the tests of a package share, from that package's TestMain.
//
// Without KUBEBUILDER_ASSETS it starts nothing and gives a reason for the tests to skip
// with, so that `go test ./...` passes on a machine without the envtest binaries.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// Options says how a package runs its tests.
type Options struct {
	// Command is the command that runs the package's tests, quoted in the skip reason, e.g.
	// "go test ./test/crash/".
	Command string
	// FastClient raises the client's rate limits (QPS 500, burst 1000) for packages that
	// create many objects at once.
	FastClient bool
}

// Env is the started API server, or the reason there is none.
type Env struct {
	// Environment is the running envtest environment (nil when skipping), e.g. to add users.
	Environment *envtest.Environment
	// Config reaches the API server as its administrator.
	Config *rest.Config
	// Client is a client of Config with Scheme.
	Client client.Client
	// Scheme holds the client-go types and the kstates API; it is set when skipping too.
	Scheme *k8sruntime.Scheme
	// SkipReason is non-empty when KUBEBUILDER_ASSETS is unset: every test that needs the API
	// server skips with it.
	SkipReason string
}

// RepoRoot is the checkout's root, found from this file's path.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Main is a package's TestMain: it starts the API server, hands the Env to use before any
// test runs, runs the tests, stops the server and returns the exit code for os.Exit.
func Main(m *testing.M, opts Options, use func(*Env)) int {
	env := &Env{Scheme: k8sruntime.NewScheme()}
	if err := clientgoscheme.AddToScheme(env.Scheme); err != nil {
		fmt.Fprintf(os.Stderr, "adding the client-go types to the scheme: %v\n", err)
		return 1
	}
	if err := kstatesv1alpha1.AddToScheme(env.Scheme); err != nil {
		fmt.Fprintf(os.Stderr, "adding the kstates types to the scheme: %v\n", err)
		return 1
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		env.SkipReason = "KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"`KUBEBUILDER_ASSETS=$(hack/envtest.sh) " + opts.Command + "` (the first run builds kube-apiserver and etcd, ~8 min)"
		use(env)
		return m.Run()
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := te.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (KUBEBUILDER_ASSETS=%s): %v\n", os.Getenv("KUBEBUILDER_ASSETS"), err)
		return 1
	}
	defer func() {
		if err := te.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
		}
	}()
	if opts.FastClient {
		cfg.QPS, cfg.Burst = 500, 1000
	}
	env.Environment, env.Config = te, cfg
	if env.Client, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	use(env)
	return m.Run()
}
