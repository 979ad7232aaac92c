// Package testenv starts the one API server (envtest: kube-apiserver and etcd, with the
// kstates CRDs installed) that the tests of a package share, from that package's TestMain.
//
// Without KUBEBUILDER_ASSETS it starts nothing and gives a reason for the tests to skip
// with, so that `go test ./...` passes on a machine without the envtest binaries.
//
// It also holds what the tests that run the reconcilers in their own process share: the
// manager's options and the controllers' logger. test/bench/controller starts its API server
// and managers with it too.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
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

// NewScheme is a scheme with the client-go types and the kstates API.
func NewScheme() (*k8sruntime.Scheme, error) {
	s := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("adding the client-go types to the scheme: %w", err)
	}
	if err := kstatesv1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("adding the kstates types to the scheme: %w", err)
	}
	return s, nil
}

// Start starts kube-apiserver and etcd from KUBEBUILDER_ASSETS with the CRDs of
// config/crd/bases installed; the caller stops the environment.
func Start() (*envtest.Environment, *rest.Config, error) {
	te := &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest (KUBEBUILDER_ASSETS=%s): %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	return te, cfg, nil
}

// ManagerOptions are the options of a manager run in a test process: its cache watches only
// namespace ns, it serves no metrics or probes, several managers may register the same
// controllers in one process (one after the other), and executionWorkers Execution reconciles
// run at once (0: controller-runtime's default).
func ManagerOptions(scheme *k8sruntime.Scheme, ns string, executionWorkers int) ctrl.Options {
	o := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if executionWorkers > 0 {
		o.Controller.GroupKindConcurrency = map[string]int{"Execution.kstates.io": executionWorkers}
	}
	return o
}

var logOnce sync.Once

// SetLogger sets controller-runtime's logger once per process: the controllers' logs on
// stderr with KSTATES_TEST_LOG=1, none otherwise.
func SetLogger() {
	logOnce.Do(func() {
		if os.Getenv("KSTATES_TEST_LOG") != "" {
			ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
		} else {
			ctrl.SetLogger(logr.Discard())
		}
	})
}

// Main is a package's TestMain: it starts the API server, hands the Env to use before any
// test runs, runs the tests, stops the server and returns the exit code for os.Exit.
func Main(m *testing.M, opts Options, use func(*Env)) int {
	scheme, err := NewScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := &Env{Scheme: scheme}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		env.SkipReason = "KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"`KUBEBUILDER_ASSETS=$(hack/envtest.sh) " + opts.Command + "` (the first run builds kube-apiserver and etcd, ~8 min)"
		use(env)
		return m.Run()
	}
	te, cfg, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
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

// EndPod sets the pod's status as a kubelet does when its task container ends with the exit
// code and termination message: Succeeded (Completed) for 0, Failed (Error) otherwise. The
// caller writes the status.
func EndPod(pod *corev1.Pod, exitCode int32, message string) {
	now := metav1.Now()
	phase, reason := corev1.PodSucceeded, "Completed"
	if exitCode != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	image := ""
	for _, c := range pod.Spec.Containers {
		if c.Name == podtask.ContainerName {
			image = c.Image
		}
	}
	pod.Status.Phase = phase
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: podtask.ContainerName, Image: image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: exitCode, Message: message, Reason: reason,
			StartedAt: metav1.NewTime(now.Add(-time.Second)), FinishedAt: now,
		}},
	}}
}

// ReleaseRevisions removes the finalizer kstates.io/revision-in-use from the StateMachineRevisions
// in ns. A test that runs the operator in its own process calls it after stopping it and
// before deleting the namespace: with no operator left to remove the finalizer, the revisions
// would hold the namespace in Terminating.
func ReleaseRevisions(ctx context.Context, c client.Client, ns string) error {
	revs := &kstatesv1alpha1.StateMachineRevisionList{}
	if err := c.List(ctx, revs, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range revs.Items {
		rev := &revs.Items[i]
		patch := client.MergeFromWithOptions(rev.DeepCopy(), client.MergeFromWithOptimisticLock{})
		if !controllerutil.RemoveFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) {
			continue
		}
		if err := c.Patch(ctx, rev, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("releasing revision %s: %w", rev.Name, err)
		}
	}
	return nil
}

// PassChoiceMachine is a definition of n states that advance without a task, Pass states
// counting ({"i": k, "id": $.id}) and Choice states routing on the count, alternately; its
// input needs an "id", and its output is {"i": the last even state below n, "id": that id}.
// The controller benchmark runs it (20 states), and the tests of the write path.
func PassChoiceMachine(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Parameters":{"i":%d,"id.$":"$.id"},%s}`, i, i, next)
		} else if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEquals":%d,"Next":"S%d"}],"Default":"Bad"}`, i, i-1, i+1)
		}
	}
	b.WriteString(`,"Bad":{"Type":"Fail","Error":"Bad"}}}`)
	return b.String()
}
