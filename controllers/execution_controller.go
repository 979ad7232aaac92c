package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/podtask"
)

// Field indexes of Executions.
const (
	indexStateMachineName = "spec.stateMachineName"
)

// ExecutionReconciler advances STANDARD executions one state transition per reconcile, each
// committed to the Execution's status before the next, and runs EXPRESS executions in memory.
type ExecutionReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache, for objects this controller
	// has just created.
	APIReader client.Reader
	// Clock is the time source; tests inject a fake one.
	Clock clock.PassiveClock
	// Recorder records Kubernetes Events for lifecycle changes (nil: none).
	Recorder events.EventRecorder
	// Logs reads the output a task printed on stdout (nil: such a task fails, saying so).
	Logs TaskLogs
	// MaxHistoryEvents fails executions whose history grows beyond it (AWS's 25,000 when 0).
	MaxHistoryEvents int64
	// ExpressTimeout bounds an EXPRESS execution run in a reconcile (AWS's 5 minutes when 0).
	ExpressTimeout time.Duration
	// StepsPerReconcile is how many steps (each one transition, committed by its own status
	// write) one reconcile may take in a row while the next is a ready state with no task
	// involved. 1 (also when 0) is the design's model: one state per reconcile, the next one
	// brought by the watch event of the write. More saves that round trip per state (the
	// manager's --steps-per-reconcile; docs/benchmarks.md has the figures of both).
	StepsPerReconcile int
	// StuckPolicy bounds how long a task pod may fail to pull its image or stay unschedulable
	// before its attempt ends (kstates.ImagePullFailed, kstates.Unschedulable); zero fields
	// mean podtask's defaults, 2 and 5 minutes (the manager's --image-pull-timeout and
	// --unschedulable-timeout).
	StuckPolicy podtask.StuckPolicy

	programs programCache
	// superseded remembers the versions of each execution that this controller's own writes
	// have replaced, to recognise a cache that has not caught up with them yet.
	superseded supersededVersions
}

// SetupWithManager registers the reconciler: it watches Executions, the Pods they own, and
// StateMachines (so that an execution waiting for its StateMachine starts when it appears or
// becomes valid).
func (r *ExecutionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.StepsPerReconcile < 1 {
		r.StepsPerReconcile = 1
	}
	if r.StuckPolicy.ImagePullTimeout <= 0 {
		r.StuckPolicy.ImagePullTimeout = podtask.DefaultImagePullTimeout
	}
	if r.StuckPolicy.UnschedulableTimeout <= 0 {
		r.StuckPolicy.UnschedulableTimeout = podtask.DefaultUnschedulableTimeout
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &kstatesv1alpha1.Execution{}, indexStateMachineName,
		func(o client.Object) []string {
			return []string{o.(*kstatesv1alpha1.Execution).Spec.StateMachineName}
		}); err != nil {
		return err
	}
	if err := r.setupCallbacks(mgr); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&kstatesv1alpha1.Execution{}).
		Owns(&corev1.Pod{}).
		Owns(&batchv1.Job{}).
		Owns(&kstatesv1alpha1.Execution{}).
		Watches(&kstatesv1alpha1.StateMachine{}, handler.EnqueueRequestsFromMapFunc(r.pendingExecutionsOf)).
		Watches(&kstatesv1alpha1.TaskCallback{}, handler.EnqueueRequestsFromMapFunc(r.executionOfCallback)).
		Named("execution").
		Complete(r)
}

// pendingExecutionsOf maps a StateMachine to the executions of it that have not started.
func (r *ExecutionReconciler) pendingExecutionsOf(ctx context.Context, o client.Object) []reconcile.Request {
	list := &kstatesv1alpha1.ExecutionList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{indexStateMachineName: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "listing the executions of a state machine", "stateMachine", o.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		e := &list.Items[i]
		if !isStarted(&e.Status) && !e.Status.Phase.IsFinal() {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: e.Namespace, Name: e.Name}})
		}
	}
	return reqs
}

