// Command manager runs the kstates operator: a controller-runtime manager with the kstates.io
// scheme, the StateMachine and Execution reconcilers (controllers/), a Prometheus metrics
// endpoint (with the kstates_* metrics of internal/metrics) and health probes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/podtask"
)

// leaderElectionID names the Lease the manager replicas compete for.
const leaderElectionID = "manager.kstates.io"

// watchedNamespaces turns the --namespaces value into the cache's namespaces: nil (all)
// for "", else one entry per non-empty name.
func watchedNamespaces(flagValue string) map[string]cache.Config {
	var out map[string]cache.Config
	for _, ns := range strings.Split(flagValue, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if out == nil {
				out = map[string]cache.Config{}
			}
			out[ns] = cache.Config{}
		}
	}
	return out
}

// newScheme returns the kinds the manager reads and writes: the built-in ones (Pods, Events)
// and kstates.io/v1alpha1.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kstatesv1alpha1.AddToScheme(s))
	return s
}

// options are the command-line flags.
type options struct {
	metricsAddr   string
	metricsSecure bool
	probeAddr     string
	leaderElect   bool
	// executionWorkers is how many executions are reconciled at once.
	executionWorkers int
	// stepsPerReconcile is how many transitions one reconcile may commit in a row.
	stepsPerReconcile int
	// imagePullTimeout and unschedulableTimeout bound how long a task pod may be stuck.
	imagePullTimeout, unschedulableTimeout time.Duration
	// namespaces, comma-separated, limits the manager to those namespaces ("" watches all).
	namespaces string
}

func parseFlags(fs *flag.FlagSet, args []string) (options, zap.Options, error) {
	var o options
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443",
		"address of the Prometheus metrics endpoint; \"0\" disables it")
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true,
		"serve metrics over HTTPS, to callers authorized by a TokenReview and SubjectAccessReview")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes")
	fs.BoolVar(&o.leaderElect, "leader-elect", false,
		"elect a leader so that only one replica reconciles at a time")
	fs.IntVar(&o.executionWorkers, "execution-workers", 8,
		"how many executions are reconciled concurrently")
	fs.IntVar(&o.stepsPerReconcile, "steps-per-reconcile", 1,
		"how many transitions one reconcile may commit in a row (each by its own status write) while "+
			"no task is involved; 1 advances an execution one state per reconcile")
	fs.DurationVar(&o.imagePullTimeout, "image-pull-timeout", podtask.DefaultImagePullTimeout,
		"how long after its creation a task pod whose image pull keeps failing ends its attempt with kstates.ImagePullFailed")
	fs.DurationVar(&o.unschedulableTimeout, "unschedulable-timeout", podtask.DefaultUnschedulableTimeout,
		"how long a task pod may stay unschedulable before its attempt ends with kstates.Unschedulable")
	fs.StringVar(&o.namespaces, "namespaces", "",
		"comma-separated namespaces to reconcile, ignoring every other one (default: all namespaces)")
	zo := zap.Options{}
	zo.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, zo, err
	}
	if o.executionWorkers < 1 {
		return o, zo, fmt.Errorf("--execution-workers=%d: must be at least 1", o.executionWorkers)
	}
	if o.imagePullTimeout <= 0 || o.unschedulableTimeout <= 0 {
		return o, zo, fmt.Errorf("--image-pull-timeout=%v, --unschedulable-timeout=%v: must be positive", o.imagePullTimeout, o.unschedulableTimeout)
	}
	if o.stepsPerReconcile < 1 {
		return o, zo, fmt.Errorf("--steps-per-reconcile=%d: must be at least 1", o.stepsPerReconcile)
	}
	return o, zo, nil
}

func main() {
	o, zo, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zo)))
	log := ctrl.Log.WithName("setup")

	metrics := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure}
	if o.metricsSecure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	cfg := ctrl.GetConfigOrDie()
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Error(err, "creating the clientset")
		os.Exit(1)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        newScheme(),
		Metrics:                       metrics,
		HealthProbeBindAddress:        o.probeAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionReleaseOnCancel: true,
		// Only task pods are cached, not every pod of the cluster.
		// --namespaces: every watch (and so every reconcile) is limited to those namespaces.
		Cache: cache.Options{DefaultNamespaces: watchedNamespaces(o.namespaces), ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Label: labels.SelectorFromSet(labels.Set{podtask.TaskLabel: "true"})},
		}},
		Controller: config.Controller{GroupKindConcurrency: map[string]int{"Execution.kstates.io": o.executionWorkers}},
	})
	if err != nil {
		log.Error(err, "creating the manager")
		os.Exit(1)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		log.Error(err, "setting up the StateMachine controller")
		os.Exit(1)
	}
	if err := (&controllers.ExecutionReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("kstates-execution"),
		Logs: controllers.PodLogs{Clientset: clientset}, StepsPerReconcile: o.stepsPerReconcile,
		StuckPolicy: podtask.StuckPolicy{ImagePullTimeout: o.imagePullTimeout, UnschedulableTimeout: o.unschedulableTimeout},
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "setting up the Execution controller")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "adding the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "adding the readiness check")
		os.Exit(1)
	}

	log.Info("starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}
