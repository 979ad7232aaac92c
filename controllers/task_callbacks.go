package controllers

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
	"github.com/kstates/kstates/internal/podtask"
)

// Callbacks (.waitForTaskToken). A task token is podtask.NewTaskToken(namespace, execution):
// the engine asks Env.UUID for a token when a callback task starts (stepEnv), so the token in
// the engine state, in $$.Task.Token and in the pod's KSTATES_TASK_TOKEN is that one string.
// A user answers by creating a TaskCallback in the execution's namespace; the Execution
// reconciler picks the pending callbacks of its execution (a field index on the execution the
// token names), compares each token in constant time with its running tasks' tokens, applies
// one as an engine event per reconcile and, once the status write succeeded, records the
// outcome in the callback's status. The TaskCallback reconciler rejects the callbacks no
// execution will see (a malformed token, one of another namespace, a missing execution) and
// deletes processed callbacks after CallbackTTL.

// indexCallbackExecution indexes pending TaskCallbacks by the execution their token names
// (only tokens of the callback's own namespace).
const indexCallbackExecution = "kstates.callback.execution"

// CallbackTTL is how long a processed TaskCallback is kept, so that its sender can read the
// outcome, before the operator deletes it.
var CallbackTTL = 10 * time.Minute

// callbackExecution is the execution a pending callback's token names in its own namespace.
func callbackExecution(cb *kstatesv1alpha1.TaskCallback) (string, bool) {
	if cb.Status.Phase != "" {
		return "", false
	}
	ns, name, ok := podtask.ParseTaskToken(cb.Spec.Token)
	if !ok || ns != cb.Namespace {
		return "", false
	}
	return name, true
}

// setupCallbacks adds the callback index and the TaskCallback reconciler.
func (r *ExecutionReconciler) setupCallbacks(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &kstatesv1alpha1.TaskCallback{}, indexCallbackExecution,
		func(o client.Object) []string {
			if name, ok := callbackExecution(o.(*kstatesv1alpha1.TaskCallback)); ok {
				return []string{name}
			}
			return nil
		}); err != nil {
		return err
	}
	cr := &TaskCallbackReconciler{Client: r.Client, Clock: r.Clock}
	return ctrl.NewControllerManagedBy(mgr).
		For(&kstatesv1alpha1.TaskCallback{}).
		Named("taskcallback").
		Complete(cr)
}