// Reconcile gets the execution and advances it one step: at most one transition, committed by
// its own status write before the next begins. With StepsPerReconcile above 1 it goes on from
// its own committed state (the write's answer) while the next step is a state ready to run with
// no task involved, up to that many steps and maxReconcileTime, so that a run of Pass and
// Choice states does not wait for the watch event of each write.
func (r *ExecutionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	exec := &kstatesv1alpha1.Execution{}
	if err := r.Get(ctx, req.NamespacedName, exec); err != nil {
		if apierrors.IsNotFound(err) {
			r.superseded.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !exec.DeletionTimestamp.IsZero() {
		r.superseded.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if r.superseded.isStale(req.NamespacedName, exec.ResourceVersion) {
		// A version this controller has already replaced (the previous reconcile went on
		// from its own writes): a step from it could only conflict. The watch event of the
		// newest version brings us back; the requeue is a safety net.
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	began := time.Now()
	for n := 1; ; n++ {
		s := newScope(exec, r.Clock.Now())
		res, err := r.step(ctx, exec, s)
		if err != nil || n >= r.StepsPerReconcile || !s.goesOn() || time.Since(began) > maxReconcileTime {
			return res, err
		}
	}
}

// maxReconcileTime bounds one reconcile's run of steps (StepsPerReconcile > 1): the worker then
// serves other executions (this one comes back through the watch event of its last write).
const maxReconcileTime = 100 * time.Millisecond

// goesOn reports whether the next step may follow in the same reconcile: this step's write
// succeeded (exec is then the committed version, spec included), the execution runs, states
// are ready, and no task runs (a task's pod, Job or callback is read from the cache, which is
// not yet as new as the state the write committed).
func (s *scope) goesOn() bool {
	return s.written && s.ex != nil && s.ex.Status == engine.StatusRunning && !s.status.Phase.IsFinal() &&
		len(s.ex.Queue) > 0 && s.requeueAfter == 0 && len(runningTasks(s.prog, s.ex)) == 0
}

// step runs the phases once on exec, writes the status if it changed, and does what follows
// a write.
func (r *ExecutionReconciler) step(ctx context.Context, exec *kstatesv1alpha1.Execution, s *scope) (ctrl.Result, error) {
	if err := r.reconcile(ctx, s); err != nil {
		if errors.Is(err, errStale) {
			// The cache is behind the API server; the watch event of the newer version
			// brings us back (the requeue is a safety net).
			return ctrl.Result{RequeueAfter: staleRetry}, nil
		}
		if apierrors.IsConflict(err) {
			// Someone else changed an object this step writes: the step is repeated soon
			// from fresh reads. An error would put the execution into controller-runtime's
			// exponential back-off (up to minutes).
			log.FromContext(ctx).V(1).Info("retrying the step", "reason", err.Error())
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(&exec.Status, s.status) {
		if err := r.writeStatus(ctx, exec, s.status); err != nil {
			if apierrors.IsConflict(err) {
				// A newer version exists; its watch event brings us back.
				return ctrl.Result{RequeueAfter: staleRetry}, nil
			}
			return ctrl.Result{}, err
		}
		s.written = true
		r.afterWrite(ctx, s)
	}
	r.settleCallbacks(ctx, s)
	return r.cleanup(ctx, s), nil
}

// writeStatus commits the new status as a JSON merge patch of what changed, on the condition
// that the Execution is still at the resourceVersion the status was computed from (a newer
// version is a conflict): one write of the changed fields per transition, never one that
// overwrites a state this reconcile did not see. The patch is computed from objects that hold
// only the name, the resourceVersion and the status (not twice the whole Execution), and the
// API server answers with the metadata only (it does not encode, nor the controller decode,
// the whole Execution again). exec then holds what was committed: the new status and the new
// resourceVersion.
func (r *ExecutionReconciler) writeStatus(ctx context.Context, exec *kstatesv1alpha1.Execution, status *kstatesv1alpha1.ExecutionStatus) error {
	meta := metav1.ObjectMeta{Namespace: exec.Namespace, Name: exec.Name, ResourceVersion: exec.ResourceVersion}
	base := &kstatesv1alpha1.Execution{ObjectMeta: meta, Status: exec.Status}
	next := &kstatesv1alpha1.Execution{ObjectMeta: meta, Status: *status}
	data, err := client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}).Data(next)
	if err != nil {
		return fmt.Errorf("computing the status patch: %w", err)
	}
	answer := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: exec.Namespace, Name: exec.Name}}
	answer.SetGroupVersionKind(kstatesv1alpha1.GroupVersion.WithKind("Execution"))
	if err := r.Status().Patch(ctx, answer, client.RawPatch(types.MergePatchType, data)); err != nil {
		return err
	}
	exec.Status = *status
	exec.ResourceVersion = answer.ResourceVersion
	exec.ManagedFields = answer.ManagedFields
	r.superseded.add(client.ObjectKeyFromObject(exec), meta.ResourceVersion)
	return nil
}

// supersededVersions holds, per execution, the resourceVersions its last run of steps
// replaced: from the version a reconcile read to the one before its last write. While the
// cache holds one of them it is behind this controller's own writes. Any other version is
// the newest one written or a newer one (any other writer's change would have made the next
// write conflict), and the set is forgotten.
type supersededVersions struct {
	mu   sync.Mutex
	sets map[types.NamespacedName]map[string]bool
}

func (v *supersededVersions) add(key types.NamespacedName, rv string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sets == nil {
		v.sets = map[types.NamespacedName]map[string]bool{}
	}
	if v.sets[key] == nil {
		v.sets[key] = map[string]bool{}
	}
	v.sets[key][rv] = true
}

// isStale reports whether rv is a superseded version of key, and forgets key's set otherwise
// (the cache has caught up).
func (v *supersededVersions) isStale(key types.NamespacedName, rv string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sets[key][rv] {
		return true
	}
	delete(v.sets, key)
	return false
}

func (v *supersededVersions) forget(key types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.sets, key)
}

// staleRetry is when a reconcile that found its cached Execution out of date looks again, in
// case the watch event of the newer version was already consumed.
const staleRetry = time.Second

// errStale says that the cached Execution is older than the API server's: the reconcile must
// not act on it (start a pod an older state asks for).
var errStale = errors.New("the cached execution is stale")

// conflictRetry is how soon a step that met a conflict on another object is repeated.
const conflictRetry = 50 * time.Millisecond

// confirmCurrent checks with the API server that the execution this reconcile works from is
// the latest version, before doing something a stale state must not do (creating a pod).
func (r *ExecutionReconciler) confirmCurrent(ctx context.Context, s *scope) error {
	if s.confirmed {
		return nil
	}
	latest := &metav1.PartialObjectMetadata{}
	latest.SetGroupVersionKind(kstatesv1alpha1.GroupVersion.WithKind("Execution"))
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.exec), latest); err != nil {
		return err
	}
	if latest.ResourceVersion != s.exec.ResourceVersion {
		return errStale
	}
	s.confirmed = true
	return nil
}

