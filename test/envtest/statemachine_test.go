package envtest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// orderManifest is a StateMachine as a user writes it, with the definition inline in YAML.
// It holds what ASL documents hold and a lossy store would break: a null ResultPath (which
// discards a result), nested arrays, unicode, an integer above 2^53, a JSONPath key ending
// in ".$", an empty object.
const orderManifest = `
apiVersion: kstates.io/v1alpha1
kind: StateMachine
metadata:
  name: order
spec:
  definition:
    Comment: "Order — ünïcode, quotes \" and a tab\t"
    StartAt: Check
    States:
      Check:
        Type: Choice
        Choices:
          - Variable: $.total
            NumericGreaterThan: 100.5
            Next: Big
        Default: Small
      Big:
        Type: Pass
        Parameters:
          id.$: $.id
          big: 9007199254740993
          tags: [a, [b, c], {}]
        ResultPath: null
        Next: Small
      Small:
        Type: Succeed
  bindings:
    - resource: arn:aws:lambda:us-east-1:123456789012:function:charge
      container:
        image: registry.example/charge:1.0
        args: ["--fast"]
`

func TestStateMachineInlineYAMLDefinitionRoundTrips(t *testing.T) {
	ctx, ns := setup(t)
	sm := &kstatesv1alpha1.StateMachine{}
	if err := yaml.UnmarshalStrict([]byte(orderManifest), sm); err != nil {
		t.Fatal(err)
	}
	sm.Namespace = ns
	if err := k8sClient.Create(ctx, sm); err != nil {
		t.Fatalf("create: %v", err)
	}
	got := &kstatesv1alpha1.StateMachine{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), got); err != nil {
		t.Fatal(err)
	}

	// What the user wrote, as JSON, decoded without losing number precision.
	manifestJSON, err := yaml.YAMLToJSON([]byte(orderManifest))
	if err != nil {
		t.Fatal(err)
	}
	want := decodeExact(t, manifestJSON).(map[string]any)["spec"].(map[string]any)["definition"]
	if got.Spec.Definition == nil {
		t.Fatal("spec.definition is missing after the round trip")
	}
	have := decodeExact(t, got.Spec.Definition.Raw)
	if !reflect.DeepEqual(want, have) {
		t.Fatalf("definition changed in the round trip:\nwrote %v\nread  %s", want, got.Spec.Definition.Raw)
	}
	// The null ResultPath is kept as a null, not dropped.
	big := have.(map[string]any)["States"].(map[string]any)["Big"].(map[string]any)
	if v, ok := big["ResultPath"]; !ok || v != nil {
		t.Fatalf("ResultPath: null was not kept: %v (present %v)", v, ok)
	}
	if got.Spec.Type != kstatesv1alpha1.StateMachineTypeStandard {
		t.Errorf("spec.type defaulted to %q, want STANDARD", got.Spec.Type)
	}
	if len(got.Spec.Bindings) != 1 || got.Spec.Bindings[0].Container.Image != "registry.example/charge:1.0" {
		t.Errorf("bindings not kept: %+v", got.Spec.Bindings)
	}
}

// decodeExact decodes JSON keeping numbers as their literal text.
func decodeExact(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func TestStateMachineDefinitionStringIsKeptByteForByte(t *testing.T) {
	ctx, ns := setup(t)
	text := "# comments, key order and spacing survive\nStartAt: B\nStates:\n  B: {Type: Pass,   End: true}\n  A: {Type: Fail}\n"
	sm := &kstatesv1alpha1.StateMachine{}
	sm.Name, sm.Namespace = "text", ns
	sm.Spec.DefinitionString = text
	if err := k8sClient.Create(ctx, sm); err != nil {
		t.Fatalf("create: %v", err)
	}
	got := &kstatesv1alpha1.StateMachine{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.DefinitionString != text {
		t.Fatalf("definitionString changed:\nwrote %q\nread  %q", text, got.Spec.DefinitionString)
	}
}

func TestStateMachineSchemaRejects(t *testing.T) {
	cases := []struct {
		reason   string
		manifest string
		field    string
		msg      string
	}{
		{
			reason:   "an execution type outside the enum is a field error on spec.type",
			manifest: `{"spec": {"type": "FAST", "definition": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}}}`,
			field:    "spec.type",
			msg:      "Unsupported value",
		},
		{
			reason:   "a definition given both inline and as a string is ambiguous",
			manifest: `{"spec": {"definitionString": "{}", "definition": {"StartAt": "A"}}}`,
			field:    "spec",
			msg:      "exactly one of spec.definition and spec.definitionString",
		},
		{
			reason:   "a state machine without a definition cannot run",
			manifest: `{"spec": {"type": "EXPRESS"}}`,
			field:    "spec",
			msg:      "exactly one of spec.definition and spec.definitionString",
		},
		{
			reason:   "a definition must be an object, not a list",
			manifest: `{"spec": {"definition": ["StartAt"]}}`,
			field:    "spec.definition",
			msg:      "must be of type object",
		},
		{
			reason:   "two bindings of one Resource are a duplicate key",
			manifest: `{"spec": {"definitionString": "{}", "bindings": [{"resource": "r", "container": {"image": "a"}}, {"resource": "r", "container": {"image": "b"}}]}}`,
			field:    "spec.bindings[1]",
			msg:      "Duplicate value",
		},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			ctx, ns := setup(t)
			sm := &kstatesv1alpha1.StateMachine{}
			if err := json.Unmarshal([]byte(c.manifest), sm); err != nil {
				t.Fatal(err)
			}
			sm.Name, sm.Namespace = "bad", ns
			wantInvalid(t, k8sClient.Create(ctx, sm), c.field, c.msg)
		})
	}
}