// executionOfCallback maps a pending TaskCallback to the execution its token names.
func (r *ExecutionReconciler) executionOfCallback(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := callbackExecution(o.(*kstatesv1alpha1.TaskCallback))
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// callbackDecision is what a reconcile decided about one callback; it is written after the
// execution's status.
type callbackDecision struct {
	cb      *kstatesv1alpha1.TaskCallback
	phase   kstatesv1alpha1.TaskCallbackPhase
	reason  string
	message string
}

// pendingCallbacks lists the unprocessed callbacks naming the execution, oldest first.
func (r *ExecutionReconciler) pendingCallbacks(ctx context.Context, exec *kstatesv1alpha1.Execution) ([]kstatesv1alpha1.TaskCallback, error) {
	list := &kstatesv1alpha1.TaskCallbackList{}
	if err := r.List(ctx, list, client.InNamespace(exec.Namespace), client.MatchingFields{indexCallbackExecution: exec.Name}); err != nil {
		return nil, err
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return items, nil
}

// callbackEvent turns the oldest valid pending callback into an engine event; invalid ones
// on the way are rejected (after the status write).
func (r *ExecutionReconciler) callbackEvent(ctx context.Context, s *scope) (engine.Event, bool, error) {
	cbs, err := r.pendingCallbacks(ctx, s.exec)
	if err != nil || len(cbs) == 0 {
		return engine.Event{}, false, err
	}
	tasks := runningTasks(s.prog, s.ex)
	for i := range cbs {
		cb := &cbs[i]
		var th *engine.Thread
		for _, t := range tasks {
			if t.thread.TaskToken != "" && podtask.TokensEqual(t.thread.TaskToken, cb.Spec.Token) {
				th = t.thread
			}
		}
		reject := func(reason, msg string) {
			s.callbacks = append(s.callbacks, callbackDecision{cb: cb, phase: kstatesv1alpha1.TaskCallbackRejected, reason: reason, message: msg})
		}
		if th == nil {
			reject(kstatesv1alpha1.CallbackTaskNotRunning, "no running task of the execution has this token: its task has finished or timed out, or the token was never issued")
			continue
		}
		ev := engine.Event{Thread: th.ID, Attempt: th.Attempt}
		var what string
		if !cb.Spec.Heartbeat && !podtask.WaitsForTaskToken(resourceOf(tasks, th)) {
			reject(kstatesv1alpha1.CallbackTaskNotRunning, fmt.Sprintf("state %q does not wait for a callback (its Resource has no %s): its token only takes heartbeats; the task ends when its pod does",
				th.State, podtask.WaitForTaskTokenSuffix))
			continue
		}
		switch {
		case cb.Spec.Success != nil:
			out, err := value.ParseString(cb.Spec.Success.Output)
			if err != nil {
				reject(kstatesv1alpha1.CallbackInvalidOutput, fmt.Sprintf("success.output is not valid JSON: %v", err))
				continue
			}
			ev.Kind, ev.Output, what = engine.EventTaskSucceeded, out, "task succeeded"
		case cb.Spec.Failure != nil:
			ev.Kind, ev.Error, ev.Cause = engine.EventTaskFailed, cb.Spec.Failure.Error, cb.Spec.Failure.Cause
			if ev.Error == "" {
				ev.Error = engine.ErrTaskFailed
			}
			what = "task failed with " + ev.Error
		default:
			ev.Kind, what = engine.EventTaskHeartbeat, "heartbeat"
		}
		s.callbacks = append(s.callbacks, callbackDecision{cb: cb, phase: kstatesv1alpha1.TaskCallbackAccepted,
			message: fmt.Sprintf("%s: state %q", what, th.State)})
		return ev, true, nil
	}
	return engine.Event{}, false, nil
}

// resourceOf is the Resource of a running task's thread.
func resourceOf(tasks []taskRef, th *engine.Thread) string {
	for _, t := range tasks {
		if t.thread == th {
			return t.resource
		}
	}
	return ""
}

// settleCallbacks writes the decisions of a reconcile whose status write succeeded (or was not
// needed); an ended execution rejects its pending callbacks.
func (r *ExecutionReconciler) settleCallbacks(ctx context.Context, s *scope) {
	if s.status.Phase.IsFinal() {
		cbs, err := r.pendingCallbacks(ctx, s.exec)
		if err != nil {
			log.FromContext(ctx).Error(err, "listing task callbacks")
		}
		decided := map[types.UID]bool{}
		for _, d := range s.callbacks {
			decided[d.cb.UID] = true
		}
		for i := range cbs {
			if !decided[cbs[i].UID] {
				s.callbacks = append(s.callbacks, callbackDecision{cb: &cbs[i], phase: kstatesv1alpha1.TaskCallbackRejected,
					reason: kstatesv1alpha1.CallbackExecutionFinished, message: fmt.Sprintf("the execution has ended (%s)", s.status.Phase)})
			}
		}
	}
	for _, d := range s.callbacks {
		if err := writeCallbackStatus(ctx, r.Client, d.cb, d.phase, d.reason, d.message, s.exec.Name, s.now); err != nil {
			log.FromContext(ctx).Error(err, "recording a task callback's outcome", "callback", d.cb.Name)
		}
	}
	s.callbacks = nil
}

func writeCallbackStatus(ctx context.Context, c client.Client, cb *kstatesv1alpha1.TaskCallback,
	phase kstatesv1alpha1.TaskCallbackPhase, reason, msg, execution string, now time.Time) error {
	cb = cb.DeepCopy()
	t := metav1.NewTime(now)
	cb.Status = kstatesv1alpha1.TaskCallbackStatus{Phase: phase, Reason: reason, Message: msg, ExecutionName: execution, ProcessedTime: &t}
	err := c.Status().Update(ctx, cb)
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// stepEnv is the engine environment of a controller Step: one transition, and task tokens
// that name the execution. The engine numbers tokens (TokenSeq) and asks Env.UUID for one
// right after; any other UUID (States.UUID) is a random version-4 UUID.
func (r *ExecutionReconciler) stepEnv(s *scope) *engine.Env {
	ex, seq := s.ex, s.ex.TokenSeq
	return &engine.Env{MaxTransitions: 1, UUID: func() string {
		if ex.TokenSeq != seq {
			seq = ex.TokenSeq
			return podtask.NewTaskToken(s.exec.Namespace, s.exec.Name)
		}
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	}}
}

// TaskCallbackReconciler rejects the TaskCallbacks no execution will process (a malformed
// token, a token of another namespace, a missing execution) and deletes processed ones after
// CallbackTTL.
type TaskCallbackReconciler struct {
	client.Client
	Clock clock.PassiveClock
}

// Reconcile handles one TaskCallback.
func (r *TaskCallbackReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cb := &kstatesv1alpha1.TaskCallback{}
	if err := r.Get(ctx, req.NamespacedName, cb); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.Clock.Now()
	if cb.Status.Phase != "" {
		processed := cb.CreationTimestamp.Time
		if cb.Status.ProcessedTime != nil {
			processed = cb.Status.ProcessedTime.Time
		}
		if left := processed.Add(CallbackTTL).Sub(now); left > 0 {
			return ctrl.Result{RequeueAfter: left}, nil
		}
		err := r.Delete(ctx, cb, client.Preconditions{UID: &cb.UID})
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	invalid := func(msg string) (ctrl.Result, error) {
		err := writeCallbackStatus(ctx, r.Client, cb, kstatesv1alpha1.TaskCallbackRejected, kstatesv1alpha1.CallbackInvalidToken, msg, "", now)
		return ctrl.Result{}, err
	}
	ns, name, ok := podtask.ParseTaskToken(cb.Spec.Token)
	if !ok {
		return invalid("the token is not a kstates task token")
	}
	if ns != cb.Namespace {
		// Said without naming the other namespace: the token's holder may create the
		// callback where the execution runs.
		return invalid("the token belongs to an execution of another namespace; create the TaskCallback in the execution's namespace")
	}
	exec := &kstatesv1alpha1.Execution{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, exec); err != nil {
		if apierrors.IsNotFound(err) {
			return invalid(fmt.Sprintf("the token's execution %s does not exist", name))
		}
		return ctrl.Result{}, err
	}
	// The Execution reconciler processes it (it watches TaskCallbacks).
	return ctrl.Result{}, nil
}

// adoptTaskToken: the pod (or Job) of a task with a token already exists (a reconcile
// created it and then failed to write the status, so this Step issued a new token): the pod
// holds the token its sender will present, so the engine state takes the pod's.
func (r *ExecutionReconciler) adoptTaskToken(ctx context.Context, built client.Object, t taskRef) error {
	existing := built.DeepCopyObject().(client.Object)
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(built), existing); err != nil {
		return client.IgnoreNotFound(err)
	}
	var containers []corev1.Container
	switch o := existing.(type) {
	case *corev1.Pod:
		containers = o.Spec.Containers
	case *batchv1.Job:
		containers = o.Spec.Template.Spec.Containers
	}
	for _, c := range containers {
		for _, env := range c.Env {
			if env.Name == podtask.TaskTokenEnv && env.Value != "" {
				t.thread.TaskToken = env.Value
				return nil
			}
		}
	}
	return nil
}
