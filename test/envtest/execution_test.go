package envtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// execution builds an Execution for tests.
type execution struct{ kstatesv1alpha1.Execution }

func makeExecution(ns, name string) *execution {
	e := &execution{}
	e.Namespace, e.Name = ns, name
	e.Spec.StateMachineName = "order"
	return e
}

func (e *execution) input(s string) *execution { e.Spec.Input = s; return e }

func (e *execution) obj() *kstatesv1alpha1.Execution { return &e.Execution }

func TestExecutionSpecUpdates(t *testing.T) {
	cases := []struct {
		reason string
		start  *kstatesv1alpha1.Execution
		change func(*kstatesv1alpha1.Execution)
		field  string // empty: the update is accepted
		msg    string
	}{
		{
			reason: "changing the input of a started execution is rejected",
			start:  makeExecution("", "x").input(`{"total": 1}`).obj(),
			change: func(e *kstatesv1alpha1.Execution) { e.Spec.Input = `{"total": 2}` },
			field:  "spec.input",
			msg:    "spec.input is immutable",
		},
		{
			reason: "adding an input after creation is rejected",
			start:  makeExecution("", "x").obj(),
			change: func(e *kstatesv1alpha1.Execution) { e.Spec.Input = `{}` },
			field:  "spec.input",
			msg:    "spec.input is immutable",
		},
		{
			reason: "pointing an execution at another state machine is rejected",
			start:  makeExecution("", "x").obj(),
			change: func(e *kstatesv1alpha1.Execution) { e.Spec.StateMachineName = "other" },
			field:  "spec.stateMachineName",
			msg:    "spec.stateMachineName is immutable",
		},
		{
			reason: "pinning a revision after creation is rejected",
			start:  makeExecution("", "x").obj(),
			change: func(e *kstatesv1alpha1.Execution) { e.Spec.Revision = "order-0123456789" },
			field:  "spec.revision",
			msg:    "spec.revision is immutable",
		},
		{
			reason: "asking to abort a running execution is accepted",
			start:  makeExecution("", "x").input(`{}`).obj(),
			change: func(e *kstatesv1alpha1.Execution) {
				e.Spec.Abort = &kstatesv1alpha1.AbortRequest{Error: "Operator.Stop", Cause: "deploy freeze"}
			},
		},
		{
			reason: "withdrawing an abort request is rejected",
			start: func() *kstatesv1alpha1.Execution {
				e := makeExecution("", "x").obj()
				e.Spec.Abort = &kstatesv1alpha1.AbortRequest{Error: "E"}
				return e
			}(),
			change: func(e *kstatesv1alpha1.Execution) { e.Spec.Abort = nil },
			field:  "spec.abort",
			msg:    "cannot be changed or removed",
		},
		{
			reason: "a labels-only change to an execution is accepted",
			start:  makeExecution("", "x").input(`[1, 2]`).obj(),
			change: func(e *kstatesv1alpha1.Execution) { e.Labels = map[string]string{"team": "payments"} },
		},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			ctx, ns := setup(t)
			e := c.start.DeepCopy()
			e.Namespace = ns
			if err := k8sClient.Create(ctx, e); err != nil {
				t.Fatalf("create: %v", err)
			}
			c.change(e)
			err := k8sClient.Update(ctx, e)
			if c.field == "" {
				if err != nil {
					t.Fatalf("update rejected: %v", err)
				}
				got := &kstatesv1alpha1.Execution{}
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), got); err != nil {
					t.Fatal(err)
				}
				if got.Spec.Input != c.start.Spec.Input {
					t.Fatalf("input changed from %q to %q", c.start.Spec.Input, got.Spec.Input)
				}
				return
			}
			wantInvalid(t, err, c.field, c.msg)
		})
	}
}

func TestExecutionSchemaRejects(t *testing.T) {
	cases := []struct {
		reason string
		exec   *kstatesv1alpha1.Execution
		field  string
		msg    string
	}{
		{"an execution must name its state machine", makeExecution("", "x").obj(), "spec.stateMachineName", ""},
		{"an input over 256 KiB is rejected, as AWS's StartExecution does",
			makeExecution("", "x").input(`"` + string(make([]byte, 256*1024)) + `"`).obj(), "spec.input", "Too long"},
	}
	cases[0].exec.Spec.StateMachineName = ""
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			ctx, ns := setup(t)
			e := c.exec.DeepCopy()
			e.Namespace = ns
			wantInvalid(t, k8sClient.Create(ctx, e), c.field, c.msg)
		})
	}
}

