package controllers

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

func TestParseChildRequest(t *testing.T) {
	cases := []struct {
		reason  string
		in      any
		wantSM  string
		wantIn  string
		wantErr string
	}{
		{"an AWS ARN whose name is not a Kubernetes name is refused, saying why", map[string]any{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Resize"}, "", "", "Kubernetes names are lower case"},
		{"an AWS ARN with a lower-case name", map[string]any{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:resize", "Input": map[string]any{"a": "x"}}, "resize", `{"a":"x"}`, ""},
		{"a version or alias after the name is ignored", map[string]any{"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:resize:3"}, "resize", "{}", ""},
		{"kstates' own ARN in the same namespace", map[string]any{"StateMachineArn": "arn:kstates:states:ns:stateMachine:resize", "Input": `{"s":1}`}, "resize", `{"s":1}`, ""},
		{"kstates' own ARN of another namespace is refused", map[string]any{"StateMachineArn": "arn:kstates:states:other:stateMachine:resize"}, "", "", `names namespace "other"`},
		{"a bare name", map[string]any{"StateMachineArn": "resize"}, "resize", "{}", ""},
		{"a string Input must be JSON", map[string]any{"StateMachineArn": "resize", "Input": "not json"}, "", "", "Input is a string that is not JSON"},
		{"a Name must be a Kubernetes name", map[string]any{"StateMachineArn": "resize", "Name": "Bad_Name"}, "", "", "Name \"Bad_Name\""},
		{"an unknown field is named", map[string]any{"StateMachineArn": "resize", "Inputs": "{}"}, "", "", `unknown field "Inputs"`},
		{"StateMachineArn is required", map[string]any{}, "", "", "StateMachineArn must be a non-empty string"},
		{"something that is not an ARN", map[string]any{"StateMachineArn": "arn:aws:lambda:us-east-1:1:function:f"}, "", "", "is not a state machine ARN"},
		{"the input must be an object", []any{}, "", "", "must be an object"},
	}
	for _, c := range cases {
		req, err := parseChildRequest(c.in, "ns")
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", c.reason, err, c.wantErr)
			}
			continue
		}
		if err != nil || req.stateMachine != c.wantSM || req.input != c.wantIn {
			t.Errorf("%s: %+v, %v; want %s with input %s", c.reason, req, err, c.wantSM, c.wantIn)
		}
	}
}

func TestChildCannotStart(t *testing.T) {
	cond := func(status metav1.ConditionStatus, reason string) *metav1.Condition {
		return &metav1.Condition{Type: kstatesv1alpha1.ConditionStateMachineResolved, Status: status, Reason: reason}
	}
	cases := []struct {
		reason string
		c      *metav1.Condition
		want   bool
	}{
		{"no condition yet: the child has not been looked at", nil, false},
		{"a missing StateMachine fails the task (AWS refuses to start it)", cond(metav1.ConditionFalse, kstatesv1alpha1.ReasonStateMachineNotFound), true},
		{"an invalid StateMachine fails the task", cond(metav1.ConditionFalse, kstatesv1alpha1.ReasonStateMachineInvalid), true},
		{"one not validated yet (applied with the parent's) is waited for", cond(metav1.ConditionFalse, kstatesv1alpha1.ReasonStateMachineNotValidated), false},
		{"a pinned revision not found is waited for", cond(metav1.ConditionFalse, kstatesv1alpha1.ReasonRevisionNotFound), false},
		{"resolved", cond(metav1.ConditionTrue, kstatesv1alpha1.ReasonResolved), false},
	}
	for _, c := range cases {
		if got := childCannotStart(c.c); got != c.want {
			t.Errorf("%s: got %v, want %v", c.reason, got, c.want)
		}
	}
}
