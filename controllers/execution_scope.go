package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
)

// scope carries what one reconcile of an execution fetched and decided. Everything that must
// happen after the status write (Events, metrics, deleting superseded payloads) is collected
// here and done only once the write succeeded.
type scope struct {
	exec   *kstatesv1alpha1.Execution
	status *kstatesv1alpha1.ExecutionStatus
	now    time.Time

	rev  *kstatesv1alpha1.StateMachineRevision
	prog *engine.Program
	ex   *engine.Execution

	// confirmed: the API server's version of the Execution is the one this reconcile read.
	confirmed bool
	// written: this reconcile's status write succeeded, so s.ex is the committed state.
	written bool

	// oldResolvedReason is the StateMachineResolved reason before this reconcile.
	oldResolvedReason string

	// After the write.
	started     bool
	finished    bool
	transitions int
	tasks       []taskOutcome
	superseded  []string
	// callbacks are the TaskCallbacks this reconcile accepted or rejected.
	callbacks []callbackDecision
	// requeueAfter asks for a reconcile later (a timer, a pinned revision to appear).
	requeueAfter time.Duration
}

// taskOutcome is a finished task, for the task duration metric.
type taskOutcome struct {
	result   string
	duration time.Duration
}

func newScope(exec *kstatesv1alpha1.Execution, now time.Time) *scope {
	s := &scope{exec: exec, status: exec.Status.DeepCopy(), now: now}
	if c := condition(exec.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved); c != nil {
		s.oldResolvedReason = c.Reason
	}
	return s
}

// isStarted reports whether the execution has an engine state (it has started and not ended).
func isStarted(st *kstatesv1alpha1.ExecutionStatus) bool {
	return st.EngineState != nil || st.EngineStateRef != nil
}

// finishUnstarted ends an execution that never started (aborted or bad input) with an error.
func (s *scope) finishUnstarted(phase kstatesv1alpha1.ExecutionPhase, errName, cause string) {
	t := metav1.NewTime(s.now)
	if s.status.StartTime == nil {
		s.status.StartTime = &t
	}
	s.status.StopTime = &t
	s.status.Phase = phase
	s.status.Error = truncate(errName, 256)
	s.status.Cause = truncate(cause, 32768)
	s.status.Duration = duration(s.status, s.now)
	s.status.CurrentStates, s.status.CurrentState = nil, ""
	s.status.NextDeadline = nil
	s.finished = true
}

// fail ends a started execution outside the engine (a corrupt engine state, a lost revision,
// an engine error): Failed with States.Runtime.
func (s *scope) fail(errName, cause string) {
	s.finishUnstarted(kstatesv1alpha1.ExecutionFailed, errName, cause)
	s.status.EngineState, s.status.EngineStateRef = nil, nil
}

// duration formats stop (or the last write) minus start.
func duration(st *kstatesv1alpha1.ExecutionStatus, now time.Time) string {
	if st.StartTime == nil {
		return ""
	}
	end := now
	if st.StopTime != nil {
		end = st.StopTime.Time
	}
	d := end.Sub(st.StartTime.Time)
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}

// phaseOf maps the engine's status to the API's phase.
func phaseOf(status string) kstatesv1alpha1.ExecutionPhase {
	switch status {
	case engine.StatusSucceeded:
		return kstatesv1alpha1.ExecutionSucceeded
	case engine.StatusFailed:
		return kstatesv1alpha1.ExecutionFailed
	case engine.StatusTimedOut:
		return kstatesv1alpha1.ExecutionTimedOut
	case engine.StatusAborted:
		return kstatesv1alpha1.ExecutionAborted
	}
	return kstatesv1alpha1.ExecutionRunning
}
