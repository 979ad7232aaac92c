package controllers

import (
	"strings"
	"testing"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine/asl"
)

func TestCanonicalDefinition(t *testing.T) {
	cases := []struct {
		reason, text, want string
	}{
		{"JSON is compacted with keys sorted", `{ "StartAt": "A", "States": {"A": {"Type": "Succeed"}} }`, `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`},
		{"YAML becomes the same JSON", "StartAt: A\nStates:\n  A: {Type: Succeed}\n", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`},
		{"big integers are kept exactly", `{"N": 12345678901234567890}`, `{"N":12345678901234567890}`},
	}
	for _, c := range cases {
		got, err := canonicalDefinition([]byte(c.text))
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.reason, got, err, c.want)
		}
	}
}

func TestRevisionHashCoversWhatChangesARun(t *testing.T) {
	sm := func(mut func(*kstatesv1alpha1.StateMachine)) string {
		s := &kstatesv1alpha1.StateMachine{}
		s.Name = "m"
		if mut != nil {
			mut(s)
		}
		spec, err := newRevisionSpec(s, `{"StartAt":"A"}`)
		if err != nil {
			t.Fatal(err)
		}
		return spec.Hash
	}
	base := sm(nil)
	if base != sm(func(s *kstatesv1alpha1.StateMachine) { s.Spec.Type = kstatesv1alpha1.StateMachineTypeStandard }) {
		t.Error("an empty type and STANDARD hash differently")
	}
	if base != sm(func(s *kstatesv1alpha1.StateMachine) { s.Labels = map[string]string{"a": "b"} }) {
		t.Error("a label changed the hash")
	}
	for reason, mut := range map[string]func(*kstatesv1alpha1.StateMachine){
		"the type": func(s *kstatesv1alpha1.StateMachine) { s.Spec.Type = kstatesv1alpha1.StateMachineTypeExpress },
		"a binding's image": func(s *kstatesv1alpha1.StateMachine) {
			s.Spec.Bindings = []kstatesv1alpha1.TaskBinding{{Resource: "r", Container: kstatesv1alpha1.TaskContainer{Image: "i"}}}
		},
		"the service account": func(s *kstatesv1alpha1.StateMachine) { s.Spec.ServiceAccountName = "sa" },
	} {
		if sm(mut) == base {
			t.Errorf("changing %s did not change the hash", reason)
		}
	}
}

func TestDiagnosticsMessageListsTheFirstFew(t *testing.T) {
	var diags []asl.Diagnostic
	for i := 0; i < 7; i++ {
		diags = append(diags, asl.Diagnostic{Code: "MISSING_END_STATE", Location: "/States/S" + string(rune('A'+i)), Message: "no end", Severity: "ERROR"})
	}
	msg := diagnosticsMessage(diags)
	if !strings.HasPrefix(msg, "/States/SA: no end (MISSING_END_STATE); /States/SB") || !strings.HasSuffix(msg, "and 2 more (status.diagnostics)") {
		t.Errorf("message %q", msg)
	}
}
