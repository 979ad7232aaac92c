package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

// revisionRetryInterval is how often an execution whose revision does not exist, or is being
// deleted, looks for it again.
const revisionRetryInterval = 10 * time.Second

// ExecutionARN is the context object's $$.Execution.Id of an execution: an ARN-like URI that
// names it uniquely in the cluster, arn:kstates:states:<namespace>:execution:<stateMachine>:<name>.
func ExecutionARN(namespace, stateMachine, name string) string {
	return "arn:kstates:states:" + namespace + ":execution:" + stateMachine + ":" + name
}

// StateMachineARN is $$.StateMachine.Id: arn:kstates:states:<namespace>:stateMachine:<name>.
func StateMachineARN(namespace, name string) string {
	return "arn:kstates:states:" + namespace + ":stateMachine:" + name
}

// parseInput reads spec.input (empty means {}).
func parseInput(text string) (any, error) {
	if text == "" {
		return map[string]any{}, nil
	}
	v, err := value.ParseString(text)
	if err != nil {
		return nil, fmt.Errorf("spec.input is not valid JSON: %v", err)
	}
	return v, nil
}

// resolveRevision finds the revision the execution will run: spec.revision when pinned, else
// the StateMachine's current revision. While there is none (or it is being deleted), the
// execution stays Pending with StateMachineResolved=False saying why; it returns false then.
func (r *ExecutionReconciler) resolveRevision(ctx context.Context, s *scope) (bool, error) {
	ns, smName := s.exec.Namespace, s.exec.Spec.StateMachineName
	revName := s.exec.Spec.Revision
	if revName == "" {
		sm := &kstatesv1alpha1.StateMachine{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: smName}, sm); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			s.unresolved(kstatesv1alpha1.ReasonStateMachineNotFound,
				fmt.Sprintf("StateMachine %q (spec.stateMachineName) does not exist in namespace %s; the execution starts when it is created", smName, ns))
			return false, nil
		}
		valid := meta.FindStatusCondition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid)
		switch {
		case valid == nil || valid.ObservedGeneration != sm.Generation || sm.Status.ObservedGeneration != sm.Generation:
			s.unresolved(kstatesv1alpha1.ReasonStateMachineNotValidated,
				fmt.Sprintf("StateMachine %q has not been validated yet", smName))
			return false, nil
		case valid.Status != metav1.ConditionTrue || sm.Status.CurrentRevision == "":
			s.unresolved(kstatesv1alpha1.ReasonStateMachineInvalid,
				fmt.Sprintf("StateMachine %q is not valid: %s", smName, valid.Message))
			return false, nil
		}
		revName = sm.Status.CurrentRevision
	}
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: revName}, rev); err != nil {
		if !apierrors.IsNotFound(err) {
			return false, err
		}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: revName}, rev); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			s.unresolved(kstatesv1alpha1.ReasonRevisionNotFound,
				fmt.Sprintf("StateMachineRevision %q does not exist in namespace %s", revName, ns))
			s.requeueAfter = revisionRetryInterval
			return false, nil
		}
	}
	if !rev.DeletionTimestamp.IsZero() {
		// Being deleted (pruned, or its StateMachine deleted): its finalizer holds it only for
		// the executions that already run it. A new one waits; the StateMachine controller
		// makes the revision again once it is gone if it is still the current content.
		s.unresolved(kstatesv1alpha1.ReasonRevisionNotFound,
			fmt.Sprintf("StateMachineRevision %q is being deleted; the execution does not start on it", revName))
		s.requeueAfter = revisionRetryInterval
		return false, nil
	}
	if rev.Spec.StateMachineName != smName {
		s.unresolved(kstatesv1alpha1.ReasonRevisionNotFound,
			fmt.Sprintf("StateMachineRevision %q (spec.revision) belongs to StateMachine %q, not %q", revName, rev.Spec.StateMachineName, smName))
		return false, nil
	}
	prog, err := r.programs.get(rev)
	if err != nil {
		s.unresolved(kstatesv1alpha1.ReasonStateMachineInvalid, err.Error())
		return false, nil
	}
	s.rev, s.prog = rev, prog
	setCondition(&s.status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved, metav1.ConditionTrue,
		kstatesv1alpha1.ReasonResolved, "Running revision "+rev.Name, s.exec.Generation)
	return true, nil
}