func TestExecutionStatusSubresource(t *testing.T) {
	ctx, ns := setup(t)
	e := makeExecution(ns, "run").input(`{"total": 200}`).obj()
	if err := k8sClient.Create(ctx, e); err != nil {
		t.Fatal(err)
	}

	// A status write through the main resource is ignored.
	e.Status.Phase = kstatesv1alpha1.ExecutionRunning
	if err := k8sClient.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.Status.Phase != "" {
		t.Fatalf("status written through the main resource: phase %q", e.Status.Phase)
	}

	// Through /status it is stored, with the history window, and spec changes are ignored.
	start := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e.Status = kstatesv1alpha1.ExecutionStatus{
		Phase:         kstatesv1alpha1.ExecutionRunning,
		Revision:      "order-0123456789",
		CurrentStates: []string{"Check"},
		CurrentState:  "Check",
		StartTime:     &start,
		Duration:      "1.5s",
		History: kstatesv1alpha1.ExecutionHistory{
			EventCount: 2,
			Events: []kstatesv1alpha1.HistoryEvent{
				{ID: 1, Timestamp: metav1.NewMicroTime(start.Add(1500 * time.Microsecond)), Type: "ExecutionStarted",
					Details: jsonOf(`{"input": "{\"total\": 200}", "inputDetails": {"truncated": false}}`)},
				{ID: 2, PreviousEventID: 1, Timestamp: metav1.NewMicroTime(start.Add(2 * time.Millisecond)), Type: "ChoiceStateEntered",
					StateName: "Check", Details: jsonOf(`{"name": "Check", "input": "{\"total\": 200}"}`)},
			},
		},
		EngineState: &kstatesv1alpha1.JSONText{Raw: []byte(`{"threads": [{"state": "Check", "path": []}], "vars": {"x": null}}`)},
	}
	e.Spec.Input = `{"total": 1}`
	if err := k8sClient.Status().Update(ctx, e); err != nil {
		t.Fatalf("status update: %v", err)
	}
	got := &kstatesv1alpha1.Execution{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Input != `{"total": 200}` {
		t.Errorf("a spec change went through the status subresource: input %q", got.Spec.Input)
	}
	if got.Status.Phase != kstatesv1alpha1.ExecutionRunning || got.Status.CurrentState != "Check" || got.Status.Duration != "1.5s" {
		t.Errorf("status not stored: %+v", got.Status)
	}
	ev := got.Status.History.Events
	if len(ev) != 2 || ev[1].PreviousEventID != 1 || ev[1].StateName != "Check" {
		t.Fatalf("history window not stored: %+v", ev)
	}
	if !ev[0].Timestamp.Equal(&metav1.MicroTime{Time: start.Add(1500 * time.Microsecond)}) {
		t.Errorf("event timestamp lost its microseconds: %v", ev[0].Timestamp)
	}
	if !jsonEqual(t, ev[0].Details.Raw, []byte(`{"input": "{\"total\": 200}", "inputDetails": {"truncated": false}}`)) {
		t.Errorf("event details changed: %s", ev[0].Details.Raw)
	}
	if !jsonEqual(t, got.Status.EngineState.Raw, []byte(`{"threads": [{"state": "Check", "path": []}], "vars": {"x": null}}`)) {
		t.Errorf("engine state changed: %s", got.Status.EngineState.Raw)
	}

	// In the API object the window's events and the engine state are strings of JSON text
	// (one node each for the API server), one event a line.
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(kstatesv1alpha1.GroupVersion.WithKind("Execution"))
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), raw); err != nil {
		t.Fatal(err)
	}
	events, _, _ := unstructured.NestedSlice(raw.Object, "status", "history", "events")
	if len(events) != 2 {
		t.Fatalf("status.history.events in the API object: %v", events)
	}
	for i, item := range events {
		line, ok := item.(string)
		if !ok || !strings.HasPrefix(line, fmt.Sprintf(`{"id":%d,`, i+1)) || strings.Contains(line, "\n") {
			t.Errorf("status.history.events[%d] is %T %v, want the event as one line of JSON text", i, item, item)
		}
	}
	if st, ok, _ := unstructured.NestedString(raw.Object, "status", "engineState"); !ok || !jsonEqual(t, []byte(st), got.Status.EngineState.Raw) {
		t.Errorf("status.engineState in the API object is %v, want the document as JSON text", raw.Object["status"].(map[string]any)["engineState"])
	}

	// A phase outside the enum is rejected.
	got.Status.Phase = "Done"
	wantInvalid(t, k8sClient.Status().Update(ctx, got), "status.phase", "Unsupported value")
}
