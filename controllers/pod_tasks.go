package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/podtask"
)

// The pod task runner: one pod per task attempt, named deterministically (podtask.PodName),
// owned by the Execution. Its I/O contract is in internal/podtask and docs/operator.md.

// buildPod builds the pod of one task attempt.
func (r *ExecutionReconciler) buildPod(s *scope, t taskRef) (*corev1.Pod, error) {
	e, th := s.exec, t.thread
	pod, err := podtask.Build(&podtask.Task{
		Namespace: e.Namespace, ExecutionName: e.Name, ExecutionUID: string(e.UID),
		ExecutionID:  ExecutionARN(e.Namespace, e.Spec.StateMachineName, e.Name),
		ObjectPrefix: objectPrefix(e),
		Thread:       th.ID, State: th.State, Entry: entryOf(th), Attempt: th.Attempt, Resource: t.resource,
		Input: th.Effective.V, TaskToken: th.TaskToken, Revision: &s.rev.Spec,
	})
	if err != nil {
		return nil, err
	}
	if err := controllerutil.SetControllerReference(e, pod, r.Scheme()); err != nil {
		return nil, err
	}
	return pod, nil
}

// createTaskPod creates the pod (Job, child Execution) of a task attempt the engine asked
// for. A pod that cannot be built or that the API server rejects is not an error here: the
// next reconcile finds no pod and fails the task with the reason (checkTask).
func (r *ExecutionReconciler) createTaskPod(ctx context.Context, s *scope, t taskRef) error {
	if isChildResource(t.resource, &s.rev.Spec) {
		return r.createChild(ctx, s, t)
	}
	if t.thread.TaskToken == "" && t.thread.HeartbeatSeconds > 0 {
		// A task with HeartbeatSeconds gets a token to send heartbeats with (the engine
		// issues tokens only to .waitForTaskToken tasks); it is kept in the engine state
		// with the thread, as theirs is.
		t.thread.TaskToken = podtask.NewTaskToken(s.exec.Namespace, s.exec.Name)
	}
	if podtask.IsJobTask(t.resource, &s.rev.Spec) {
		return r.createTaskJob(ctx, s, t)
	}
	pod, err := r.buildPod(s, t)
	if err != nil {
		return nil
	}
	err = r.Create(ctx, pod)
	if apierrors.IsAlreadyExists(err) && t.thread.TaskToken != "" {
		return r.adoptTaskToken(ctx, pod, t)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) && !rejected(err) {
		return fmt.Errorf("creating task pod %s: %w", pod.Name, err)
	}
	return nil
}

// rejected reports API errors that repeating the same create cannot fix.
func rejected(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsRequestEntityTooLargeError(err) || apierrors.IsBadRequest(err)
}

// checkTask looks at the pod of a running task. It returns the task's event when the pod
// finished, or when Kubernetes ended the attempt (an image that cannot be pulled, no node, an
// eviction, an OOM kill, a deletion: the kstates.* errors of internal/podtask).
func (r *ExecutionReconciler) checkTask(ctx context.Context, s *scope, t taskRef) (engine.Event, bool, error) {
	if podtask.IsJobTask(t.resource, &s.rev.Spec) {
		return r.checkJobTask(ctx, s, t)
	}
	if isChildResource(t.resource, &s.rev.Spec) {
		return r.checkChildTask(ctx, s, t)
	}
	th := t.thread
	name := podTaskName(s, th)
	failed := func(res *podtask.Result) (engine.Event, bool, error) {
		s.tasks = append(s.tasks, taskOutcome{result: "failed", duration: res.Duration})
		return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt, Error: res.Error, Cause: res.Cause}, true, nil
	}
	pod := &corev1.Pod{}
	err := r.Get(ctx, client.ObjectKey{Namespace: s.exec.Namespace, Name: name}, pod)
	if apierrors.IsNotFound(err) {
		res, err := r.missingTaskObject(ctx, s, t, name)
		if err != nil || res == nil {
			return engine.Event{}, false, err
		}
		return failed(res)
	}
	if err != nil {
		return engine.Event{}, false, err
	}
	res := podtask.Finished(pod)
	if !pod.DeletionTimestamp.IsZero() && (res == nil || (res.Error != "" && res.Error != podtask.ErrPodEvicted)) {
		// Deleted by someone else (kstates deletes only pods no running task wants): its
		// container is being or was killed by the deletion.
		return failed(podtask.Deleted(pod))
	}
	if res == nil {
		stuck, wait := podtask.Stuck(pod, s.now, r.StuckPolicy)
		if stuck != nil {
			return failed(stuck)
		}
		s.requeueWithin(wait)
		return engine.Event{}, false, nil
	}
	if res.Error == "" && podtask.WaitsForTaskToken(t.resource) {
		// A callback task completes only by a TaskCallback; the pod's exit 0 does not.
		return engine.Event{}, false, nil
	}
	if res.OutputOnStdout {
		out, ok, err := r.outputFromLog(ctx, pod)
		if err != nil {
			return engine.Event{}, false, err
		}
		if !ok {
			res = &podtask.Result{Error: podtask.ErrTaskFailed, Duration: res.Duration,
				Cause: "the task exited 0 without a termination message and its log, where a large output is printed, cannot be read"}
		} else {
			res.Output = out
		}
	}
	if res.Error != "" {
		return failed(res)
	}
	s.tasks = append(s.tasks, taskOutcome{result: "succeeded", duration: res.Duration})
	return engine.Event{Kind: engine.EventTaskSucceeded, Thread: th.ID, Attempt: th.Attempt, Output: res.Output}, true, nil
}

