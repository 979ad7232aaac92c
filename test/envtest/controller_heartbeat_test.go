package envtest

import (
	"context"
	"strings"
	"testing"
	"time"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// Heartbeats from pod tasks: a task with HeartbeatSeconds gets a token in its pod and stays
// alive while TaskCallbacks {heartbeat: true} arrive; without them it ends with
// States.HeartbeatTimeout and its pod is deleted.

func heartbeat(token string) kstatesv1alpha1.TaskCallbackSpec {
	return kstatesv1alpha1.TaskCallbackSpec{Token: token, Heartbeat: true}
}

func TestPodTaskHeartbeats(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "heartbeats keep a pod task alive past HeartbeatSeconds; its pod's exit ends it",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"HeartbeatSeconds":2,"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"done":true}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				token := podToken(ctx, t, ns, e, "T", 0)
				start := time.Now()
				for time.Since(start) < 5*time.Second {
					wantCallback(t, sendCallback(ctx, t, ns, heartbeat(token)), kstatesv1alpha1.TaskCallbackAccepted)
					sleep(0.7)
				}
				wantCallback(t, sendCallback(ctx, t, ns, success(token, `{"from":"callback"}`)), kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackTaskNotRunning)
				completePod(ctx, t, pod, 0, `{"done":true}`)
			}},
		{reason: "a pod task without heartbeats ends with States.HeartbeatTimeout and its pod is deleted",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"HeartbeatSeconds":1,
				"Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"Error":"States.HeartbeatTimeout","Cause":""}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				waitDeleted(ctx, t, pod)
			}},
		{reason: "a Job task with HeartbeatSeconds gets a token too, and times out without heartbeats",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"HeartbeatSeconds":1,"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.HeartbeatTimeout",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				found := false
				for _, env := range job.Spec.Template.Spec.Containers[0].Env {
					found = found || (env.Name == "KSTATES_TASK_TOKEN" && strings.TrimSpace(env.Value) != "")
				}
				if !found {
					t.Errorf("the job's pods get no KSTATES_TASK_TOKEN")
				}
				waitDeleted(ctx, t, job)
			}},
	})
}
