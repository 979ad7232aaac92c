package envtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
)

// Child executions (arn:aws:states:::states:startExecution[.sync[:2]]) against the real API
// server: the child is an Execution owned by its parent, run by the same controller.

func TestChildExecutions(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t,
		makeStateMachine(ns, "ok", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$"},"End":true}}}`).obj(),
		makeStateMachine(ns, "bad", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"ChildError","Cause":"went wrong"}}}`).obj(),
		makeStateMachine(ns, "slow", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":300,"End":true}}}`).obj(),
		makeStateMachine(ns, "short", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`).obj(),
	)
	run := func(name, definition, input string) *kstatesv1alpha1.Execution {
		t.Helper()
		create(ctx, t, makeStateMachine(ns, name, definition).obj())
		e := makeExecution(ns, name).stateMachine(name).input(input).obj()
		create(ctx, t, e)
		return e
	}
	children := func(parent *kstatesv1alpha1.Execution) []kstatesv1alpha1.Execution {
		t.Helper()
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(parent), parent); err != nil {
			t.Fatal(err)
		}
		list := &kstatesv1alpha1.ExecutionList{}
		if err := k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{controllers.LabelParentUID: string(parent.UID)}); err != nil {
			t.Fatal(err)
		}
		return list.Items
	}

	t.Run(".sync:2 waits for the child and returns its output as JSON", func(t *testing.T) {
		e := run("p-sync2", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
			"Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:ok","Input":{"x.$":"$.x"}},"End":true}}}`, `{"x":7}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
		var out map[string]any
		if err := json.Unmarshal([]byte(got.Status.Output), &out); err != nil {
			t.Fatal(err)
		}
		kids := children(e)
		if len(kids) != 1 || !metav1.IsControlledBy(&kids[0], e) || kids[0].Spec.StateMachineName != "ok" {
			t.Fatalf("children %+v, want one child of ok owned by the parent", kids)
		}
		wantArn := controllers.ExecutionARN(ns, "ok", kids[0].Name)
		if out["Status"] != "SUCCEEDED" || out["ExecutionArn"] != wantArn || out["Name"] != kids[0].Name ||
			out["StateMachineArn"] != controllers.StateMachineARN(ns, "ok") || out["StartDate"] == nil || out["StopDate"] == nil {
			t.Errorf("output %s", got.Status.Output)
		}
		if b, _ := json.Marshal(out["Output"]); string(b) != `{"got":{"x":7}}` {
			t.Errorf("Output %s, want the child's output as JSON", b)
		}
		if b, _ := json.Marshal(out["Input"]); string(b) != `{"x":7}` {
			t.Errorf("Input %s, want the child's input as JSON", b)
		}
	})

	t.Run(".sync returns the output as JSON text; kstates' own ARN and a string Input work", func(t *testing.T) {
		e := run("p-sync", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"arn:kstates:states:`+ns+`:stateMachine:ok","Input":"{\"s\":1}","Name":"named-child"},
			"ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
		if !jsonEq(got.Status.Output, `{"out":"{\"got\":{\"s\":1}}","status":"SUCCEEDED"}`) {
			t.Errorf("output %s", got.Status.Output)
		}
		if kids := children(e); len(kids) != 1 || kids[0].Name != "named-child" {
			t.Errorf("children %v, want named-child", kids)
		}
	})

	t.Run("a failed child fails the task with States.TaskFailed and AWS's description as cause", func(t *testing.T) {
		e := run("p-fail", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
			"Parameters":{"StateMachineArn":"bad"},"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
		var cause map[string]any
		if got.Status.Error != "States.TaskFailed" || json.Unmarshal([]byte(got.Status.Cause), &cause) != nil ||
			cause["Status"] != "FAILED" || cause["Error"] != "ChildError" || cause["Cause"] != "went wrong" {
			t.Errorf("error %q cause %s", got.Status.Error, got.Status.Cause)
		}
	})

	t.Run("aborting the parent aborts the child it waits for", func(t *testing.T) {
		e := run("p-abort", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"slow"},"End":true}}}`, `{}`)
		var kid *kstatesv1alpha1.Execution
		for i := 0; i < 100 && kid == nil; i++ {
			if kids := children(e); len(kids) == 1 {
				kid = &kids[0]
			}
			sleep(0.1)
		}
		if kid == nil {
			t.Fatal("no child")
		}
		waitPhase(ctx, t, ns, kid.Name, kstatesv1alpha1.ExecutionRunning)
		abort := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"abort":{"error":"Stop","cause":"test"}}}`))
		if err := k8sClient.Patch(ctx, e, abort); err != nil {
			t.Fatal(err)
		}
		waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionAborted)
		got := waitPhase(ctx, t, ns, kid.Name, kstatesv1alpha1.ExecutionAborted)
		if !strings.Contains(got.Status.Cause, "no longer waits") {
			t.Errorf("child cause %q", got.Status.Cause)
		}
	})

	t.Run("the task's TimeoutSeconds aborts the child", func(t *testing.T) {
		e := run("p-timeout", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"slow"},"TimeoutSeconds":1,"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
		if got.Status.Error != "States.Timeout" {
			t.Errorf("error %q", got.Status.Error)
		}
		kids := children(e)
		if len(kids) != 1 {
			t.Fatalf("children %v", kids)
		}
		waitPhase(ctx, t, ns, kids[0].Name, kstatesv1alpha1.ExecutionAborted)
	})

	t.Run("request-response returns ExecutionArn and StartDate at once; the child runs on", func(t *testing.T) {
		e := run("p-start", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
			"Parameters":{"StateMachineArn":"short"},"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
		kids := children(e)
		if len(kids) != 1 {
			t.Fatalf("children %v", kids)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(got.Status.Output), &out); err != nil || len(out) != 2 ||
			out["ExecutionArn"] != controllers.ExecutionARN(ns, "short", kids[0].Name) || out["StartDate"] == nil {
			t.Errorf("output %s", got.Status.Output)
		}
		waitPhase(ctx, t, ns, kids[0].Name, kstatesv1alpha1.ExecutionSucceeded)
	})

	t.Run("a Name another execution has is StepFunctions.ExecutionAlreadyExistsException", func(t *testing.T) {
		create(ctx, t, makeExecution(ns, "taken").stateMachine("ok").obj())
		e := run("p-taken", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"ok","Name":"taken"},
			"Catch":[{"ErrorEquals":["StepFunctions.ExecutionAlreadyExistsException"],"Next":"Caught"}],"End":true},
			"Caught":{"Type":"Pass","End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
		if !strings.Contains(got.Status.Output, "StepFunctions.ExecutionAlreadyExistsException") {
			t.Errorf("output %s", got.Status.Output)
		}
	})

	t.Run("a .sync child whose StateMachine does not exist fails the task and is aborted", func(t *testing.T) {
		e := run("p-nosm", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"no-such-machine"},"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
		if got.Status.Error != controllers.ErrStateMachineDoesNotExist || !strings.Contains(got.Status.Cause, "no-such-machine") {
			t.Errorf("error %q cause %q", got.Status.Error, got.Status.Cause)
		}
		kids := children(e)
		if len(kids) != 1 {
			t.Fatalf("children %v", kids)
		}
		waitPhase(ctx, t, ns, kids[0].Name, kstatesv1alpha1.ExecutionAborted)
	})

	t.Run("bad parameters fail the task naming the field", func(t *testing.T) {
		e := run("p-badparam", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"arn:kstates:states:elsewhere:stateMachine:ok"},"End":true}}}`, `{}`)
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
		if got.Status.Error != "States.TaskFailed" || !strings.Contains(got.Status.Cause, `names namespace "elsewhere"`) {
			t.Errorf("error %q cause %q", got.Status.Error, got.Status.Cause)
		}
	})

	t.Run("a child deleted while its parent waits is kstates.ExecutionDeleted", func(t *testing.T) {
		e := run("p-deleted", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
			"Parameters":{"StateMachineArn":"slow"},"End":true}}}`, `{}`)
		var kids []kstatesv1alpha1.Execution
		for i := 0; i < 100 && len(kids) == 0; i++ {
			kids = children(e)
			sleep(0.1)
		}
		if len(kids) != 1 {
			t.Fatal("no child")
		}
		if err := k8sClient.Delete(ctx, &kids[0]); err != nil {
			t.Fatal(err)
		}
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
		if got.Status.Error != controllers.ErrChildDeleted {
			t.Errorf("error %q cause %q", got.Status.Error, got.Status.Cause)
		}
	})

	t.Run(".waitForTaskToken starts the child and waits for a callback with the token, not for the child", func(t *testing.T) {
		e := run("p-callback", `{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",
			"Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:ok","Input":{"token.$":"$$.Task.Token"}},"End":true}}}`, `{}`)
		var kid kstatesv1alpha1.Execution
		deadline := time.Now().Add(waitTimeout)
		for {
			if kids := children(e); len(kids) == 1 && kids[0].Status.Phase == kstatesv1alpha1.ExecutionSucceeded {
				kid = kids[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no child of %s succeeded", e.Name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if kid.Labels[controllers.LabelParentWaits] != "" {
			t.Errorf("the child is labelled %s: it would be aborted with its task", controllers.LabelParentWaits)
		}
		var out struct {
			Got struct{ Token string } `json:"got"`
		}
		if err := json.Unmarshal([]byte(kid.Status.Output), &out); err != nil || out.Got.Token == "" {
			t.Fatalf("the child's output %s has no token (%v)", kid.Status.Output, err)
		}
		// The child has ended; the parent still waits for the callback.
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil || e.Status.Phase != kstatesv1alpha1.ExecutionRunning {
			t.Fatalf("after the child ended the parent is %s (err %v), want Running until the callback", e.Status.Phase, err)
		}
		sendCallback(ctx, t, ns, success(out.Got.Token, `{"approved":true}`))
		got := waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
		if !jsonEq(got.Status.Output, `{"approved":true}`) {
			t.Errorf("output %s, want the callback's", got.Status.Output)
		}
	})
}
