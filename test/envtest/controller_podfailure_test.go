package envtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/podtask"
)

// Attempts that Kubernetes ends (an OOM kill, an eviction, an image that cannot be pulled, no
// node, a deletion) end with distinct kstates.* errors that Retry and Catch match, never a
// hang. envtest has no kubelet and no scheduler: the tests write the pod status they would.

// writePodStatus sets the pod's status as a kubelet or the scheduler would.
func writePodStatus(ctx context.Context, t *testing.T, pod *corev1.Pod, edit func(*corev1.PodStatus)) {
	t.Helper()
	edit(&pod.Status)
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatalf("writing the status of pod %s: %v", pod.Name, err)
	}
}

func terminated(code int32, reason string) []corev1.ContainerStatus {
	now := metav1.Now()
	return []corev1.ContainerStatus{{Name: podtask.ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, StartedAt: metav1.NewTime(now.Add(-time.Second)), FinishedAt: now}}}}
}

func waitingFor(reason, msg string) []corev1.ContainerStatus {
	return []corev1.ContainerStatus{{Name: podtask.ContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
}

// catching is a definition whose task T catches ERROR into $.caught and succeeds.
func catching(errName string) string {
	return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},
		"Catch":[{"ErrorEquals":["` + errName + `"],"ResultPath":"$.caught","Next":"C"}],"End":true},
		"C":{"Type":"Pass","Parameters":{"error.$":"$.caught.Error"},"End":true}}}`
}

func TestPodFailuresHaveDistinctErrors(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "an OOM kill is kstates.OOMKilled, caught by name",
			definition: catching("kstates.OOMKilled"), wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"error":"kstates.OOMKilled"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				writePodStatus(ctx, t, taskPod(ctx, t, ns, e, "T", 0), func(st *corev1.PodStatus) {
					st.Phase, st.ContainerStatuses = corev1.PodFailed, terminated(137, "OOMKilled")
				})
			}},
		{reason: "an evicted pod is kstates.PodEvicted, which Retry retries as a new attempt",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},
				"Retry":[{"ErrorEquals":["kstates.PodEvicted"],"IntervalSeconds":1,"MaxAttempts":1}],"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"attempt":1}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				writePodStatus(ctx, t, taskPod(ctx, t, ns, e, "T", 0), func(st *corev1.PodStatus) {
					st.Phase, st.Reason, st.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
					st.ContainerStatuses = terminated(137, "ContainerStatusUnknown")
				})
				completePod(ctx, t, taskPod(ctx, t, ns, e, "T", 1), 0, `{"attempt":1}`)
			}},
		{reason: "an image that is never pulled is kstates.ImagePullFailed at once",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrImagePullFailed, wantCause: "ErrImageNeverPull",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				writePodStatus(ctx, t, taskPod(ctx, t, ns, e, "T", 0), func(st *corev1.PodStatus) {
					st.Phase, st.ContainerStatuses = corev1.PodPending, waitingFor("ErrImageNeverPull", `Container image "x" is not present with pull policy of Never`)
				})
			}},
		{reason: "a pod unschedulable for longer than the grace is kstates.Unschedulable, and States.ALL catches it",
			definition: catching("States.ALL"), wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"error":"kstates.Unschedulable"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				writePodStatus(ctx, t, taskPod(ctx, t, ns, e, "T", 0), func(st *corev1.PodStatus) {
					st.Phase = corev1.PodPending
					st.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
						Message: "0/1 nodes are available: 1 Insufficient memory.", LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Hour))}}
				})
			}},
		{reason: "a pod deleted while its task runs is kstates.PodDeleted and is not created again",
			definition: catching("kstates.PodDeleted"), wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"error":"kstates.PodDeleted"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				if err := k8sClient.Delete(ctx, pod); err != nil {
					t.Fatal(err)
				}
				waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionSucceeded)
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}); !isNotFound(err) {
					t.Errorf("the deleted pod exists again (err %v): the attempt would run twice", err)
				}
			}},
		{reason: "a pod that gets a deletionTimestamp kstates did not cause is kstates.PodDeleted while it terminates",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrPodDeleted, wantCause: "was deleted while its task ran",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				// A finalizer keeps the deleted pod visible, as a kubelet's grace period does.
				pod.Finalizers = []string{"test.kstates.io/hold"}
				if err := k8sClient.Update(ctx, pod); err != nil {
					t.Fatal(err)
				}
				if err := k8sClient.Delete(ctx, pod); err != nil {
					t.Fatal(err)
				}
				waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
					t.Fatal(err)
				}
				pod.Finalizers = nil
				if err := k8sClient.Update(ctx, pod); err != nil {
					t.Fatal(err)
				}
			}},
		{reason: "a pod whose image pull backs off but that is deleted for an eviction is kstates.PodEvicted",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrPodEvicted, wantCause: "EvictionByEvictionAPI",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				pod := taskPod(ctx, t, ns, e, "T", 0)
				pod.Finalizers = []string{"test.kstates.io/hold"}
				if err := k8sClient.Update(ctx, pod); err != nil {
					t.Fatal(err)
				}
				writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
					st.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
						Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()}}
				})
				if err := k8sClient.Delete(ctx, pod); err != nil {
					t.Fatal(err)
				}
				waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
					t.Fatal(err)
				}
				pod.Finalizers = nil
				if err := k8sClient.Update(ctx, pod); err != nil {
					t.Fatal(err)
				}
			}},
		{reason: "a pod the API server rejects fails the task clearly (it was never created, so it is not kstates.PodDeleted)",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod",
				"Parameters":{"Image":"x","Resources":{"Requests":{"cpu":"2"},"Limits":{"cpu":"1"}}},"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "the API server rejected task pod"},
		{reason: "so does a callback task's pod (a callback task whose pod is gone waits for its callback)",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken",
				"Parameters":{"Image":"x","Resources":{"Requests":{"cpu":"2"},"Limits":{"cpu":"1"}}},"End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "the API server rejected task pod"},
		{reason: "a Job whose pod was OOM killed fails with kstates.OOMKilled",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrOOMKilled,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				pod := jobPod(ctx, t, job, "a")
				writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
					st.Phase, st.ContainerStatuses = corev1.PodFailed, terminated(137, "OOMKilled")
				})
				finishJob(ctx, t, job, false)
			}},
		{reason: "a Job whose pod cannot pull its image fails with kstates.ImagePullFailed (the Job would wait for ever)",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrImagePullFailed,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				pod := jobPod(ctx, t, job, "a")
				writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
					st.Phase, st.ContainerStatuses = corev1.PodPending, waitingFor("InvalidImageName", "bad")
				})
				// The job controller counts it active (nothing else wakes the execution).
				job.Status.Active = 1
				if err := k8sClient.Status().Update(ctx, job); err != nil {
					t.Fatal(err)
				}
				waitPhase(ctx, t, ns, e.Name, kstatesv1alpha1.ExecutionFailed)
				waitDeleted(ctx, t, job)
			}},
		{reason: "a Job deleted while its task runs is kstates.JobDeleted",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: podtask.ErrJobDeleted,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				if err := k8sClient.Delete(ctx, job); err != nil {
					t.Fatal(err)
				}
			}},
	})
}

// jobPod creates a pod of the job as the job controller would.
func jobPod(ctx context.Context, t *testing.T, job *batchv1.Job, suffix string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: job.Namespace, Name: job.Name + "-" + suffix,
			Labels:          map[string]string{"batch.kubernetes.io/job-name": job.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))}},
		Spec: job.Spec.Template.Spec,
	}
	create(ctx, t, pod)
	return pod
}

// TestStuckPodsEndAfterTheirGrace: a failing image pull ends the attempt ImagePullTimeout
// after the pod's creation, an unschedulable pod UnschedulableTimeout after the scheduler
// said so; until then the task waits (by the injected clock).
func TestStuckPodsEndAfterTheirGrace(t *testing.T) {
	ctx, ns := setup(t)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	startManager(t, ns, clk)
	create(ctx, t, makeStateMachine(ns, "sm", `{"StartAt":"P","States":{
		"P":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},
			"Catch":[{"ErrorEquals":["kstates.ImagePullFailed"],"ResultPath":"$.pull","Next":"S"}],"Next":"S"},
		"S":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"ResultPath":"$.sched",
			"Catch":[{"ErrorEquals":["kstates.Unschedulable"],"ResultPath":"$.sched","Next":"Done"}],"Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("sm").obj()
	create(ctx, t, e)
	pod := taskPod(ctx, t, ns, e, "P", 0)
	writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
		st.Phase, st.ContainerStatuses = corev1.PodPending, waitingFor("ImagePullBackOff", `Back-off pulling image "x"`)
	})
	sleep(1)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil || e.Status.CurrentState != "P" {
		t.Fatalf("within the grace the task waits: current %q (err %v)", e.Status.CurrentState, err)
	}
	clk.SetTime(time.Now().Add(podtask.DefaultImagePullTimeout + time.Second))
	writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) { st.ContainerStatuses = waitingFor("ErrImagePull", "not found") })

	pod = taskPod(ctx, t, ns, e, "S", 0)
	writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
		st.Phase = corev1.PodPending
		st.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/1 nodes are available", LastTransitionTime: metav1.NewTime(clk.Now())}}
	})
	sleep(1)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil || e.Status.CurrentState != "S" {
		t.Fatalf("within the grace the task waits: current %q (err %v)", e.Status.CurrentState, err)
	}
	clk.SetTime(clk.Now().Add(podtask.DefaultUnschedulableTimeout + time.Second))
	writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) { st.Conditions[0].Message = "0/1 nodes are available: still" })
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	var out struct {
		Pull  struct{ Error string } `json:"pull"`
		Sched struct{ Error string } `json:"sched"`
	}
	if err := json.Unmarshal([]byte(got.Status.Output), &out); err != nil || out.Pull.Error != podtask.ErrImagePullFailed || out.Sched.Error != podtask.ErrUnschedulable {
		t.Errorf("output %s, want both failures caught (%v)", got.Status.Output, err)
	}
}

