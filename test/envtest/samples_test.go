package envtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// loadSamples reads config/samples strictly into typed objects: a misspelt field fails.
func loadSamples(t *testing.T) map[string]client.Object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(), "config", "samples", "kstates_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	out := map[string]client.Object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var o client.Object
		switch {
		case strings.Contains(string(b), "\nkind: StateMachine\n"):
			o = &kstatesv1alpha1.StateMachine{}
		case strings.Contains(string(b), "\nkind: Execution\n"):
			o = &kstatesv1alpha1.Execution{}
		default:
			t.Fatalf("%s: unknown kind", f)
		}
		if err := yaml.UnmarshalStrict(b, o); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = o
	}
	return out
}

func TestOrderSampleRunsTheExampleDefinitionUnchanged(t *testing.T) {
	sm := loadSamples(t)["kstates_v1alpha1_statemachine_order.yaml"].(*kstatesv1alpha1.StateMachine)
	example, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "order", "statemachine.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exampleJSON, err := yaml.YAMLToJSON(example)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, sm.Spec.Definition.Raw, exampleJSON) {
		t.Fatal("config/samples/kstates_v1alpha1_statemachine_order.yaml no longer holds examples/order/statemachine.yaml")
	}
	// Every Lambda ARN of the definition has a binding.
	for _, line := range strings.Split(string(example), "\n") {
		if i := strings.Index(line, "arn:aws:lambda:"); i >= 0 {
			arn := strings.TrimSpace(line[i:])
			found := false
			for _, b := range sm.Spec.Bindings {
				found = found || b.Resource == arn
			}
			if !found {
				t.Errorf("no binding for %s", arn)
			}
		}
	}
}

func TestSamplesAreAcceptedByTheAPIServer(t *testing.T) {
	ctx, ns := setup(t)
	for name, o := range loadSamples(t) {
		o.SetNamespace(ns)
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if sm, ok := o.(*kstatesv1alpha1.StateMachine); ok && sm.Spec.Definition != nil {
			got := &kstatesv1alpha1.StateMachine{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(decodeExact(t, got.Spec.Definition.Raw), decodeExact(t, sm.Spec.Definition.Raw)) {
				t.Errorf("%s: definition changed through the API server", name)
			}
		}
	}
}
