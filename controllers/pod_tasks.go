package controllers

import (
	"context"
	"fmt"

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

// createTaskPod creates the pod of a task attempt the engine asked for. A pod that cannot be
// built or that the API server rejects is not an error here: the next reconcile finds no pod
// and fails the task with the reason (checkTask).
func (r *ExecutionReconciler) createTaskPod(ctx context.Context, s *scope, t taskRef) error {
	if podtask.IsJobTask(t.resource, &s.rev.Spec) {
		return r.createTaskJob(ctx, s, t)
	}
	pod, err := r.buildPod(s, t)
	if err != nil {
		return nil
	}
	err = r.Create(ctx, pod)
	if apierrors.IsAlreadyExists(err) && podtask.WaitsForTaskToken(t.resource) {
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
// finished; a pod that is missing is created (again), and one that cannot be built or is
// rejected fails the task with States.TaskFailed naming the reason.
func (r *ExecutionReconciler) checkTask(ctx context.Context, s *scope, t taskRef) (engine.Event, bool, error) {
	if podtask.IsJobTask(t.resource, &s.rev.Spec) {
		return r.checkJobTask(ctx, s, t)
	}
	th := t.thread
	name := podTaskName(s, th)
	pod := &corev1.Pod{}
	err := r.Get(ctx, client.ObjectKey{Namespace: s.exec.Namespace, Name: name}, pod)
	if apierrors.IsNotFound(err) {
		fail := func(cause string) (engine.Event, bool, error) {
			return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt,
				Error: engine.ErrTaskFailed, Cause: cause}, true, nil
		}
		// Missing from the cache: either the cache is behind (the execution too, perhaps: an
		// older state must not re-create the pod of an attempt that has since timed out), or
		// the pod really is gone.
		if err := r.confirmCurrent(ctx, s); err != nil {
			return engine.Event{}, false, err
		}
		built, err := r.buildPod(s, t)
		if err != nil {
			return fail(err.Error())
		}
		err = r.Create(ctx, built)
		switch {
		case err == nil || apierrors.IsAlreadyExists(err):
			return engine.Event{}, false, nil
		case rejected(err):
			return fail(fmt.Sprintf("the API server rejected task pod %s: %v", name, err))
		default:
			return engine.Event{}, false, err
		}
	}
	if err != nil {
		return engine.Event{}, false, err
	}
	res := podtask.Finished(pod)
	if res == nil {
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
	outcome := taskOutcome{result: "succeeded", duration: res.Duration}
	ev := engine.Event{Thread: th.ID, Attempt: th.Attempt}
	if res.Error == "" {
		ev.Kind, ev.Output = engine.EventTaskSucceeded, res.Output
	} else {
		ev.Kind, ev.Error, ev.Cause = engine.EventTaskFailed, res.Error, res.Cause
		outcome.result = "failed"
	}
	s.tasks = append(s.tasks, outcome)
	return ev, true, nil
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
