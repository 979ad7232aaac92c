package envtest

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kstates/kstates/test/testenv"
)

// One API server for the package's tests; each test works in a namespace of its own.
var (
	testEnv    *envtest.Environment
	restConfig *rest.Config
	k8sClient  client.Client
	scheme     *k8sruntime.Scheme
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Command: "go test ./test/envtest/"}, func(e *testenv.Env) {
		testEnv, restConfig, k8sClient, scheme, skipReason = e.Environment, e.Config, e.Client, e.Scheme, e.SkipReason
	}))
}

// repoRoot is the checkout's root.
func repoRoot() string { return testenv.RepoRoot() }

// setup skips the test without an API server, and gives it a fresh namespace.
func setup(t *testing.T) (context.Context, string) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kstates-test-"}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	return ctx, ns.Name
}
