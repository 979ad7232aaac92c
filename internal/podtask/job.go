package podtask

import (
	"fmt"
	"math"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// Job tasks: the container a kstates:pod task would run, as the pod template of a batch/v1
// Job. "kstates:job.sync" waits for the Job to complete or fail (the run-a-job pattern);
// "kstates:job" starts it and goes on with {"JobName": ..., "Namespace": ...}
// (request-response). The input is kstates:pod's plus BackoffLimit (default 0: one pod).
const (
	ResourceJob     = "kstates:job"
	ResourceJobSync = "kstates:job.sync"
)

// IsJobResource reports whether a Resource runs as a Job.
func IsJobResource(resource string) bool {
	return resource == ResourceJob || resource == ResourceJobSync
}

// IsJobTask reports whether a task runs as a Job: a built-in Job resource, or a binding with
// job settings.
func IsJobTask(resource string, rev *kstatesv1alpha1.StateMachineRevisionSpec) bool {
	return IsJobResource(resource) || jobBinding(resource, rev) != nil
}

func jobBinding(resource string, rev *kstatesv1alpha1.StateMachineRevisionSpec) *kstatesv1alpha1.TaskBindingJob {
	if rev == nil {
		return nil
	}
	for i := range rev.Bindings {
		if b := &rev.Bindings[i]; b.Resource == resource {
			return b.Job
		}
	}
	return nil
}

// JobWaits reports whether a Job task waits for the Job to finish (.sync).
func JobWaits(resource string) bool { return strings.HasSuffix(resource, ".sync") }

// BuildJob returns the Job of a Job task, named as the task's pod would be. Its pods carry
// neither the execution label nor the task label (they are the Job's, not task pods); the Job
// carries both, and the thread, state and entry annotations.
func BuildJob(t *Task) (*batchv1.Job, error) {
	if b := jobBinding(t.Resource, t.Revision); b != nil && !IsJobResource(t.Resource) {
		pod, err := Build(t)
		if err != nil {
			return nil, err
		}
		backoff := int32(0)
		if b.BackoffLimit != nil {
			backoff = *b.BackoffLimit
		}
		return jobOf(t, pod, backoff), nil
	}
	in, ok := t.Input.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the input of a %s task must be an object with an Image", t.Resource)
	}
	backoff := int32(0)
	if v, has := in["BackoffLimit"]; has {
		n, ok := toInt(v)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("%s task input: BackoffLimit must be a non-negative integer", t.Resource)
		}
		backoff = int32(n)
		rest := make(map[string]any, len(in))
		for k, v := range in {
			if k != "BackoffLimit" {
				rest[k] = v
			}
		}
		in = rest
	}
	pt := *t
	pt.Input, pt.Resource = in, ResourcePod
	pod, err := Build(&pt)
	if err != nil {
		return nil, err
	}
	return jobOf(t, pod, backoff), nil
}

// jobOf wraps a task pod into a Job.
func jobOf(t *Task, pod *corev1.Pod, backoff int32) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pod.Namespace, Name: pod.Name,
			Labels: map[string]string{
				kstatesv1alpha1.LabelExecutionUID: t.ExecutionUID,
				TaskLabel:                         "true",
				AttemptLabel:                      pod.Labels[AttemptLabel],
			},
			Annotations: map[string]string{
				ThreadAnnotation: pod.Annotations[ThreadAnnotation],
				StateAnnotation:  pod.Annotations[StateAnnotation],
				EntryAnnotation:  pod.Annotations[EntryAnnotation],
			},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: pod.Labels, Annotations: pod.Annotations},
				Spec:       pod.Spec,
			},
		},
	}
	delete(pod.Labels, kstatesv1alpha1.LabelExecutionUID)
	delete(pod.Labels, TaskLabel)
	return job
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	}
	return 0, false
}

// JobPods selects the pods of a Job (the job controller's label).
func JobPods(job *batchv1.Job) map[string]string {
	return map[string]string{batchv1.JobNameLabel: job.Name}
}

// JobFinished reads a Job's conditions: nil while it runs; otherwise whether it completed
// and the condition's reason and message.
func JobFinished(job *batchv1.Job) (done, complete bool, why string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, true, ""
		case batchv1.JobFailed:
			return true, false, strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	return false, false, ""
}
