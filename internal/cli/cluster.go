package cli

import (
	"flag"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// clusterFlags are the flags of the commands that talk to a cluster: the kubeconfig (the
// usual client-go loading rules: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster),
// its context and the namespace.
type clusterFlags struct {
	kubeconfig  string
	kubeContext string
	namespace   string
}

func addClusterFlags(fs *flag.FlagSet) *clusterFlags {
	c := &clusterFlags{}
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&c.kubeContext, "kube-context", "", "the kubeconfig context to use (default: its current context)")
	fs.StringVar(&c.namespace, "namespace", "", "the namespace (default: the context's namespace)")
	fs.StringVar(&c.namespace, "n", "", "shorthand for --namespace")
	return c
}

// RESTConfig, when set, replaces kubeconfig loading (tests point the CLI at their API
// server with it); it returns the config and the default namespace.
var RESTConfig func() (*rest.Config, string, error)

// connect returns a client and the namespace to use (the flag's, else the fallback, else the
// kubeconfig context's).
func (c *clusterFlags) connect(fallbackNamespace string) (client.Client, string, error) {
	var cfg *rest.Config
	var ns string
	var err error
	if RESTConfig != nil {
		cfg, ns, err = RESTConfig()
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = c.kubeconfig
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.kubeContext})
		cfg, err = loader.ClientConfig()
		if err == nil {
			ns, _, err = loader.Namespace()
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	switch {
	case c.namespace != "":
		ns = c.namespace
	case fallbackNamespace != "":
		ns = fallbackNamespace
	case ns == "":
		ns = "default"
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	if err := kstatesv1alpha1.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", err
	}
	return cl, ns, nil
}
