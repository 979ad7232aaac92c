package limits

import (
	"os"
	"testing"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kstates/kstates/test/testenv"
)

// One API server for the package; each test works in namespaces of its own.
var (
	restConfig *rest.Config
	k8sClient  client.Client
	scheme     *k8sruntime.Scheme
	skipReason string
	// etcdURL is the client URL of the test's etcd (its /metrics give the database size).
	etcdURL string
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Command: "KSTATES_LIMITS=1 go test ./test/limits/", FastClient: true}, func(e *testenv.Env) {
		restConfig, k8sClient, scheme, skipReason = e.Config, e.Client, e.Scheme, e.SkipReason
		if e.Environment != nil && e.Environment.ControlPlane.Etcd != nil && e.Environment.ControlPlane.Etcd.URL != nil {
			etcdURL = e.Environment.ControlPlane.Etcd.URL.String()
		}
	}))
}
