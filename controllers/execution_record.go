package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/history"
	"github.com/kstates/kstates/internal/metrics"
	"github.com/kstates/kstates/internal/podtask"
)

// Kubernetes Event reasons of an execution's lifecycle.
const (
	EventReasonStarted   = "Started"
	EventReasonSucceeded = "Succeeded"
	EventReasonFailed    = "Failed"
	EventReasonTimedOut  = "TimedOut"
	EventReasonAborted   = "Aborted"
	// EventReasonWaiting: the execution cannot start yet (its StateMachine is missing or
	// invalid, its pinned revision is missing); the message says why.
	EventReasonWaiting = "Waiting"
)

// minRequeue is the shortest timer requeue (a deadline that is due now).
const minRequeue = 10 * time.Millisecond

// record puts the outcome of a step into the status: the new history events (sealing older
// ones when the window is full), phase, current states, the next deadline, and the engine
// state, or the output or error of an execution that ended.
func (r *ExecutionReconciler) record(ctx context.Context, s *scope, evs []engine.HistoryEvent) error {
	events, err := history.Convert(evs)
	if err != nil {
		return err
	}
	if err := r.externalizeDetails(ctx, s.exec, events); err != nil {
		return err
	}
	if err := r.appendHistory(ctx, s.exec, &s.status.History, events); err != nil {
		return err
	}
	for _, e := range events {
		if strings.HasSuffix(e.Type, "StateEntered") {
			s.transitions++
		}
	}
	ex := s.ex
	s.status.History.EventCount = ex.LastEventID
	if limit := r.maxHistoryEvents(); ex.Status == engine.StatusRunning && ex.LastEventID > limit {
		// AWS fails an execution whose history exceeds 25,000 events; so do we, keeping every
		// event recorded so far.
		s.fail(engine.ErrRuntime, fmt.Sprintf("the execution's history exceeded the limit of %d events", limit))
		return nil
	}
	s.status.Phase = phaseOf(ex.Status)
	s.status.CurrentStates, s.status.CurrentState = currentStates(ex)
	s.status.NextDeadline = nil
	if at, ok := ex.NextDeadline(); ok {
		t := metav1.NewTime(at)
		s.status.NextDeadline = &t
	}
	if ex.Status == engine.StatusRunning {
		old, err := r.saveEngineState(ctx, s.exec, s.status, ex)
		if isPermanent(err) {
			s.fail(engine.ErrDataLimitExceeded, err.Error())
			return nil
		}
		if err != nil {
			return err
		}
		s.superseded = append(s.superseded, old...)
		s.status.Duration = duration(s.status, s.now)
		return nil
	}
	// The execution ended: keep its result, drop its engine state.
	s.superseded = append(s.superseded, r.dropEngineState(ctx, s.exec, s.status)...)
	if ex.Status == engine.StatusSucceeded {
		if err := r.setOutput(ctx, s, ex.Output.V); err != nil {
			return err
		}
	}
	s.status.Error, s.status.Cause = truncate(ex.Error, 256), truncate(ex.Cause, 32768)
	stop := metav1.NewTime(ex.StopTime)
	s.status.StopTime = &stop
	s.status.Duration = duration(s.status, ex.StopTime)
	s.finished = true
	return nil
}

func (r *ExecutionReconciler) maxHistoryEvents() int64 {
	if r.MaxHistoryEvents > 0 {
		return r.MaxHistoryEvents
	}
	return kstatesv1alpha1.MaxHistoryEvents
}

