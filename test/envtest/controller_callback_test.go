package envtest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// Callback tasks (.waitForTaskToken) against the real API server: the token reaches the pod,
// the pod's exit 0 does not complete the task, TaskCallbacks do.

var callbackSeq atomic.Int64

// podToken waits for the running pod of a task and returns its KSTATES_TASK_TOKEN.
func podToken(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution, state string, attempt int) string {
	t.Helper()
	pod := taskPod(ctx, t, ns, e, state, attempt)
	for _, env := range pod.Spec.Containers[0].Env {
		if env.Name == "KSTATES_TASK_TOKEN" {
			return env.Value
		}
	}
	t.Fatalf("pod %s has no KSTATES_TASK_TOKEN", pod.Name)
	return ""
}

// sendCallback creates a TaskCallback and waits for the operator's answer.
func sendCallback(ctx context.Context, t *testing.T, ns string, spec kstatesv1alpha1.TaskCallbackSpec) *kstatesv1alpha1.TaskCallback {
	t.Helper()
	cb := &kstatesv1alpha1.TaskCallback{ObjectMeta: metaName(ns, fmt.Sprintf("cb-%d", callbackSeq.Add(1))), Spec: spec}
	create(ctx, t, cb)
	return waitFor(ctx, t, cb, "an outcome", func(cb *kstatesv1alpha1.TaskCallback) bool { return cb.Status.Phase != "" })
}

func success(token, output string) kstatesv1alpha1.TaskCallbackSpec {
	return kstatesv1alpha1.TaskCallbackSpec{Token: token, Success: &kstatesv1alpha1.TaskCallbackSuccess{Output: output}}
}

func wantCallback(t *testing.T, cb *kstatesv1alpha1.TaskCallback, phase kstatesv1alpha1.TaskCallbackPhase, reasons ...string) {
	t.Helper()
	if cb.Status.Phase != phase || (len(reasons) > 0 && !strings.Contains(strings.Join(reasons, ","), cb.Status.Reason)) {
		t.Errorf("callback %s: %s %s (%s), want %s %v", cb.Name, cb.Status.Phase, cb.Status.Reason, cb.Status.Message, phase, reasons)
	}
}

func TestCallbackTasks(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "a success callback resumes the task with its output; the pod's exit 0 does not; a second callback is rejected",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},
				"ResultPath":"$.r","Next":"W"},"W":{"Type":"Wait","Seconds":2,"End":true}}}`,
			input: `{"a":1}`, wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"a":1,"r":{"ok":true,"n":[1,2.5]}}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				token := podToken(ctx, t, ns, e, "T", 0)
				if gotNs, name, ok := podtask.ParseTaskToken(token); !ok || gotNs != ns || name != e.Name {
					t.Fatalf("token %q names %s/%s (%v)", token, gotNs, name, ok)
				}
				completePod(ctx, t, pod, 0, `{"from":"pod"}`)
				sleep(1)
				got := &kstatesv1alpha1.Execution{}
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), got); err != nil {
					t.Fatal(err)
				}
				if got.Status.Phase != kstatesv1alpha1.ExecutionRunning || got.Status.CurrentState != "T" {
					t.Fatalf("after the pod's exit 0 the execution is %s in %q, want Running in T", got.Status.Phase, got.Status.CurrentState)
				}
				wantCallback(t, sendCallback(ctx, t, ns, success(token, `not json`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackInvalidOutput)
				cb := sendCallback(ctx, t, ns, success(token, `{"ok":true,"n":[1,2.5]}`))
				wantCallback(t, cb, kstatesv1alpha1.TaskCallbackAccepted)
				if cb.Status.ExecutionName != e.Name {
					t.Errorf("callback names execution %q", cb.Status.ExecutionName)
				}
				again := sendCallback(ctx, t, ns, success(token, `{"ok":false}`))
				wantCallback(t, again, kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackTaskNotRunning, kstatesv1alpha1.CallbackExecutionFinished)
			}},
		{reason: "a failure callback through a bound AWS resource is caught by Catch; wrong tokens are rejected",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
				"Parameters":{"FunctionName":"pay","Payload":{"token.$":"$$.Task.Token"}},
				"Catch":[{"ErrorEquals":["PaymentFailed"],"ResultPath":"$.err","Next":"Caught"}],"End":true},
				"Caught":{"Type":"Pass","End":true}}}`,
			bindings:  map[string]string{"arn:aws:states:::lambda:invoke.waitForTaskToken": "payments:1"},
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"err":{"Error":"PaymentFailed","Cause":"card declined"}}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				token := podToken(ctx, t, ns, e, "T", 0)
				forged := podtask.NewTaskToken(ns, e.Name)
				wantCallback(t, sendCallback(ctx, t, ns, success(forged, `{}`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackTaskNotRunning)
				wantCallback(t, sendCallback(ctx, t, ns, success("garbage", `{}`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackInvalidToken)
				wantCallback(t, sendCallback(ctx, t, ns, success(podtask.NewTaskToken(ns, "no-such-execution"), `{}`)),
					kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackInvalidToken)
				wantCallback(t, sendCallback(ctx, t, ns, success(podtask.NewTaskToken("other-namespace", e.Name), `{}`)),
					kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackInvalidToken)
				cb := sendCallback(ctx, t, ns, kstatesv1alpha1.TaskCallbackSpec{Token: token,
					Failure: &kstatesv1alpha1.TaskCallbackFailure{Error: "PaymentFailed", Cause: "card declined"}})
				wantCallback(t, cb, kstatesv1alpha1.TaskCallbackAccepted)
			}},
		{reason: "heartbeats extend the HeartbeatSeconds deadline until a success",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},
				"HeartbeatSeconds":3,"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `"done"`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				token := podToken(ctx, t, ns, e, "T", 0)
				for range 5 { // over 5 s in all: more than the heartbeat interval, with room for a slow reconcile
					wantCallback(t, sendCallback(ctx, t, ns, kstatesv1alpha1.TaskCallbackSpec{Token: token, Heartbeat: true}), kstatesv1alpha1.TaskCallbackAccepted)
					sleep(1)
				}
				wantCallback(t, sendCallback(ctx, t, ns, success(token, `"done"`)), kstatesv1alpha1.TaskCallbackAccepted)
			}},
		{reason: "a callback task without heartbeats fails with States.HeartbeatTimeout",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},
				"HeartbeatSeconds":1,"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionFailed, wantError: "States.HeartbeatTimeout",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				token := podToken(ctx, t, ns, e, "T", 0)
				waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
				wantCallback(t, sendCallback(ctx, t, ns, success(token, `{}`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackExecutionFinished)
			}},
		{reason: "a callback task whose pod exits non-zero fails",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed",
			world: finishTask("T", 0, 1, "")},
		{reason: "a retried callback task gets a new token; the first attempt's token is rejected",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},
				"Retry":[{"ErrorEquals":["Again"],"IntervalSeconds":1}],"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `2`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				first := podToken(ctx, t, ns, e, "T", 0)
				wantCallback(t, sendCallback(ctx, t, ns, kstatesv1alpha1.TaskCallbackSpec{Token: first,
					Failure: &kstatesv1alpha1.TaskCallbackFailure{Error: "Again"}}), kstatesv1alpha1.TaskCallbackAccepted)
				second := podToken(ctx, t, ns, e, "T", 1)
				if second == first {
					t.Fatal("the retry reuses the token")
				}
				wantCallback(t, sendCallback(ctx, t, ns, success(first, `1`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackTaskNotRunning)
				wantCallback(t, sendCallback(ctx, t, ns, success(second, `2`)), kstatesv1alpha1.TaskCallbackAccepted)
			}},
	})
}