// missingTaskObject decides about the pod (or Job) of a running task that the cache does not
// have. The status says the task runs only after its object was created, or after a create
// that could not succeed (the object cannot be built, the API server rejects it): so an
// object the API server does not have either, and whose create would now be accepted (a
// server-side dry run), was created and is gone: kstates.PodDeleted (kstates.JobDeleted). It
// is never created again: that would run the attempt twice. It returns nil while the cache is
// merely behind.
func (r *ExecutionReconciler) missingTaskObject(ctx context.Context, s *scope, t taskRef, name string) (*podtask.Result, error) {
	if err := r.confirmCurrent(ctx, s); err != nil {
		return nil, err
	}
	job := podtask.IsJobTask(t.resource, &s.rev.Spec)
	var obj client.Object
	var err error
	if job {
		obj, err = r.buildJob(s, t)
	} else {
		obj, err = r.buildPod(s, t)
	}
	if err != nil {
		return &podtask.Result{Error: podtask.ErrTaskFailed, Cause: err.Error()}, nil
	}
	kind, gone := "pod", podtask.ErrPodDeleted
	if job {
		kind, gone = "job", podtask.ErrJobDeleted
	}
	live := obj.DeepCopyObject().(client.Object)
	err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), live)
	if err == nil {
		return nil, nil // the cache is behind; its watch event comes
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	err = r.Create(ctx, obj, client.DryRunAll)
	switch {
	case err == nil && podtask.WaitsForTaskToken(t.resource) && !job:
		// A callback task's pod may have ended and been removed: the callback (or the
		// task's timeouts) still ends the task.
		return nil, nil
	case err == nil:
		return &podtask.Result{Error: gone, Cause: fmt.Sprintf("task %s %s was deleted while its task ran (not by kstates)", kind, name)}, nil
	case apierrors.IsAlreadyExists(err):
		return nil, nil
	case rejected(err):
		return &podtask.Result{Error: podtask.ErrTaskFailed, Cause: fmt.Sprintf("the API server rejected task %s %s: %v", kind, name, err)}, nil
	default:
		return nil, err
	}
}

// requeueWithin asks for a reconcile within d (0: nothing), and not after the execution's
// next deadline.
func (s *scope) requeueWithin(d time.Duration) {
	if d <= 0 {
		return
	}
	if nd := s.status.NextDeadline; nd != nil {
		d = min(d, max(nd.Sub(s.now), minRequeue))
	}
	if s.requeueAfter == 0 || d < s.requeueAfter {
		s.requeueAfter = d
	}
}

func podTaskName(s *scope, th *engine.Thread) string {
	return podtask.PodName(objectPrefix(s.exec), th.State, th.ID, entryOf(th), th.Attempt)
}

// entryOf identifies the thread's current visit of its state: the id of the state's entered
// event, or, for threads that record no events (DISTRIBUTED Map iterations), the entry time.
func entryOf(th *engine.Thread) int64 {
	if th.EnteredEventID > 0 {
		return th.EnteredEventID
	}
	return th.EnteredTime.UnixNano()
}

// outputFromLog reads the output a task printed as the last line of its log. It reports false
// when the log cannot be read at all (the pod has no node, or its node is gone); other errors
// are retried.
func (r *ExecutionReconciler) outputFromLog(ctx context.Context, pod *corev1.Pod) (any, bool, error) {
	if r.Logs == nil {
		return nil, false, nil
	}
	log, err := r.Logs.Tail(ctx, pod.Namespace, pod.Name, podtask.ContainerName, podtask.MaxLogOutputBytes)
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("reading the log of task pod %s: %w", pod.Name, err)
	}
	return podtask.OutputFromLog(log), true, nil
}