// afterWrite does what must follow a successful status write: lifecycle Events, metrics, and
// deleting payloads the status no longer refers to.
func (r *ExecutionReconciler) afterWrite(ctx context.Context, s *scope) {
	typ := string(kstatesv1alpha1.StateMachineTypeStandard)
	if s.rev != nil {
		typ = string(s.rev.Spec.Type)
	}
	if c := condition(s.status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved); c != nil && c.Status == metav1.ConditionFalse {
		if s.oldResolvedReason != c.Reason {
			r.event(s, corev1.EventTypeWarning, EventReasonWaiting, "%s", c.Message)
		}
	}
	if s.started {
		metrics.ExecutionsStarted.WithLabelValues(typ).Inc()
		r.event(s, corev1.EventTypeNormal, EventReasonStarted, "Started revision %s", s.status.Revision)
	}
	if typ == string(kstatesv1alpha1.StateMachineTypeStandard) {
		metrics.StateTransitions.Add(float64(s.transitions))
	}
	for _, t := range s.tasks {
		metrics.TaskDuration.WithLabelValues(t.result).Observe(t.duration.Seconds())
	}
	if s.finished {
		st := s.status
		var d time.Duration
		if st.StartTime != nil && st.StopTime != nil {
			d = st.StopTime.Sub(st.StartTime.Time)
		}
		switch st.Phase {
		case kstatesv1alpha1.ExecutionSucceeded:
			metrics.ExecutionsFinished.WithLabelValues(metrics.StatusSucceeded).Inc()
			metrics.ExecutionDuration.WithLabelValues(metrics.StatusSucceeded).Observe(d.Seconds())
			r.event(s, corev1.EventTypeNormal, EventReasonSucceeded, "Succeeded after %s", st.Duration)
		case kstatesv1alpha1.ExecutionFailed:
			metrics.ExecutionsFinished.WithLabelValues(metrics.StatusFailed).Inc()
			metrics.ExecutionDuration.WithLabelValues(metrics.StatusFailed).Observe(d.Seconds())
			r.event(s, corev1.EventTypeWarning, EventReasonFailed, "Failed: %s: %s", st.Error, truncate(st.Cause, 512))
		case kstatesv1alpha1.ExecutionTimedOut:
			metrics.ExecutionsFinished.WithLabelValues(metrics.StatusTimedOut).Inc()
			metrics.ExecutionDuration.WithLabelValues(metrics.StatusTimedOut).Observe(d.Seconds())
			r.event(s, corev1.EventTypeWarning, EventReasonTimedOut, "Timed out: %s: %s", st.Error, truncate(st.Cause, 512))
		case kstatesv1alpha1.ExecutionAborted:
			metrics.ExecutionsFinished.WithLabelValues(metrics.StatusAborted).Inc()
			metrics.ExecutionDuration.WithLabelValues(metrics.StatusAborted).Observe(d.Seconds())
			r.event(s, corev1.EventTypeWarning, EventReasonAborted, "Aborted: %s: %s", st.Error, truncate(st.Cause, 512))
		}
	}
	for _, name := range s.superseded {
		p := &kstatesv1alpha1.Payload{}
		p.Namespace, p.Name = s.exec.Namespace, name
		if err := r.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).V(1).Info("deleting a superseded payload", "payload", name, "error", err.Error())
		}
	}
}

func condition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

func (r *ExecutionReconciler) event(s *scope, typ, reason, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(s.exec, nil, typ, reason, reason, note, args...)
	}
}

// cleanup deletes task pods that are no longer wanted (a timed-out, cancelled or aborted
// task, or every unfinished pod of an ended execution) and says when to look again. It sweeps
// only after its own successful status write (the state it knows is then the committed one) or
// for an ended execution: a reconcile working from a stale cache must not delete the pod of a
// task that a newer state started.
func (r *ExecutionReconciler) cleanup(ctx context.Context, s *scope) ctrl.Result {
	if ((s.written && s.ex != nil) || s.status.Phase.IsFinal()) && mayHaveTasks(s) {
		r.sweepPods(ctx, s)
		r.sweepJobs(ctx, s)
	}
	if s.requeueAfter > 0 {
		return ctrl.Result{RequeueAfter: s.requeueAfter}
	}
	if s.status.Phase.IsFinal() || s.status.NextDeadline == nil {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: max(s.status.NextDeadline.Sub(s.now), minRequeue)}
}

// mayHaveTasks reports whether the execution can have task pods or Jobs: false only when its
// program is known and has no Task state at any depth (a Pass/Choice machine), so that the
// sweeps' cache Lists are skipped for executions that never run a task.
func mayHaveTasks(s *scope) bool {
	return s.prog == nil || hasTaskStates(s.prog.Def)
}

// hasTaskStates reports whether a definition, its Parallel branches or Map processors have a
// Task state.
func hasTaskStates(def *asl.Definition) bool {
	if def == nil {
		return false
	}
	for _, st := range def.States {
		if st.Type == "Task" || hasTaskStates(st.ItemProcessor) {
			return true
		}
		for _, b := range st.Branches {
			if hasTaskStates(b) {
				return true
			}
		}
	}
	return false
}

// sweepPods deletes the execution's task pods that have not ended and that no running task
// wants (ended pods are kept for their logs until the Execution is deleted).
func (r *ExecutionReconciler) sweepPods(ctx context.Context, s *scope) {
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(s.exec.Namespace),
		client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(s.exec.UID)}); err != nil {
		log.FromContext(ctx).Error(err, "listing task pods")
		return
	}
	wanted := map[string]bool{}
	if s.ex != nil && !s.status.Phase.IsFinal() {
		for _, t := range runningTasks(s.prog, s.ex) {
			wanted[podTaskName(s, t.thread)] = true
		}
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if wanted[p.Name] || !p.DeletionTimestamp.IsZero() || podEnded(p) {
			continue
		}
		if err := r.Delete(ctx, p, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "deleting a task pod that is no longer wanted", "pod", p.Name)
		}
	}
}

// podEnded reports a task pod whose task container has ended: its phase is final, or the
// kubelet has reported the container terminated and not yet the phase (the controller moves
// on as soon as the container's end shows; the pod is kept for its logs all the same).
func podEnded(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return true
	}
	for i := range p.Status.ContainerStatuses {
		if cs := &p.Status.ContainerStatuses[i]; cs.Name == podtask.ContainerName && cs.State.Terminated != nil {
			return true
		}
	}
	return false
}