// unresolved keeps the execution Pending with a condition saying why.
func (s *scope) unresolved(reason, msg string) {
	s.status.Phase = kstatesv1alpha1.ExecutionPending
	setCondition(&s.status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved, metav1.ConditionFalse, reason, msg, s.exec.Generation)
}

// contextOverrides are the context object's names for this execution.
func (s *scope) contextOverrides() engine.ContextOverrides {
	e := s.exec
	return engine.ContextOverrides{
		ExecutionID:      ExecutionARN(e.Namespace, e.Spec.StateMachineName, e.Name),
		ExecutionName:    e.Name,
		StateMachineID:   StateMachineARN(e.Namespace, e.Spec.StateMachineName),
		StateMachineName: e.Spec.StateMachineName,
		RoleArn:          s.rev.Spec.RoleArn,
		StartTime:        s.now,
	}
}

// start creates the engine execution and takes its first step (ExecutionStarted and the
// first state), recording the pinned revision in the same status write. That status.revision
// is what keeps the revision while the execution exists (the cache's index over it, and the
// revision's finalizer): the start writes nothing to the revision itself.
func (r *ExecutionReconciler) start(ctx context.Context, s *scope, input any) error {
	s.ex = s.prog.NewExecution(input, s.contextOverrides(), s.now)
	start := metav1.NewTime(s.ex.StartTime)
	s.status.StartTime = &start
	s.status.Revision = s.rev.Name
	s.status.Phase = kstatesv1alpha1.ExecutionRunning
	s.started = true
	return r.advance(ctx, s, engine.Event{Kind: engine.EventStart})
}

// runExpress runs an EXPRESS execution to its end in memory and records only its result.
// Task states of EXPRESS machines are not run as pods yet: they fail with States.TaskFailed.
func (r *ExecutionReconciler) runExpress(ctx context.Context, s *scope, input any) error {
	timeout := r.ExpressTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := s.prog.Run(rctx, input, engine.RunOptions{
		Clock:   engine.RealClock{},
		Context: s.contextOverrides(),
		Tasks: engine.TaskHandlerFunc(func(context.Context, *engine.TaskRequest) (any, error) {
			return nil, &engine.Error{Name: engine.ErrTaskFailed, Cause: "EXPRESS state machines cannot run Task states as pods yet; use type STANDARD"}
		}),
	})
	start := metav1.NewTime(s.now)
	s.status.StartTime = &start
	s.status.Revision = s.rev.Name
	s.started = true
	s.status.History.EventCount = int64(len(res.History))
	phase := phaseOf(res.Status)
	if phase == kstatesv1alpha1.ExecutionSucceeded {
		if err := r.setOutput(ctx, s, res.Output); err != nil {
			return err
		}
		s.finishUnstarted(phase, "", "")
	} else {
		s.finishUnstarted(phase, res.Error, res.Cause)
	}
	stop := metav1.NewTime(r.Clock.Now())
	s.status.StopTime = &stop
	s.status.Duration = duration(s.status, stop.Time)
	return nil
}

// setOutput stores an execution's output: inline up to 16 KiB, else in a Payload.
func (r *ExecutionReconciler) setOutput(ctx context.Context, s *scope, out any) error {
	data := value.Marshal(out)
	if len(data) <= kstatesv1alpha1.MaxInlineOutputBytes {
		s.status.Output, s.status.OutputRef = string(data), nil
		return nil
	}
	ref, err := r.storePayload(ctx, s.exec, kstatesv1alpha1.PayloadOutput, data)
	if err != nil {
		return err
	}
	s.status.Output, s.status.OutputRef = "", ref
	return nil
}