// reconcile runs the execution's phases, each guarded, in order.
func (r *ExecutionReconciler) reconcile(ctx context.Context, s *scope) error {
	if s.status.Phase.IsFinal() {
		return nil
	}
	if s.status.Phase == "" {
		s.status.Phase = kstatesv1alpha1.ExecutionPending
	}
	s.status.ObservedGeneration = s.exec.Generation
	if !isStarted(s.status) {
		return r.startPhase(ctx, s)
	}
	return r.runPhase(ctx, s)
}

// startPhase: an execution that has not started checks its abort request and input, resolves
// and pins its revision, and starts (or, for EXPRESS, runs to its end).
func (r *ExecutionReconciler) startPhase(ctx context.Context, s *scope) error {
	if a := s.exec.Spec.Abort; a != nil {
		s.finishUnstarted(kstatesv1alpha1.ExecutionAborted, a.Error, a.Cause)
		return nil
	}
	input, err := parseInput(s.exec.Spec.Input)
	if err != nil {
		s.finishUnstarted(kstatesv1alpha1.ExecutionFailed, engine.ErrRuntime, err.Error())
		return nil
	}
	ok, err := r.resolveRevision(ctx, s)
	if err != nil || !ok {
		return err
	}
	if s.rev.Spec.Type == kstatesv1alpha1.StateMachineTypeExpress {
		return r.runExpress(ctx, s, input)
	}
	return r.start(ctx, s, input)
}

