package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

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
	err = r.Create(ctx, job)
	if apierrors.IsAlreadyExists(err) && t.thread.TaskToken != "" {
		return r.adoptTaskToken(ctx, job, t)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) && !rejected(err) {
		return fmt.Errorf("creating task job %s: %w", job.Name, err)
	}
	return nil
}

// jobPodPoll is how often the pods of a running Job that have not all started are looked at
// (for an image that cannot be pulled or a pod that cannot be scheduled).
const jobPodPoll = 15 * time.Second

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
		res, err := r.missingTaskObject(ctx, s, t, name)
		if err != nil || res == nil {
			return engine.Event{}, false, err
		}
		s.tasks = append(s.tasks, taskOutcome{result: "failed"})
		return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt, Error: res.Error, Cause: res.Cause}, true, nil
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
	if !done && !job.DeletionTimestamp.IsZero() {
		s.tasks = append(s.tasks, taskOutcome{result: "failed"})
		return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt, Error: podtask.ErrJobDeleted,
			Cause: fmt.Sprintf("task job %s was deleted while its task ran (not by kstates)", job.Name)}, true, nil
	}
	if !done && job.Status.Active > 0 && job.Status.Ready != nil && *job.Status.Ready >= job.Status.Active {
		return engine.Event{}, false, nil // every pod runs
	}
	// The Job's pods are not task pods: the manager's cache does not hold them (nor watches
	// them), so they are read from the API server.
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels(podtask.JobPods(job))); err != nil {
		return engine.Event{}, false, err
	}
	if !done {
		// The Job's controller waits for ever for a pod that cannot pull its image or find a
		// node: that ends the attempt as for a pod task.
		for i := range pods.Items {
			p := &pods.Items[i]
			if !metav1.IsControlledBy(p, job) || !p.DeletionTimestamp.IsZero() || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			stuck, wait := podtask.Stuck(p, s.now, r.StuckPolicy)
			if stuck != nil {
				s.tasks = append(s.tasks, taskOutcome{result: "failed"})
				return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt, Error: stuck.Error,
					Cause: fmt.Sprintf("job %s: %s", job.Name, stuck.Cause)}, true, nil
			}
			// Nothing watches the Job's pods: look again while one has not started.
			if wait == 0 || wait > jobPodPoll {
				wait = jobPodPoll
			}
			s.requeueWithin(wait)
		}
		return engine.Event{}, false, nil
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
// aborted, or of an ended execution), with their pods; and aborts such tasks' child
// executions (sweepChildren), under the same conditions.
func (r *ExecutionReconciler) sweepJobs(ctx context.Context, s *scope) {
	r.sweepChildren(ctx, s)
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
