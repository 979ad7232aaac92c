package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// IndexExecutionRevision is the cache's field index of Executions by status.revision: the
// executions that run a revision, in its namespace. StateMachineReconciler.SetupWithManager
// registers it.
const IndexExecutionRevision = "status.revision"

// revisionReleaseGrace is how long after its deletion a revision that no execution runs keeps
// its finalizer. An execution that read the revision (from its cache) just before the
// deletion commits its start (status.revision) within its reconcile, milliseconds later, and
// the index is a cache too: without the wait, the finalizer could go between the two and the
// execution would start on a revision about to disappear. The grace covers both.
const revisionReleaseGrace = 5 * time.Second

// revisionInUseRecheck is how often a revision being deleted while executions run it is
// looked at again, should the Delete event of its last execution have been missed.
const revisionInUseRecheck = time.Minute

// revisionReconciler keeps StateMachineRevisions while they are in use: every revision carries
// the finalizer kstates.io/revision-in-use, which it removes from a revision being deleted
// once no Execution runs it. An execution therefore never writes its revision; it names it in
// its own status.revision.
type revisionReconciler struct {
	client.Client
}

// indexExecutionRevision registers IndexExecutionRevision with the manager's cache.
func indexExecutionRevision(mgr ctrl.Manager) error {
	return mgr.GetFieldIndexer().IndexField(context.Background(), &kstatesv1alpha1.Execution{}, IndexExecutionRevision,
		func(o client.Object) []string {
			if rev := o.(*kstatesv1alpha1.Execution).Status.Revision; rev != "" {
				return []string{rev}
			}
			return nil
		})
}

// setupWithManager registers the reconciler: it watches revisions, and the deletion of the
// Executions that run them (which releases the revision).
func (r *revisionReconciler) setupWithManager(mgr ctrl.Manager) error {
	onlyDeletes := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&kstatesv1alpha1.StateMachineRevision{}).
		Watches(&kstatesv1alpha1.Execution{}, handler.EnqueueRequestsFromMapFunc(revisionOfExecution),
			builder.WithPredicates(onlyDeletes)).
		Named("statemachinerevision").
		Complete(r)
}

// revisionOfExecution maps an Execution to the revision it runs.
func revisionOfExecution(_ context.Context, o client.Object) []reconcile.Request {
	e, ok := o.(*kstatesv1alpha1.Execution)
	if !ok || e.Status.Revision == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: e.Namespace, Name: e.Status.Revision}}}
}

// Reconcile gives a revision its finalizer, and removes it from a revision being deleted that
// no execution runs.
func (r *revisionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := r.Get(ctx, req.NamespacedName, rev); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rev.DeletionTimestamp.IsZero() {
		// Revisions made by an operator before the finalizer existed get it here.
		if controllerutil.ContainsFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, r.patchInUseFinalizer(ctx, rev, controllerutil.AddFinalizer)
	}
	if !controllerutil.ContainsFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) {
		return ctrl.Result{}, nil
	}
	if wait := revisionReleaseGrace - time.Since(rev.DeletionTimestamp.Time); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	inUse, err := revisionInUse(ctx, r.Client, rev)
	if err != nil {
		return ctrl.Result{}, err
	}
	if inUse {
		// The Delete event of its last execution brings it back; the requeue is a safety net.
		return ctrl.Result{RequeueAfter: revisionInUseRecheck}, nil
	}
	if err := r.patchInUseFinalizer(ctx, rev, controllerutil.RemoveFinalizer); err != nil {
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).V(1).Info("released revision: no execution runs it", "revision", rev.Name)
	return ctrl.Result{}, nil
}

// patchInUseFinalizer adds or removes (controllerutil.AddFinalizer or RemoveFinalizer) the
// in-use finalizer with a JSON merge patch that carries the resourceVersion it was computed
// from (a merge patch replaces the whole list, so it must not apply to a version with other
// finalizers). The patch holds only the finalizers, whatever else the revision carries. A
// conflict or a revision gone is no error: the watch event of the newer version (or of the
// deletion) brings the revision back if anything is left to do.
func (r *revisionReconciler) patchInUseFinalizer(ctx context.Context, rev *kstatesv1alpha1.StateMachineRevision,
	change func(client.Object, string) bool) error {
	base := &kstatesv1alpha1.StateMachineRevision{ObjectMeta: metav1.ObjectMeta{
		Namespace: rev.Namespace, Name: rev.Name, ResourceVersion: rev.ResourceVersion, Finalizers: rev.Finalizers}}
	next := base.DeepCopy()
	change(next, kstatesv1alpha1.FinalizerRevisionInUse)
	err := r.Patch(ctx, next, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("setting the finalizers of revision %s: %w", rev.Name, err)
	}
	return nil
}

// revisionInUse reports whether an Execution runs the revision: one in its namespace whose
// status.revision names it (the cache's index), or one among its owners (revisions adopted by
// executions of an operator before the index).
func revisionInUse(ctx context.Context, c client.Reader, rev *kstatesv1alpha1.StateMachineRevision) (bool, error) {
	if ownedByExecution(rev) {
		return true, nil
	}
	list := &kstatesv1alpha1.ExecutionList{}
	if err := c.List(ctx, list, client.InNamespace(rev.Namespace), client.MatchingFields{IndexExecutionRevision: rev.Name},
		client.Limit(1), client.UnsafeDisableDeepCopy); err != nil {
		return false, fmt.Errorf("listing the executions of revision %s: %w", rev.Name, err)
	}
	return len(list.Items) > 0, nil
}

// ownedByExecution reports whether an Execution is among the revision's owners: operators
// before the status.revision index made every execution an owner of its revision.
func ownedByExecution(rev *kstatesv1alpha1.StateMachineRevision) bool {
	for _, o := range rev.OwnerReferences {
		if o.Kind == "Execution" {
			return true
		}
	}
	return false
}
