package envtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// scenario is one execution run against the real API server: a definition, an input, what
// the test does to the world while it runs (complete pods as a kubelet would, abort it, edit
// its StateMachine), and the status expected at the end.
type scenario struct {
	reason     string
	definition string
	input      string
	bindings   map[string]string
	world      func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution)
	wantPhase  kstatesv1alpha1.ExecutionPhase
	wantOutput string
	wantError  string
	wantCause  string // a substring of the cause
	// wantHistory is the whole history's event types, in order, when set.
	wantHistory []string
}

func runScenarios(t *testing.T, cases []scenario) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	for i, c := range cases {
		name := fmt.Sprintf("s%d", i)
		sm := makeStateMachine(ns, name, c.definition)
		for res, img := range c.bindings {
			sm.binding(res, img)
		}
		create(ctx, t, sm.obj())
		e := makeExecution(ns, name).stateMachine(name).input(c.input).obj()
		create(ctx, t, e)
		if c.world != nil {
			c.world(ctx, t, ns, e)
		}
		got := waitPhase(ctx, t, ns, name, c.wantPhase)
		if c.wantOutput != "" && !jsonEq(got.Status.Output, c.wantOutput) {
			t.Errorf("%s: output %s, want %s", c.reason, got.Status.Output, c.wantOutput)
		}
		if got.Status.Error != c.wantError || !strings.Contains(got.Status.Cause, c.wantCause) {
			t.Errorf("%s: error %q cause %q, want %q and a cause containing %q", c.reason, got.Status.Error, got.Status.Cause, c.wantError, c.wantCause)
		}
		if got.Status.StopTime == nil || got.Status.StartTime == nil || got.Status.Duration == "" || got.Status.CurrentState != "" || got.Status.EngineState != nil {
			t.Errorf("%s: final status: start %v stop %v duration %q current %q engineState %v", c.reason,
				got.Status.StartTime, got.Status.StopTime, got.Status.Duration, got.Status.CurrentState, got.Status.EngineState != nil)
		}
		if c.wantHistory != nil {
			if h := historyTypes(ctx, t, got); joined(h) != joined(c.wantHistory) {
				t.Errorf("%s: history\n  %s\nwant\n  %s", c.reason, joined(h), joined(c.wantHistory))
			}
		}
	}
}

// finishTask completes the pod of a task attempt with an exit code and termination message.
func finishTask(state string, attempt int, code int32, message string) func(context.Context, *testing.T, string, *kstatesv1alpha1.Execution) {
	return func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
		completePod(ctx, t, taskPod(ctx, t, ns, e, state, attempt), code, message)
	}
}

// then runs world steps in order.
func then(steps ...func(context.Context, *testing.T, string, *kstatesv1alpha1.Execution)) func(context.Context, *testing.T, string, *kstatesv1alpha1.Execution) {
	return func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
		for _, s := range steps {
			s(ctx, t, ns, e)
		}
	}
}

func TestExecutionRunsEveryStateType(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "Pass, Choice and Succeed pass data along",
			definition: `{"StartAt":"P","States":{
				"P":{"Type":"Pass","Result":{"n":3},"ResultPath":"$.r","Next":"C"},
				"C":{"Type":"Choice","Choices":[{"Variable":"$.r.n","NumericGreaterThan":2,"Next":"Big"}],"Default":"Small"},
				"Big":{"Type":"Succeed"},
				"Small":{"Type":"Fail","Error":"TooSmall"}}}`,
			input: `{"a":1}`, wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"a":1,"r":{"n":3}}`,
			wantHistory: []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
				"SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}},
		{reason: "Fail ends the execution with its error and cause",
			definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"it broke"}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "Boom", wantCause: "it broke",
			wantHistory: []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"}},
		{reason: "Wait waits (a deadline in the status) and goes on",
			definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"D"},"D":{"Type":"Pass","End":true}}}`,
			input:      `{"x":"y"}`, wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"x":"y"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				waitFor(ctx, t, e, "a deadline while waiting", func(e *kstatesv1alpha1.Execution) bool {
					return e.Status.NextDeadline != nil && e.Status.CurrentState == "W" && e.Status.Phase == kstatesv1alpha1.ExecutionRunning
				})
			}},
		{reason: "Parallel runs its branches and collects their outputs",
			definition: `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","End":true}}},
				{"StartAt":"B","States":{"B":{"Type":"Pass","Result":"b","Next":"B2"},"B2":{"Type":"Pass","End":true}}}]}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `["a","b"]`},
		{reason: "Map runs an iteration per item",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","End":true,
				"ItemProcessor":{"StartAt":"Double","States":{"Double":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($, $)"},"End":true}}}}}}`,
			input: `{"items":[1,2,3]}`, wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `[{"v":2},{"v":4},{"v":6}]`},
		{reason: "Choice with no match fails with States.NoChoiceMatched",
			definition: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","IsPresent":true,"Next":"S"}]},"S":{"Type":"Succeed"}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.NoChoiceMatched"},
	})
}

