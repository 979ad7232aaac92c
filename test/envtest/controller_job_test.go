package envtest

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// Job tasks against the real API server. envtest runs no job controller and no kubelet: the
// tests create the Job's pod, end it, and write the Job's status as those would.

// taskJob waits for the Job of a task state and returns it.
func taskJob(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution, state string) *batchv1.Job {
	t.Helper()
	if e.UID == "" {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		jobs := &batchv1.JobList{}
		if err := k8sClient.List(ctx, jobs, client.InNamespace(ns), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(e.UID)}); err != nil {
			t.Fatal(err)
		}
		for i := range jobs.Items {
			if jobs.Items[i].Annotations[podtask.StateAnnotation] == state {
				return &jobs.Items[i]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no job of state %s", state)
	return nil
}

// runJobPod creates a pod of the job (as the job controller would) and ends it (as a kubelet
// would).
func runJobPod(ctx context.Context, t *testing.T, job *batchv1.Job, suffix string, exitCode int32, message string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: job.Namespace, Name: job.Name + "-" + suffix,
			Labels:          map[string]string{batchv1.JobNameLabel: job.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))}},
		Spec: job.Spec.Template.Spec,
	}
	create(ctx, t, pod)
	completePod(ctx, t, pod, exitCode, message)
}

// finishJob writes the Job's terminal conditions as the job controller does.
func finishJob(ctx context.Context, t *testing.T, job *batchv1.Job, complete bool) {
	t.Helper()
	now := metav1.Now()
	job.Status.StartTime = &now
	if complete {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &now
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now}}
	}
	if err := k8sClient.Status().Update(ctx, job); err != nil {
		t.Fatalf("writing job %s's status: %v", job.Name, err)
	}
}

func TestJobTasks(t *testing.T) {
	runScenarios(t, []scenario{
		{reason: "kstates:job.sync waits for the Job to complete; the output is its pod's termination message; BackoffLimit reaches the Job",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x","BackoffLimit":3},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"rows":42}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 3 || !metav1.IsControlledBy(job, e) {
					t.Errorf("job backoffLimit %v, owners %v", job.Spec.BackoffLimit, job.OwnerReferences)
				}
				if job.Spec.Template.Labels[kstatesv1alpha1.LabelExecutionUID] != "" {
					t.Error("the job's pods carry the execution label (they would be swept as task pods)")
				}
				runJobPod(ctx, t, job, "a", 1, "")
				sleep(0.5)
				runJobPod(ctx, t, job, "b", 0, `{"rows":42}`)
				finishJob(ctx, t, job, true)
			}},
		{reason: "a failed Job fails the task with its pod's named error, caught by Catch",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},
				"Catch":[{"ErrorEquals":["LoadFailed"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`,
			wantPhase: kstatesv1alpha1.ExecutionSucceeded, wantOutput: `{"Error":"LoadFailed","Cause":"disk full"}`,
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				job := taskJob(ctx, t, ns, e, "J")
				runJobPod(ctx, t, job, "a", 3, `{"Error":"LoadFailed","Cause":"disk full"}`)
				finishJob(ctx, t, job, false)
			}},
		{reason: "a failed Job without a named error is States.TaskFailed naming the Job's reason",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "BackoffLimitExceeded",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				finishJob(ctx, t, taskJob(ctx, t, ns, e, "J"), false)
			}},
		{reason: "kstates:job (request-response) goes on as soon as the Job exists",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job","Parameters":{"Image":"x"},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionSucceeded},
		{reason: "a Job task's TimeoutSeconds deletes the running Job",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x"},"TimeoutSeconds":1,"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.Timeout",
			world: func(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution) {
				waitDeleted(ctx, t, taskJob(ctx, t, ns, e, "J"))
			}},
		{reason: "a bad Job input fails the task",
			definition: `{"StartAt":"J","States":{"J":{"Type":"Task","Resource":"kstates:job.sync","Parameters":{"Image":"x","BackoffLimit":-1},"End":true}}}`,
			wantPhase:  kstatesv1alpha1.ExecutionFailed, wantError: "States.TaskFailed", wantCause: "BackoffLimit"},
	})
}

// TestJobBinding: a binding with job settings runs an AWS .sync resource as a Job.
func TestJobBinding(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	const res = "arn:aws:states:::batch:submitJob.sync"
	sm := makeStateMachine(ns, "batch", `{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"`+res+`",
		"Parameters":{"JobName":"load"},"ResultSelector":{"n.$":"$.rows"},"End":true}}}`)
	backoff := int32(2)
	sm.Spec.Bindings = []kstatesv1alpha1.TaskBinding{{Resource: res, Container: kstatesv1alpha1.TaskContainer{Image: "loader:1"},
		Job: &kstatesv1alpha1.TaskBindingJob{BackoffLimit: &backoff}}}
	create(ctx, t, sm.obj())
	e := makeExecution(ns, "batch").stateMachine("batch").obj()
	create(ctx, t, e)
	job := taskJob(ctx, t, ns, e, "B")
	if *job.Spec.BackoffLimit != 2 || job.Spec.Template.Spec.Containers[0].Image != "loader:1" {
		t.Errorf("job: backoffLimit %d, image %s", *job.Spec.BackoffLimit, job.Spec.Template.Spec.Containers[0].Image)
	}
	runJobPod(ctx, t, job, "a", 0, `{"rows":7}`)
	finishJob(ctx, t, job, true)
	if got := waitPhase(ctx, t, ns, "batch", kstatesv1alpha1.ExecutionSucceeded); !jsonEq(got.Status.Output, `{"n":7}`) {
		t.Errorf("output %s", got.Status.Output)
	}
}