// TestCallbackSurvivesRestart: the token lives in the execution's status, so a new manager
// accepts a callback for a task the old one started.
func TestCallbackSurvivesRestart(t *testing.T) {
	ctx, ns := setup(t)
	stop := startManagerWith(t, ns, nil, nil)
	create(ctx, t, makeStateMachine(ns, "cb", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},"End":true}}}`).obj())
	e := makeExecution(ns, "cb").stateMachine("cb").obj()
	create(ctx, t, e)
	token := podToken(ctx, t, ns, e, "T", 0)
	stop()
	cb := &kstatesv1alpha1.TaskCallback{ObjectMeta: metaName(ns, "while-down"), Spec: success(token, `{"after":"restart"}`)}
	create(ctx, t, cb)
	time.Sleep(200 * time.Millisecond)
	startManagerWith(t, ns, nil, nil)
	cb = waitFor(ctx, t, cb, "an outcome", func(cb *kstatesv1alpha1.TaskCallback) bool { return cb.Status.Phase != "" })
	wantCallback(t, cb, kstatesv1alpha1.TaskCallbackAccepted)
	got := waitPhase(ctx, t, ns, "cb", kstatesv1alpha1.ExecutionSucceeded)
	if !jsonEq(got.Status.Output, `{"after":"restart"}`) {
		t.Errorf("output %s", got.Status.Output)
	}
}

// TestCallbackTokenOfAnExistingPod: when a callback task's pod already exists (a reconcile
// created it, then its status write was lost, so the repeated step issued a new token), the
// execution adopts the pod's token: the token the pod holds is the one that works.
func TestCallbackTokenOfAnExistingPod(t *testing.T) {
	ctx, ns := setup(t)
	create(ctx, t, makeStateMachine(ns, "adopt", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken","Parameters":{"Image":"x"},"End":true}}}`).obj())
	e := makeExecution(ns, "adopt").stateMachine("adopt").obj()
	create(ctx, t, e)
	// The pod the lost reconcile created: the first state's entered event is event 2.
	podToken := podtask.NewTaskToken(ns, e.Name)
	pod := &corev1.Pod{ObjectMeta: metaName(ns, podtask.PodName(kstatesv1alpha1.ExecutionObjectPrefix(e.Name, string(e.UID)), "T", "", 2, 0)),
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: podtask.ContainerName, Image: "x",
			Env: []corev1.EnvVar{{Name: podtask.TaskTokenEnv, Value: podToken}}}}}}
	create(ctx, t, pod)
	startManager(t, ns, nil)
	got := waitFor(ctx, t, e, "the task to run", func(e *kstatesv1alpha1.Execution) bool { return e.Status.CurrentState == "T" })
	if got.Status.EngineState == nil || !strings.Contains(string(got.Status.EngineState.Raw), podToken) {
		t.Fatalf("the engine state does not hold the pod's token")
	}
	wantCallback(t, sendCallback(ctx, t, ns, success(podToken, `{"adopted":true}`)), kstatesv1alpha1.TaskCallbackAccepted)
	if got := waitPhase(ctx, t, ns, "adopt", kstatesv1alpha1.ExecutionSucceeded); !jsonEq(got.Status.Output, `{"adopted":true}`) {
		t.Errorf("output %s", got.Status.Output)
	}
}