// runPhase: a started execution loads its engine state and applies the next event (an abort,
// a finished task, ready states, or a due timer), one transition at most.
func (r *ExecutionReconciler) runPhase(ctx context.Context, s *scope) error {
	if err := r.loadRunning(ctx, s); err != nil {
		if apierrors.IsNotFound(err) || isPermanent(err) {
			s.fail(engine.ErrRuntime, err.Error())
			return nil
		}
		return err
	}
	ev, ok, err := r.nextEvent(ctx, s)
	if err != nil || !ok {
		return err
	}
	return r.advance(ctx, s, ev)
}

// nextEvent chooses what happens next, in order of precedence: the user's abort, the first
// finished task, states ready to run, a due timer.
func (r *ExecutionReconciler) nextEvent(ctx context.Context, s *scope) (engine.Event, bool, error) {
	if a := s.exec.Spec.Abort; a != nil {
		return engine.Event{Kind: engine.EventAbort, Error: a.Error, Cause: a.Cause}, true, nil
	}
	for _, t := range runningTasks(s.prog, s.ex) {
		ev, ok, err := r.checkTask(ctx, s, t)
		if err != nil || ok {
			return ev, ok, err
		}
	}
	if ev, ok, err := r.callbackEvent(ctx, s); err != nil || ok {
		return ev, ok, err
	}
	if len(s.ex.Queue) > 0 {
		return engine.Event{Kind: engine.EventContinue}, true, nil
	}
	if at, ok := s.ex.NextDeadline(); ok && !s.now.Before(at) {
		return engine.Event{Kind: engine.EventTimer}, true, nil
	}
	return engine.Event{}, false, nil
}

// advance applies one event to the engine (at most one state entered), starts the tasks it
// asks for, and puts the outcome into the status.
func (r *ExecutionReconciler) advance(ctx context.Context, s *scope, ev engine.Event) error {
	evs, actions, err := engine.Step(s.prog, s.ex, ev, s.now, r.stepEnv(s))
	if err != nil {
		s.fail(engine.ErrRuntime, err.Error())
		return nil
	}
	started := map[string]bool{}
	for _, a := range actions {
		if a.Kind == engine.ActionRunTask {
			started[a.Thread] = true
		}
	}
	if len(started) > 0 {
		if err := r.confirmCurrent(ctx, s); err != nil {
			return err
		}
		// The pod exists before the status says the task runs; creating it again after a
		// crash finds the same name.
		for _, t := range runningTasks(s.prog, s.ex) {
			if started[t.thread.ID] {
				if err := r.createTaskPod(ctx, s, t); err != nil {
					return err
				}
			}
		}
	}
	return r.record(ctx, s, evs)
}

// isPermanent reports errors that retrying cannot fix (a corrupt engine state).
func isPermanent(err error) bool {
	_, ok := err.(permanentError)
	return ok
}

type permanentError struct{ error }

// loadRunning loads the pinned revision's program and the engine state.
func (r *ExecutionReconciler) loadRunning(ctx context.Context, s *scope) error {
	// The cached revision is read without the cache's deep copy (a revision made by an older
	// operator may still carry an owner reference per execution that ran it, copied on every
	// step otherwise). The step gets its own copy of what it uses (name, spec). A revision
	// being deleted is read as any other: its finalizer keeps it while this execution exists.
	cached := &kstatesv1alpha1.StateMachineRevision{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.exec.Namespace, Name: s.status.Revision}, cached, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return permanentError{fmt.Errorf("the execution's revision %s no longer exists", s.status.Revision)}
		}
		return err
	}
	rev := &kstatesv1alpha1.StateMachineRevision{
		TypeMeta: cached.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Namespace: cached.Namespace, Name: cached.Name, UID: cached.UID,
			ResourceVersion: cached.ResourceVersion, Labels: maps.Clone(cached.Labels)},
		Spec: *cached.Spec.DeepCopy(),
	}
	s.rev = rev
	prog, err := r.programs.get(rev)
	if err != nil {
		return permanentError{err}
	}
	s.prog = prog
	ex, err := r.loadEngineState(ctx, s.exec)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		return permanentError{err}
	}
	s.ex = ex
	return nil
}