// TestStuckPolicyIsTheReconcilers: the bounds are the reconciler's (the manager's
// --image-pull-timeout): a 20 s bound ends a failing pull 21 s after the pod's creation, which
// the default (2 minutes) would still wait for.
func TestStuckPolicyIsTheReconcilers(t *testing.T) {
	ctx, ns := setup(t)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	startManagerWith(t, ns, clk, func(er *controllers.ExecutionReconciler) {
		er.StuckPolicy = podtask.StuckPolicy{ImagePullTimeout: 20 * time.Second}
	})
	create(ctx, t, makeStateMachine(ns, "sm", `{"StartAt":"P","States":{
		"P":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"End":true}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("sm").obj()
	create(ctx, t, e)
	pod := taskPod(ctx, t, ns, e, "P", 0)
	clk.SetTime(time.Now().Add(21 * time.Second))
	writePodStatus(ctx, t, pod, func(st *corev1.PodStatus) {
		st.Phase, st.ContainerStatuses = corev1.PodPending, waitingFor("ImagePullBackOff", `Back-off pulling image "x"`)
	})
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionFailed)
	if got.Status.Error != podtask.ErrImagePullFailed {
		t.Errorf("error %q (%s), want %s after the reconciler's 20 s", got.Status.Error, got.Status.Cause, podtask.ErrImagePullFailed)
	}
}
