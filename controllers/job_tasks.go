package controllers

import (
	"context"
	"fmt"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/podtask"
)

// Job tasks (podtask.ResourceJob, ResourceJobSync): one batch/v1 Job per task attempt, named
// like the attempt's pod would be and owned by the Execution. kstates:job.sync waits for the
// Job's Complete or Failed condition; its output is the termination message (or last stdout
// line) of a succeeded pod of the Job, and its error a failed pod's named error or
// States.TaskFailed with the condition's reason. kstates:job succeeds as soon as the Job
// exists, with {"JobName", "Namespace"}.

func (r *ExecutionReconciler) buildJob(s *scope, t taskRef) (*batchv1.Job, error) {
	e, th := s.exec, t.thread
	job, err := podtask.BuildJob(&podtask.Task{
		Namespace: e.Namespace, ExecutionName: e.Name, ExecutionUID: string(e.UID),
		ExecutionID:  ExecutionARN(e.Namespace, e.Spec.StateMachineName, e.Name),
		ObjectPrefix: objectPrefix(e),
		Thread:       th.ID, State: th.State, Entry: entryOf(th), Attempt: th.Attempt, Resource: t.resource,
		Input: th.Effective.V, TaskToken: th.TaskToken, Revision: &s.rev.Spec,
	})
	if err != nil {
		return nil, err
	}
	if err := controllerutil.SetControllerReference(e, job, r.Scheme()); err != nil {
		return nil, err
	}
	return job, nil
}

// createTaskJob creates the Job of a task attempt; like createTaskPod, a Job that cannot be
// built or is rejected fails the task at the next reconcile (checkJobTask).
func (r *ExecutionReconciler) createTaskJob(ctx context.Context, s *scope, t taskRef) error {
	job, err := r.buildJob(s, t)
	if err != nil {
		return nil
	}
	if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) && !rejected(err) {
		return fmt.Errorf("creating task job %s: %w", job.Name, err)
	}
	return nil
}

// checkJobTask looks at the Job of a running Job task.
func (r *ExecutionReconciler) checkJobTask(ctx context.Context, s *scope, t taskRef) (engine.Event, bool, error) {
	th := t.thread
	name := podTaskName(s, th)
	fail := func(cause string) (engine.Event, bool, error) {
		s.tasks = append(s.tasks, taskOutcome{result: "failed"})
		return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt,
			Error: engine.ErrTaskFailed, Cause: cause}, true, nil
	}
	job := &batchv1.Job{}
	err := r.Get(ctx, client.ObjectKey{Namespace: s.exec.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) {
		if err := r.confirmCurrent(ctx, s); err != nil {
			return engine.Event{}, false, err
		}
		built, err := r.buildJob(s, t)
		if err != nil {
			return fail(err.Error())
		}
		err = r.Create(ctx, built)
		switch {
		case err == nil || apierrors.IsAlreadyExists(err):
			return engine.Event{}, false, nil
		case rejected(err):
			return fail(fmt.Sprintf("the API server rejected task job %s: %v", name, err))
		default:
			return engine.Event{}, false, err
		}
	}
	if err != nil {
		return engine.Event{}, false, err
	}
	ev := engine.Event{Kind: engine.EventTaskSucceeded, Thread: th.ID, Attempt: th.Attempt}
	if !podtask.JobWaits(t.resource) {
		ev.Output = map[string]any{"JobName": job.Name, "Namespace": job.Namespace}
		s.tasks = append(s.tasks, taskOutcome{result: "succeeded"})
		return ev, true, nil
	}
	done, complete, why := podtask.JobFinished(job)
	if !done {
		return engine.Event{}, false, nil
	}
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels(podtask.JobPods(job))); err != nil {
		return engine.Event{}, false, err
	}
	// The newest finished pod of the outcome's kind.
	want := corev1.PodSucceeded
	if !complete {
		want = corev1.PodFailed
	}
	var last *corev1.Pod
	items := pods.Items
	sort.Slice(items, func(i, j int) bool { return items[i].CreationTimestamp.Before(&items[j].CreationTimestamp) })
	for i := range items {
		if metav1.IsControlledBy(&items[i], job) && items[i].Status.Phase == want {
			last = &items[i]
		}
	}
	var res *podtask.Result
	if last != nil {
		res = podtask.Finished(last)
	}
	if !complete {
		if res != nil && res.Error != "" && res.Error != podtask.ErrTaskFailed {
			ev.Kind, ev.Error, ev.Cause = engine.EventTaskFailed, res.Error, res.Cause
			s.tasks = append(s.tasks, taskOutcome{result: "failed", duration: res.Duration})
			return ev, true, nil
		}
		cause := fmt.Sprintf("job %s failed: %s", job.Name, why)
		if res != nil && res.Cause != "" {
			cause += "; last pod: " + res.Cause
		}
		return fail(cause)
	}
	switch {
	case res == nil:
		ev.Output = map[string]any{}
	case res.Error != "":
		ev.Kind, ev.Error, ev.Cause = engine.EventTaskFailed, res.Error, res.Cause
	case res.OutputOnStdout:
		out, ok, err := r.outputFromLog(ctx, last)
		if err != nil {
			return engine.Event{}, false, err
		}
		if !ok {
			out = map[string]any{}
		}
		ev.Output = out
	default:
		ev.Output = res.Output
	}
	s.tasks = append(s.tasks, taskOutcome{result: "succeeded"})
	return ev, true, nil
}

// sweepJobs deletes the running Jobs of tasks no longer wanted (timed out, cancelled,
// aborted, or of an ended execution), with their pods.
func (r *ExecutionReconciler) sweepJobs(ctx context.Context, s *scope) {
	if !((s.written && s.ex != nil) || s.status.Phase.IsFinal()) {
		return
	}
	jobs := &batchv1.JobList{}
	if err := r.List(ctx, jobs, client.InNamespace(s.exec.Namespace), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(s.exec.UID)}); err != nil {
		log.FromContext(ctx).Error(err, "listing task jobs")
		return
	}
	wanted := map[string]bool{}
	if s.ex != nil && !s.status.Phase.IsFinal() {
		for _, t := range runningTasks(s.prog, s.ex) {
			wanted[podTaskName(s, t.thread)] = true
		}
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		done, _, _ := podtask.JobFinished(j)
		if wanted[j.Name] || done || !j.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, j, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "deleting a task job that is no longer wanted", "job", j.Name)
		}
	}
}
