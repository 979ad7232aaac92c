package main

import (
	"flag"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestSchemeKnowsEveryKindTheManagerUses(t *testing.T) {
	s := newScheme()
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "kstates.io", Version: "v1alpha1", Kind: "StateMachine"},
		{Group: "kstates.io", Version: "v1alpha1", Kind: "Execution"},
		{Group: "kstates.io", Version: "v1alpha1", Kind: "StateMachineRevision"},
		{Group: "kstates.io", Version: "v1alpha1", Kind: "HistoryChunk"},
		{Group: "kstates.io", Version: "v1alpha1", Kind: "Payload"},
		{Version: "v1", Kind: "Pod"},
		{Version: "v1", Kind: "Event"},
	} {
		if !s.Recognizes(gvk) {
			t.Errorf("scheme does not recognize %v", gvk)
		}
	}
}

func TestFlags(t *testing.T) {
	cases := []struct {
		reason string
		args   []string
		want   options
	}{
		{"defaults serve secure metrics on :8443 without leader election", nil,
			options{metricsAddr: ":8443", metricsSecure: true, probeAddr: ":8081", executionWorkers: 8, stepsPerReconcile: 1, imagePullTimeout: 2 * time.Minute, unschedulableTimeout: 5 * time.Minute}},
		{"flags override the defaults",
			[]string{"--metrics-bind-address=:8080", "--metrics-secure=false", "--health-probe-bind-address=:9090", "--leader-elect"},
			options{metricsAddr: ":8080", probeAddr: ":9090", leaderElect: true, executionWorkers: 8, stepsPerReconcile: 1, imagePullTimeout: 2 * time.Minute, unschedulableTimeout: 5 * time.Minute}},
		{"--namespaces limits the manager to some namespaces", []string{"--namespaces=a,b"},
			options{metricsAddr: ":8443", metricsSecure: true, probeAddr: ":8081", executionWorkers: 8, stepsPerReconcile: 1, imagePullTimeout: 2 * time.Minute, unschedulableTimeout: 5 * time.Minute, namespaces: "a,b"}},
		{"stuck task pods' bounds", []string{"--image-pull-timeout=30s", "--unschedulable-timeout=1m"},
			options{metricsAddr: ":8443", metricsSecure: true, probeAddr: ":8081", executionWorkers: 8, stepsPerReconcile: 1, imagePullTimeout: 30 * time.Second, unschedulableTimeout: time.Minute}},
		{"--steps-per-reconcile lets a reconcile commit several transitions", []string{"--steps-per-reconcile=10"},
			options{metricsAddr: ":8443", metricsSecure: true, probeAddr: ":8081", executionWorkers: 8, stepsPerReconcile: 10, imagePullTimeout: 2 * time.Minute, unschedulableTimeout: 5 * time.Minute}},
	}
	for _, c := range cases {
		got, _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.reason, err)
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.reason, got, c.want)
		}
	}
}

func TestFlagsRefuseValuesBelowOne(t *testing.T) {
	for _, arg := range []string{"--steps-per-reconcile=0", "--execution-workers=0", "--image-pull-timeout=0s", "--unschedulable-timeout=-1m"} {
		_, _, err := parseFlags(flag.NewFlagSet("manager", flag.ContinueOnError), []string{arg})
		name := strings.SplitN(strings.TrimPrefix(arg, "--"), "=", 2)[0]
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want an error naming --%s", arg, err, name)
		}
	}
}

func TestWatchedNamespaces(t *testing.T) {
	if got := watchedNamespaces(""); got != nil {
		t.Errorf(`"" watches %v, want all namespaces (nil)`, got)
	}
	got := watchedNamespaces(" kstates-demo, ,team-a,")
	if len(got) != 2 {
		t.Errorf("got %v, want kstates-demo and team-a", got)
	}
	for _, ns := range []string{"kstates-demo", "team-a"} {
		if _, ok := got[ns]; !ok {
			t.Errorf("got %v, want %s in it", got, ns)
		}
	}
}