func TestExecutionRunsTasksAsPods(t *testing.T) {
	const lambda = "arn:aws:lambda:eu-west-1:123456789012:function:Charge"
	runScenarios(t, []scenario{
		{reason: "a kstates:pod task gets its input and returns its termination message as output",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{
				"Image":"busybox:1.36","Command":["sh","-c"],"Args":["cat /kstates/input.json > /dev/termination-log"],
				"Env":{"MODE":"fast"},"Input":{"order.$":"$.order"}},"ResultPath":"$.result","End":true}}}`,
			input:     `{"order":"o-1"}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"order":"o-1","result":{"charged":true}}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				c := pod.Spec.Containers[0]
				if !jsonEq(pod.Annotations[podtask.InputAnnotation], `{"order":"o-1"}`) || c.Image != "busybox:1.36" ||
					c.TerminationMessagePath != "/dev/termination-log" || c.TerminationMessagePolicy != corev1.TerminationMessageReadFile ||
					pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("task pod: annotations %v, container %+v", pod.Annotations, c)
				}
				env := map[string]string{}
				for _, v := range c.Env {
					env[v.Name] = v.Value
				}
				if env["MODE"] != "fast" || !jsonEq(env["KSTATES_INPUT"], `{"order":"o-1"}`) || env["KSTATES_INPUT_FILE"] != "/kstates/input.json" {
					t.Errorf("task env: %v", env)
				}
				if owner := metav1.GetControllerOf(pod); owner == nil || owner.UID != e.UID {
					t.Errorf("task pod owner: %+v", pod.OwnerReferences)
				}
				completePod(ctx, t, pod, 0, `{"charged":true}`)
			}},
		{reason: "an output too large for a termination message is the last line the task printed",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"big":"` + strings.Repeat("y", 9000) + `"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				kubeletLogs.Store(ns+"/"+pod.Name, "working\n{\"big\":\""+strings.Repeat("y", 9000)+"\"}\n")
				completePod(ctx, t, pod, 0, "")
			}},
		{reason: "a task that writes no output (the API server serves an empty log) outputs {}",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{}`,
			world: finishTask("T", 0, 0, "")},
		{reason: "a task that exits 0 with no termination message and an unreadable log fails, saying so",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "its log",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				kubeletLogs.Store(ns+"/"+pod.Name, apierrors.NewBadRequest("the node of the pod is gone"))
				completePod(ctx, t, pod, 0, "")
			}},
		{reason: "a Task visited again in a loop runs again (a new pod per visit)",
			definition: `{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x","Input.$":"$"},"Next":"Again"},
				"Again":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":3,"Next":"T"}],"Default":"Done"},
				"Done":{"Type":"Succeed"}}}`,
			input: `{"n":0}`, wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"n":3}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				for i := 0; i < 3; i++ {
					completePod(ctx, t, taskPod(ctx, t, ns, e, "T", 0), 0, fmt.Sprintf(`{"n":%d}`, i+1))
				}
			}},
		{reason: "a bound Resource (a Lambda ARN) runs its container; a named error is retried, then it succeeds",
			definition: `{"StartAt":"Charge","States":{"Charge":{"Type":"Task","Resource":"` + lambda + `",
				"Retry":[{"ErrorEquals":["PaymentFailed"],"IntervalSeconds":1,"MaxAttempts":2}],"End":true}}}`,
			input: `{"amount":5}`, bindings: map[string]string{lambda: "registry.example/charge:1"},
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"ok":1}`,
			world: then(finishTask("Charge", 0, 1, `{"Error":"PaymentFailed","Cause":"card declined"}`),
				finishTask("Charge", 1, 0, `{"ok":1}`)),
			wantHistory: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
				"TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}},
		{reason: "a non-zero exit without a named error is States.TaskFailed, which Catch handles",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},
				"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"Handled"}],"End":true},
				"Handled":{"Type":"Pass","OutputPath":"$.err","End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded,
			wantOutput: `{"Error":"States.TaskFailed","Cause":"the task container exited with code 3: oops"}`,
			world:      finishTask("T", 0, 3, "oops")},
		{reason: "an uncaught named error fails the execution with it",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "PaymentFailed", wantCause: "card declined",
			world: finishTask("T", 0, 1, `{"Error":"PaymentFailed","Cause":"card declined"}`)},
		{reason: "a task whose pod cannot be built fails with States.TaskFailed naming the field",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Command":["x"]},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "Image must be a non-empty string"},
		{reason: "a Resource with no binding fails the task, saying so",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:Nope","End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "no binding for Resource"},
		{reason: "a task over its TimeoutSeconds has its pod deleted and raises States.Timeout",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"TimeoutSeconds":1,"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.Timeout",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				waitDeleted(ctx, t, pod)
			}},
	})
}

func TestExecutionTimeoutAndAbort(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "a task that sends no heartbeat within HeartbeatSeconds fails with States.HeartbeatTimeout, caught by Catch",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"HeartbeatSeconds":1,
				"Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"Next":"Late"}],"End":true},"Late":{"Type":"Pass","Result":"late","End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `"late"`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				waitDeleted(ctx, t, taskPod(ctx, t, ns, e, "T", 0))
			}},
		{reason: "the execution's TimeoutSeconds ends it TimedOut",
			definition: `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionTimedOut, wantError: "States.Timeout",
			wantHistory: []string{"ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"}},
		{reason: "spec.abort stops a running execution with its error and cause and deletes its task pod",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionAborted, wantError: "Operator.Stop", wantCause: "deploy freeze",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"abort":{"error":"Operator.Stop","cause":"deploy freeze"}}}`))
				if err := k8sClient.Patch(ctx, e, patch); err != nil {
					t.Fatal(err)
				}
				waitDeleted(ctx, t, pod)
			}},
	})
}
